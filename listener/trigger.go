package listener

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/tether-go/tether/expr"
)

// MinIdempotencyWindow is the shortest IdempotencyWindow a trigger
// accepts. Providers retry within minutes, so a shorter window would let
// retries start runs twice.
const MinIdempotencyWindow = 10 * time.Minute

// TriggerListener is an http-trigger listener: each request starts one
// workflow run, or one per item in bulk mode, and gets a reply with
// the run ids at once. All methods are safe for concurrent use.
type TriggerListener struct {
	core *core
}

var _ Listener = (*TriggerListener)(nil)

// NewTrigger compiles cfg's templates and returns a listener that starts
// runs through s. It returns an error wrapping [ErrInvalidConfig] that
// names the field for any configuration mistake. opts may be nil.
func NewTrigger(cfg TriggerConfig, s Starter, opts *Options) (*TriggerListener, error) {
	if s == nil {
		return nil, invalid("starter", "missing; pass the Starter that starts workflow runs")
	}
	if len(cfg.Triggers) == 0 {
		return nil, invalid("triggers", "missing; set path and workflow, or list the endpoints under triggers")
	}
	host, port := cfg.Host, cfg.Port
	if host == "" {
		host = DefaultHost
	}
	if port == 0 {
		port = DefaultTriggerPort
	}
	c, err := newCore("http-trigger", host, port, cfg.MaxConcurrentCount, cfg.Limits, opts)
	if err != nil {
		return nil, err
	}
	for i, tr := range cfg.Triggers {
		field := fmt.Sprintf("triggers[%d]", i)
		ep, method, err := newTriggerEndpoint(c, field, cfg.BasePath, tr, s)
		if err != nil {
			return nil, err
		}
		if err := c.addRoute(field, cfg.BasePath, tr.Path, method, ep); err != nil {
			return nil, err
		}
	}
	return &TriggerListener{core: c}, nil
}

// ServeHTTP handles one trigger request. To mount the listener under a
// prefix on another mux, strip the prefix first, as in
// mux.Handle("/hooks/", http.StripPrefix("/hooks", l)).
func (l *TriggerListener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.core.ServeHTTP(w, r)
}

// Start binds the configured host and port and serves in the
// background. It returns once the port is bound, or ErrStarted or
// ErrClosed.
func (l *TriggerListener) Start(ctx context.Context) error { return l.core.start(ctx, l) }

// StartOn serves on ln in the background, for hosts that bring their own
// listener, such as a tunnel. The listener closes ln when it stops.
func (l *TriggerListener) StartOn(ln net.Listener) error { return l.core.startOn(ln, l) }

// Addr returns the address the server is bound to, or nil before Start.
func (l *TriggerListener) Addr() net.Addr { return l.core.addr() }

// Shutdown stops accepting connections, replies 503 to requests that
// still arrive on open connections, and waits for in-flight requests to
// finish or ctx to end. It also works for a mounted listener without its
// own server. Later calls return ErrClosed.
func (l *TriggerListener) Shutdown(ctx context.Context) error { return l.core.shutdownServer(ctx) }

// Close stops the server at once and closes open connections. It may
// follow a Shutdown whose ctx ended. A second Close returns ErrClosed.
func (l *TriggerListener) Close() error { return l.core.close() }

// triggerEndpoint is one compiled Trigger.
type triggerEndpoint struct {
	endpointBase
	starter  Starter
	workflow string
	input    *expr.Template
	idemKey  *expr.Template // nil means no idempotency check
	idem     *idempotencyStore
}

func newTriggerEndpoint(c *core, field, basePath string, tr Trigger, s Starter) (*triggerEndpoint, string, error) {
	method, err := normalizeMethod(field, tr.Method)
	if err != nil {
		return nil, "", err
	}
	if strings.TrimSpace(tr.Workflow) == "" {
		return nil, "", invalid(field+".workflow", "missing; set the id of the workflow to start")
	}
	p, err := lookupPreset(field, tr.Preset)
	if err != nil {
		return nil, "", err
	}
	ep := &triggerEndpoint{starter: s, workflow: tr.Workflow}
	responses := append(slices.Clone(tr.Responses), p.responses...)
	rp := tr.Reply
	if rp == nil {
		rp = p.triggerReply
	}
	fullPath := path.Join("/", basePath, tr.Path)
	if err := ep.init(c, field, fullPath, tr.Bulk, tr.Item, tr.Verify, responses, rp); err != nil {
		return nil, "", err
	}
	input := tr.Input
	if input == nil {
		input = "${body}"
		if tr.Bulk {
			input = "${item}"
		}
	}
	if ep.input, err = expr.CompileValue(input); err != nil {
		return nil, "", &ConfigError{Field: field + ".input", Err: err}
	}

	key := tr.IdempotencyKey
	if key == "" {
		key = p.idempotencyKey
	}
	window := tr.IdempotencyWindow
	switch {
	case window == 0:
		window = DefaultIdempotencyWindow
	case window < MinIdempotencyWindow:
		return nil, "", invalid(field+".idempotency_window", "%s is shorter than the minimum of %s", window, MinIdempotencyWindow)
	}
	if ep.idemKey, err = compileOptional(field+".idempotency_key", key); err != nil {
		return nil, "", err
	}
	if ep.idemKey != nil {
		ep.idem = newIdempotencyStore(window, c.limits.IdempotencyMaxKeys, c.clock)
	}
	return ep, method, nil
}

