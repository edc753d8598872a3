package listener

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/tether-go/tether/expr"
	"github.com/tether-go/tether/waiter"
)

// CallbackListener is an http-callback listener: it turns each request
// into an outcome and hands it to a [waiter.Waiter] under the id that
// IdentifyBy selects. All methods are safe for concurrent use.
type CallbackListener struct {
	core *core
}

var _ Listener = (*CallbackListener)(nil)

// NewCallback compiles cfg's templates and returns a listener that
// delivers to w. It returns an error wrapping [ErrInvalidConfig] that
// names the field for any configuration mistake. opts may be nil.
func NewCallback(cfg CallbackConfig, w waiter.Waiter, opts *Options) (*CallbackListener, error) {
	if w == nil {
		return nil, invalid("waiter", "missing; pass the waiter.Waiter that workflows wait on")
	}
	if len(cfg.Callbacks) == 0 {
		return nil, invalid("callbacks", "missing; set path, or list the endpoints under callbacks")
	}
	host, port := cfg.Host, cfg.Port
	if host == "" {
		host = DefaultHost
	}
	if port == 0 {
		port = DefaultCallbackPort
	}
	c, err := newCore("http-callback", host, port, cfg.MaxConcurrentCount, cfg.Limits, opts)
	if err != nil {
		return nil, err
	}
	for i, cb := range cfg.Callbacks {
		field := fmt.Sprintf("callbacks[%d]", i)
		ep, method, err := newCallbackEndpoint(c, field, cfg.BasePath, cb, w)
		if err != nil {
			return nil, err
		}
		if err := c.addRoute(field, cfg.BasePath, cb.Path, method, ep); err != nil {
			return nil, err
		}
	}
	return &CallbackListener{core: c}, nil
}

// ServeHTTP handles one callback. To mount the listener under a prefix
// on another mux, strip the prefix first, as in
// mux.Handle("/hooks/", http.StripPrefix("/hooks", l)).
func (l *CallbackListener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.core.ServeHTTP(w, r)
}

// Start binds the configured host and port and serves in the
// background. It returns once the port is bound, or ErrStarted or
// ErrClosed.
func (l *CallbackListener) Start(ctx context.Context) error { return l.core.start(ctx, l) }

// StartOn serves on ln in the background, for hosts that bring their own
// listener, such as a tunnel. The listener closes ln when it stops.
func (l *CallbackListener) StartOn(ln net.Listener) error { return l.core.startOn(ln, l) }

// Addr returns the address the server is bound to, or nil before Start.
func (l *CallbackListener) Addr() net.Addr { return l.core.addr() }

// Shutdown stops accepting connections, replies 503 to requests that
// still arrive on open connections, and waits for in-flight requests to
// finish or ctx to end. It also works for a mounted listener without its
// own server. Later calls return ErrClosed.
func (l *CallbackListener) Shutdown(ctx context.Context) error { return l.core.shutdownServer(ctx) }

// Close stops the server at once and closes open connections. It may
// follow a Shutdown whose ctx ended. A second Close returns ErrClosed.
func (l *CallbackListener) Close() error { return l.core.close() }

// callbackEndpoint is one compiled Callback.
type callbackEndpoint struct {
	endpointBase
	waiter      waiter.Waiter
	identifyBy  *expr.Template // nil means DefaultCallbackID
	status      *expr.Template // nil means every callback succeeds
	successWhen []string
	failWhen    []string
	result      *expr.Template
	payload     *expr.Template // the whole body or item, kept on failure
}

func newCallbackEndpoint(c *core, field, basePath string, cb Callback, w waiter.Waiter) (*callbackEndpoint, string, error) {
	method, err := normalizeMethod(field, cb.Method)
	if err != nil {
		return nil, "", err
	}
	p, err := lookupPreset(field, cb.Preset)
	if err != nil {
		return nil, "", err
	}

	ep := &callbackEndpoint{waiter: w, successWhen: cb.SuccessWhen, failWhen: cb.FailWhen}
	responses := append(slices.Clone(cb.Responses), p.responses...)
	fullPath := path.Join("/", basePath, cb.Path)
	if err := ep.init(c, field, fullPath, cb.Bulk, cb.Item, cb.Verify, responses, cb.Reply); err != nil {
		return nil, "", err
	}

	whole := "${body}"
	if cb.Bulk {
		whole = "${item}"
	}
	if ep.identifyBy, err = compileOptional(field+".identify_by", cb.IdentifyBy); err != nil {
		return nil, "", err
	}
	if ep.status, err = compileOptional(field+".status", cb.Status); err != nil {
		return nil, "", err
	}
	if ep.status == nil && (len(cb.SuccessWhen) > 0 || len(cb.FailWhen) > 0) {
		return nil, "", invalid(field+".status", "missing, but success_when or fail_when is set; set status, such as ${body.status}")
	}
	result := cb.Result
	if result == nil {
		result = whole
	}
	if ep.result, err = expr.CompileValue(result); err != nil {
		return nil, "", &ConfigError{Field: field + ".result", Err: err}
	}
	if ep.payload, err = expr.Compile(whole); err != nil {
		return nil, "", &ConfigError{Field: field, Err: err}
	}
	return ep, method, nil
}

func compileOptional(field, text string) (*expr.Template, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	t, err := expr.Compile(text)
	if err != nil {
		return nil, &ConfigError{Field: field, Err: err}
	}
	return t, nil
}

