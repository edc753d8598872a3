package listener

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tether-go/tether/clock"
	"github.com/tether-go/tether/expr"
)

// reply is a finished HTTP reply. Trigger endpoints keep it to send
// again for a repeated idempotency key.
type reply struct {
	status      int
	contentType string
	header      http.Header // extra headers from templates; may be nil
	body        []byte
}

func (rp *reply) write(w http.ResponseWriter) {
	h := w.Header()
	for name, values := range rp.header {
		h[name] = values
	}
	if len(rp.body) > 0 {
		h.Set("Content-Type", rp.contentType)
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(rp.status)
	w.Write(rp.body)
}

func jsonReply(status int, v any) *reply {
	data, err := json.Marshal(v)
	if err != nil {
		data, _ = json.Marshal(errorBody{Error: "encode reply: " + err.Error()})
		status = http.StatusInternalServerError
	}
	return &reply{status: status, contentType: "application/json", body: append(data, '\n')}
}

type errorBody struct {
	Error string `json:"error"`
}

// writeError sends {"error": msg}. msg must not contain request data.
func writeError(w http.ResponseWriter, status int, msg string) {
	jsonReply(status, errorBody{Error: msg}).write(w)
}

// request is the expr.Resolver of one request: body, query, header and,
// in bulk mode, item. Other names go to the host's sources.
type request struct {
	raw     []byte // the JSON body; nil when the body is not JSON
	body    expr.Value
	query   expr.Value
	header  expr.Value
	item    expr.Value
	hasItem bool
	output  expr.Value
	hasOut  bool
	extra   expr.Resolver
}

func newRequest(r *http.Request, b body, extra expr.Resolver) *request {
	q := &request{
		query:  expr.Of(r.URL.Query()),
		header: expr.Of(r.Header),
		extra:  extra,
	}
	if b.raw != nil {
		q.raw = b.raw
		q.body = expr.JSON(b.raw)
	} else {
		q.body = expr.Of(b.value)
	}
	return q
}

// Resolve returns the named source.
func (q *request) Resolve(name string) (expr.Value, bool) {
	switch name {
	case "body":
		return q.body, true
	case "query":
		return q.query, true
	case "header":
		return q.header, true
	case "item":
		return q.item, q.hasItem
	case "output":
		return q.output, q.hasOut
	}
	if q.extra == nil {
		return expr.Value{}, false
	}
	return q.extra.Resolve(name)
}

// withItem returns a copy of q that resolves "item" to item.
func (q *request) withItem(item expr.Value) *request {
	c := *q
	c.item = item
	c.hasItem = true
	return &c
}

// compiledResponse is a Response with compiled templates.
type compiledResponse struct {
	when   *expr.Template
	equals []string
	reply  compiledReply
}

// compiledReply is a Reply or a Response's reply part.
type compiledReply struct {
	status  int
	body    *expr.Template // nil keeps the listener's body
	headers map[string]*expr.Template
}

func compileResponses(field string, responses []Response) ([]compiledResponse, error) {
	out := make([]compiledResponse, 0, len(responses))
	for i, resp := range responses {
		name := fmt.Sprintf("%s.responses[%d]", field, i)
		if strings.TrimSpace(resp.When) == "" {
			return nil, invalid(name+".when", "missing; set the condition, such as ${body.type}")
		}
		when, err := expr.Compile(resp.When)
		if err != nil {
			return nil, &ConfigError{Field: name + ".when", Err: err}
		}
		rp, err := compileReply(name, &Reply{Status: resp.Status, Body: resp.Body, Headers: resp.Headers})
		if err != nil {
			return nil, err
		}
		if rp.status == 0 {
			rp.status = http.StatusOK
		}
		out = append(out, compiledResponse{when: when, equals: resp.Equals, reply: *rp})
	}
	return out, nil
}

func compileReply(field string, rp *Reply) (*compiledReply, error) {
	if rp == nil {
		return nil, nil
	}
	if rp.Status != 0 && (rp.Status < 200 || rp.Status > 599) {
		return nil, invalid(field+".status", "%d is not an HTTP status code from 200 to 599", rp.Status)
	}
	out := &compiledReply{status: rp.Status}
	if rp.Body != nil {
		t, err := expr.CompileValue(rp.Body)
		if err != nil {
			return nil, &ConfigError{Field: field + ".body", Err: err}
		}
		out.body = t
	}
	for name, text := range rp.Headers {
		canonical := http.CanonicalHeaderKey(name)
		if !validHeaderName(canonical) {
			return nil, invalid(field+".headers", "%q is not a valid header name", name)
		}
		t, err := expr.Compile(text)
		if err != nil {
			return nil, &ConfigError{Field: field + ".headers." + name, Err: err}
		}
		if out.headers == nil {
			out.headers = make(map[string]*expr.Template)
		}
		out.headers[canonical] = t
	}
	return out, nil
}

func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", r) {
			return false
		}
	}
	return true
}