// runEntry reports one started run, or why an item did not start.
type runEntry struct {
	TaskID string `json:"task_id,omitempty"`
	Status string `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
}

func (e runEntry) value() any {
	if e.Error != "" {
		return map[string]any{"error": e.Error}
	}
	return map[string]any{"task_id": e.TaskID, "status": e.Status}
}

// startFailedMessage is the reply to a run that the Starter could not
// start. The Starter's error is logged instead of sent.
const startFailedMessage = "could not start the workflow run; retry later"

// replayedHeader marks a reply repeated for a known idempotency key.
const replayedHeader = "Idempotent-Replayed"

func (ep *triggerEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	q := ep.prepare(w, r)
	if q == nil {
		return
	}
	defer ep.core.release()

	if ep.idemKey == nil {
		ep.start(w, r, q)
		return
	}
	key, err := ep.idemKey.EvalString(q)
	if err != nil {
		ep.core.observeTrigger(ep.path, ResultRejected)
		ep.evalFailed(w, "idempotency_key", err)
		return
	}
	if key == "" {
		ep.start(w, r, q)
		return
	}

	entry, first, replay := ep.idem.begin(r.Context(), key)
	if replay != nil {
		ep.core.logger.Debug("listener: repeated idempotency key; nothing started", "endpoint", ep.field, "key", key)
		w.Header().Set(replayedHeader, "true")
		ep.core.observeTrigger(ep.path, ResultReplayed)
		replay.write(w)
		return
	}
	if !first {
		ep.core.observeTrigger(ep.path, ResultRejected)
		ep.core.writeUnavailable(w, "request gave up waiting for an earlier delivery with the same idempotency key")
		return
	}

	var sent *reply
	defer func() {
		if sent != nil && sent.status < 300 {
			ep.idem.complete(entry, sent)
		} else {
			ep.idem.abandon(entry)
		}
	}()
	sent = ep.start(w, r, q)
}

// start starts the runs and writes the reply, which it returns; it
// returns nil when nothing was started.
func (ep *triggerEndpoint) start(w http.ResponseWriter, r *http.Request, q *request) *reply {
	// Runs outlive the request, so a client that disconnects must not
	// cancel a start half-way through a bulk request.
	ctx := context.WithoutCancel(r.Context())
	if !ep.bulk {
		input, err := ep.input.Eval(q)
		if err != nil {
			ep.core.observeTrigger(ep.path, ResultRejected)
			ep.evalFailed(w, "input", err)
			return nil
		}
		info, err := ep.starter.StartRun(ctx, ep.workflow, input)
		if err != nil {
			// The error may name internal addresses, so only the log has it.
			ep.core.logger.Error("listener: start workflow",
				"endpoint", ep.field, "path", ep.path, "workflow", ep.workflow, "error", err)
			ep.core.observeTrigger(ep.path, ResultRejected)
			ep.core.writeUnavailable(w, startFailedMessage)
			return nil
		}
		ep.core.observeTrigger(ep.path, ResultStarted)
		ep.core.logger.Debug("listener: run started", "endpoint", ep.field, "workflow", ep.workflow, "task_id", info.ID)
		entry := runEntry{TaskID: info.ID, Status: info.Status}
		return ep.finish(w, q, jsonReply(http.StatusOK, entry), entry.value())
	}

	items, rerr := ep.items(q)
	if rerr != nil {
		ep.core.observeTrigger(ep.path, ResultRejected)
		writeError(w, rerr.status, rerr.msg)
		return nil
	}
	entries := make([]runEntry, len(items))
	values := make([]any, len(items))
	for i, item := range items {
		entries[i] = ep.startItem(ctx, i, item)
		values[i] = entries[i].value()
	}
	return ep.finish(w, q, jsonReply(http.StatusOK, entries), values)
}

func (ep *triggerEndpoint) startItem(ctx context.Context, i int, q *request) runEntry {
	input, err := ep.input.Eval(q)
	if err != nil {
		ep.core.observeTrigger(ep.path, ResultRejected)
		return runEntry{Error: "evaluate input: " + evalReason(err)}
	}
	info, err := ep.starter.StartRun(ctx, ep.workflow, input)
	if err != nil {
		ep.core.logger.Error("listener: start workflow",
			"endpoint", ep.field, "path", ep.path, "workflow", ep.workflow, "item", i, "error", err)
		ep.core.observeTrigger(ep.path, ResultRejected)
		return runEntry{Error: startFailedMessage}
	}
	ep.core.observeTrigger(ep.path, ResultStarted)
	ep.core.logger.Debug("listener: run started", "endpoint", ep.field, "workflow", ep.workflow, "item", i, "task_id", info.ID)
	return runEntry{TaskID: info.ID, Status: info.Status}
}