// callbackEntry reports what happened to one outcome.
type callbackEntry struct {
	ID     string `json:"id,omitempty"`
	Status string `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Values of callbackEntry.Status besides the waiter's delivery results.
const statusIgnored = "ignored"

func (e callbackEntry) value() any {
	if e.Error != "" {
		return map[string]any{"error": e.Error}
	}
	return map[string]any{"id": e.ID, "status": e.Status}
}

func (ep *callbackEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	q := ep.prepare(w, r)
	if q == nil {
		return
	}
	defer ep.core.release()
	ctx := r.Context()
	if !ep.bulk {
		entry, rerr, err := ep.deliver(ctx, q)
		if rerr != nil {
			ep.core.observeCallback(ep.path, ResultRejected)
			writeError(w, rerr.status, rerr.msg)
			return
		}
		if err != nil {
			ep.core.observeCallback(ep.path, ResultRejected)
			ep.deliveryFailed(w, entry.ID, err)
			return
		}
		ep.core.observeCallback(ep.path, Result(entry.Status))
		ep.finish(w, q, jsonReply(http.StatusOK, entry), entry.value())
		return
	}

	items, rerr := ep.items(q)
	if rerr != nil {
		ep.core.observeCallback(ep.path, ResultRejected)
		writeError(w, rerr.status, rerr.msg)
		return
	}
	entries := make([]callbackEntry, len(items))
	values := make([]any, len(items))
	for i, item := range items {
		entry, rerr, err := ep.deliver(ctx, item)
		if err != nil {
			// Outcomes delivered so far come back as duplicates when the
			// sender retries the whole batch.
			ep.core.observeCallback(ep.path, ResultRejected)
			ep.deliveryFailed(w, entry.ID, err)
			return
		}
		if rerr != nil {
			entry = callbackEntry{Error: rerr.msg}
			ep.core.observeCallback(ep.path, ResultRejected)
		} else {
			ep.core.observeCallback(ep.path, Result(entry.Status))
		}
		entries[i], values[i] = entry, entry.value()
	}
	ep.finish(w, q, jsonReply(http.StatusOK, entries), values)
}

// deliver evaluates the templates for one outcome and hands it to the
// waiter. A *requestError means the request's data is at fault; an error
// means the waiter failed.
func (ep *callbackEndpoint) deliver(ctx context.Context, q *request) (callbackEntry, *requestError, error) {
	id := DefaultCallbackID
	if ep.identifyBy != nil {
		v, err := ep.identifyBy.Eval(q)
		if err != nil {
			return callbackEntry{}, badRequest("evaluate identify_by: %s", evalReason(err)), nil
		}
		text, kind := idText(v)
		if kind != "" {
			return callbackEntry{}, badRequest("callback id is %s: identify_by %s must give a string or a number", kind, ep.identifyBy.String()), nil
		}
		if text == "" {
			return callbackEntry{}, badRequest("callback id is missing: identify_by %s is empty for this request", ep.identifyBy.String()), nil
		}
		id = text
	}

	outcome := waiter.Outcome{}
	if ep.status != nil {
		status, err := ep.status.EvalString(q)
		if err != nil {
			return callbackEntry{ID: id}, badRequest("evaluate status: %s", evalReason(err)), nil
		}
		outcome.Status = status
		switch {
		case slices.Contains(ep.failWhen, status):
			outcome.Failed = true
		case len(ep.successWhen) == 0 || slices.Contains(ep.successWhen, status):
		default:
			ep.core.logger.Debug("listener: callback ignored", "endpoint", ep.field, "id", id, "status", status)
			return callbackEntry{ID: id, Status: statusIgnored}, nil, nil
		}
	}

	var err error
	if outcome.Failed {
		if outcome.Payload, err = ep.payload.Eval(q); err != nil {
			return callbackEntry{ID: id}, badRequest("evaluate payload: %s", evalReason(err)), nil
		}
	} else if outcome.Result, err = ep.result.Eval(q); err != nil {
		return callbackEntry{ID: id}, badRequest("evaluate result: %s", evalReason(err)), nil
	}

	delivery, err := ep.waiter.Deliver(ctx, id, outcome)
	if err != nil {
		return callbackEntry{ID: id}, nil, err
	}
	ep.core.logger.Debug("listener: callback delivered", "endpoint", ep.field, "id", id, "delivery", delivery.String(), "failed", outcome.Failed)
	return callbackEntry{ID: id, Status: delivery.String()}, nil, nil
}

// idText returns the text form of an id value: a string as it is, and a
// number as expr writes it, an integer with every digit. For any other
// value it returns what the value is, such as "an object", because its
// text form could collide with a real id.
func idText(v any) (text, kind string) {
	switch x := v.(type) {
	case nil:
		return "", ""
	case string:
		return x, ""
	case int64, float64, json.Number:
		return expr.Stringify(x), ""
	case bool:
		return "", "a boolean"
	case map[string]any:
		return "", "an object"
	case []any:
		return "", "an array"
	}
	return "", "neither a string nor a number"
}

func (ep *callbackEndpoint) deliveryFailed(w http.ResponseWriter, id string, err error) {
	if errors.Is(err, waiter.ErrFull) {
		ep.core.warn.log("listener: callback rejected: waiter is full", "endpoint", ep.field, "id", id)
		ep.core.writeUnavailable(w, "too many undelivered callbacks; retry later")
		return
	}
	ep.core.logger.Error("listener: deliver callback", "endpoint", ep.field, "id", id, "error", err)
	ep.core.writeUnavailable(w, "callback could not be delivered; retry later")
}