// match reports whether the response applies to q.
func (cr *compiledResponse) match(q expr.Resolver) (bool, error) {
	v, err := cr.when.Eval(q)
	if err != nil {
		return false, err
	}
	if len(cr.equals) > 0 {
		return slices.Contains(cr.equals, expr.Stringify(v)), nil
	}
	return truthy(v), nil
}

func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		return v != ""
	case float64:
		return v != 0
	case int:
		return v != 0
	case int64:
		return v != 0
	case json.Number:
		return v.String() != "0"
	}
	return true
}

// render builds the reply. def is the listener's own reply; its value
// is "output" in templates, and it is used where the template sets
// nothing.
func (cr *compiledReply) render(q *request, def *reply, defValue any) (*reply, error) {
	out := &reply{status: def.status, contentType: def.contentType, body: def.body}
	if cr.status != 0 {
		out.status = cr.status
	}
	resolver := q
	if cr.body != nil || len(cr.headers) > 0 {
		c := *q
		c.output, c.hasOut = expr.Of(defValue), true
		resolver = &c
	}
	if cr.body != nil {
		v, err := cr.body.Eval(resolver)
		if err != nil {
			return nil, fmt.Errorf("evaluate reply body: %w", err)
		}
		switch v := v.(type) {
		case nil:
			out.body = nil
		case string:
			out.contentType = "text/plain; charset=utf-8"
			out.body = []byte(v)
		default:
			// Marshal fails for values JSON cannot hold, such as an
			// infinite number computed from the request's data.
			data, err := json.Marshal(v)
			if err != nil {
				return nil, fmt.Errorf("encode reply body: %w", err)
			}
			out.contentType, out.body = "application/json", append(data, '\n')
		}
	}
	for name, t := range cr.headers {
		v, err := t.EvalString(resolver)
		if err != nil {
			return nil, fmt.Errorf("evaluate reply header %s: %w", name, err)
		}
		if out.header == nil {
			out.header = make(http.Header)
		}
		out.header.Set(name, strings.Map(dropControl, v))
	}
	return out, nil
}

func dropControl(r rune) rune {
	if r < ' ' || r == 0x7f {
		return -1
	}
	return r
}

// warnLimiter logs warnings about rejected requests, at most
// warnBurst per second, and then reports how many it suppressed.
type warnLimiter struct {
	logger *slog.Logger
	clock  clock.Clock

	mu         sync.Mutex // guards window, count and suppressed
	window     time.Time
	count      int
	suppressed int
}

const warnBurst = 10

func newWarnLimiter(logger *slog.Logger, c clock.Clock) *warnLimiter {
	return &warnLimiter{logger: logger, clock: c}
}

func (l *warnLimiter) log(msg string, args ...any) {
	now := l.clock.Now()
	l.mu.Lock()
	suppressed := 0
	if now.Sub(l.window) >= time.Second {
		suppressed = l.suppressed
		l.window, l.count, l.suppressed = now, 0, 0
	}
	l.count++
	allowed := l.count <= warnBurst
	if !allowed {
		l.suppressed++
	}
	l.mu.Unlock()
	if suppressed > 0 {
		l.logger.Warn("listener: suppressed repeated warnings", "count", suppressed)
	}
	if allowed {
		l.logger.Warn(msg, args...)
	}
}
