package tethertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Default request fields and callback body of a Provider.
const (
	// DefaultTaskIDField is the request body field that carries the task
	// id. A request without it gets a generated id, "task-1", "task-2"...
	DefaultTaskIDField = "task_id"
	// DefaultCallbackURLField is the request body field that carries the
	// URL the provider posts its callbacks to.
	DefaultCallbackURLField = "callback_url"
)

// When is the moment a Provider sends a task's callbacks at.
type When int

const (
	// AfterResponse sends the callbacks in the background once the
	// response, 202 by default, has been written.
	AfterResponse When = iota
	// BeforeResponse sends the callbacks, and waits for each reply,
	// before the response is written: the callback overtakes the 202.
	BeforeResponse
	// OnRelease holds the callbacks until the test calls
	// Provider.Release, for callbacks that arrive late, for example
	// after the job's timeout.
	OnRelease
)

// String returns the constant's name.
func (w When) String() string {
	switch w {
	case AfterResponse:
		return "AfterResponse"
	case BeforeResponse:
		return "BeforeResponse"
	case OnRelease:
		return "OnRelease"
	}
	return "When(" + strconv.Itoa(int(w)) + ")"
}

// Callback is one callback request a Provider sends for a task. Its
// JSON body is
//
//	{"task_id": "<id>", "status": "<Status>", "output": <Output>, "error": "<Error>"}
//
// with empty fields left out, unless Body is set.
type Callback struct {
	// Status is the task's status, such as "processing", "completed" or
	// "failed".
	Status string
	// Output is the task's result.
	Output any
	// Error is the reason a failed task gives.
	Error string
	// Body, when not nil, returns the whole JSON body for the task id,
	// for providers whose callbacks have another shape.
	Body func(taskID string) any
}

func (c Callback) body(taskID string) any {
	if c.Body != nil {
		return c.Body(taskID)
	}
	m := map[string]any{"task_id": taskID}
	if c.Status != "" {
		m["status"] = c.Status
	}
	if c.Output != nil {
		m["output"] = c.Output
	}
	if c.Error != "" {
		m["error"] = c.Error
	}
	return m
}

// Behavior scripts what a Provider does with each task: the response it
// gives and the callbacks it sends, in order. Build one with Complete,
// Fail or Never, and change it with Early, Late, Duplicated and
// OutOfOrder:
//
//	tethertest.Complete(map[string]any{"url": "https://..."}).Early().Duplicated()
type Behavior struct {
	// Callbacks are sent in order, each after the reply to the one
	// before.
	Callbacks []Callback
	// When selects the moment the callbacks are sent.
	When When
	// Status is the response status. Zero means 202 Accepted.
	Status int
	// Response, when not nil, returns the JSON response body for a
	// request. Nil means {"task_id": "<id>", "status": "accepted"}.
	Response func(r Request) any
}

// Complete returns a behavior that reports "processing" and then
// "completed" with output.
func Complete(output any) Behavior {
	return Behavior{Callbacks: []Callback{{Status: "processing"}, {Status: "completed", Output: output}}}
}

// Fail returns a behavior that reports "failed" with reason.
func Fail(reason string) Behavior {
	return Behavior{Callbacks: []Callback{{Status: "failed", Error: reason}}}
}

// Never returns a behavior that accepts the task and never calls back.
func Never() Behavior { return Behavior{} }

// Early returns b with its callbacks sent before the response.
func (b Behavior) Early() Behavior {
	b.When = BeforeResponse
	return b
}

// Late returns b with its callbacks held until Provider.Release.
func (b Behavior) Late() Behavior {
	b.When = OnRelease
	return b
}

// Duplicated returns b with its last callback sent twice.
func (b Behavior) Duplicated() Behavior {
	if len(b.Callbacks) == 0 {
		return b
	}
	b.Callbacks = append(slices.Clone(b.Callbacks), b.Callbacks[len(b.Callbacks)-1])
	return b
}

// OutOfOrder returns b with its callbacks in reverse order, so that
// "completed" comes before "processing".
func (b Behavior) OutOfOrder() Behavior {
	b.Callbacks = slices.Clone(b.Callbacks)
	slices.Reverse(b.Callbacks)
	return b
}

// Request is one task request a Provider received.
type Request struct {
	// Method and Path are the request's method and URL path.
	Method string
	Path   string
	// Header is the request's header.
	Header http.Header
	// Body is the JSON body, decoded; nil when the body was empty or
	// not JSON.
	Body map[string]any
	// TaskID is the task id from the body, or the generated one.
	TaskID string
	// CallbackURL is the callback URL from the body.
	CallbackURL string
}

// Reply is the outcome of one callback request: the listener's reply
// or the error that prevented one.
type Reply struct {
	// TaskID is the task the callback was for.
	TaskID string
	// Callback is the callback sent.
	Callback Callback
	// StatusCode is the HTTP status of the reply; zero when the request
	// failed.
	StatusCode int
	// Status is the "status" field of a JSON reply, which an
	// http-callback listener sets to "delivered", "stored", "duplicate"
	// or "ignored".
	Status string
	// Body is the reply body.
	Body string
	// Err is the error of a request that got no reply.
	Err error
}

// ProviderOption configures NewProvider.
type ProviderOption func(*Provider)

// WithTaskIDField sets the request body field that carries the task id.
func WithTaskIDField(name string) ProviderOption {
	return func(p *Provider) { p.taskIDField = name }
}

// WithCallbackURLField sets the request body field that carries the
// callback URL.
func WithCallbackURLField(name string) ProviderOption {
	return func(p *Provider) { p.callbackField = name }
}

// Provider is a fake asynchronous API on 127.0.0.1: it accepts a task,
// replies 202 and sends callbacks as its Behavior scripts. It reads the task
// id and the callback URL from the JSON request body (fields task_id
// and callback_url by default) and posts JSON callbacks to that URL.
//
// The provider is closed when the test ends: callbacks not yet sent are
// dropped and the server stops. All methods are safe for concurrent
// use.
type Provider struct {
	// URL is the provider's base URL, "http://127.0.0.1:PORT".
	URL string

	t             testing.TB
	srv           *httptest.Server
	client        *http.Client
	ctx           context.Context
	cancel        context.CancelFunc
	wg            sync.WaitGroup // tracks background callback senders
	taskIDField   string
	callbackField string

	mu       sync.Mutex // guards the fields below
	behavior Behavior
	requests []Request
	replies  []Reply
	held     []heldTask
	nextID   int
	changed  chan struct{} // closed and replaced when requests or replies change
}

type heldTask struct {
	req       Request
	callbacks []Callback
}

// NewProvider starts a provider with the behavior b on a free 127.0.0.1
// port and registers its Close with t.Cleanup.
func NewProvider(t testing.TB, b Behavior, opts ...ProviderOption) *Provider {
	t.Helper()
	p := &Provider{
		t:             t,
		behavior:      b,
		taskIDField:   DefaultTaskIDField,
		callbackField: DefaultCallbackURLField,
		changed:       make(chan struct{}),
	}
	for _, o := range opts {
		o(p)
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.srv = httptest.NewServer(http.HandlerFunc(p.serveTask))
	p.client = p.srv.Client()
	p.URL = p.srv.URL
	t.Cleanup(p.Close)
	return p
}

// SetBehavior replaces the behavior for the requests that arrive from
// now on.
func (p *Provider) SetBehavior(b Behavior) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.behavior = b
}

// Close stops sending callbacks, waits for the senders to return and
// stops the server. A second Close does nothing.
func (p *Provider) Close() {
	p.cancel()
	p.wg.Wait()
	p.srv.Close()
}

func (p *Provider) serveTask(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()}
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &req.Body); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "decode body as a JSON object: " + err.Error()})
			return
		}
	}
	req.TaskID, _ = req.Body[p.taskIDField].(string)
	req.CallbackURL, _ = req.Body[p.callbackField].(string)

	p.mu.Lock()
	b := p.behavior
	if req.TaskID == "" {
		p.nextID++
		req.TaskID = "task-" + strconv.Itoa(p.nextID)
	}
	p.requests = append(p.requests, req)
	p.notifyLocked()
	missingURL := len(b.Callbacks) > 0 && req.CallbackURL == ""
	if b.When == OnRelease && len(b.Callbacks) > 0 && !missingURL {
		p.held = append(p.held, heldTask{req: req, callbacks: b.Callbacks})
	}
	p.mu.Unlock()

	if missingURL {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "missing " + p.callbackField + " in the request body"})
		return
	}
	if b.When == BeforeResponse {
		p.send(req, b.Callbacks)
	}

	status := b.Status
	if status == 0 {
		status = http.StatusAccepted
	}
	var resp any = map[string]any{"task_id": req.TaskID, "status": "accepted"}
	if b.Response != nil {
		resp = b.Response(req)
	}
	writeJSON(w, status, resp)

	if b.When == AfterResponse && len(b.Callbacks) > 0 {
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		p.sendInBackground(req, b.Callbacks)
	}
}

func (p *Provider) sendInBackground(req Request, callbacks []Callback) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.send(req, callbacks)
	}()
}

// send posts the callbacks in order and records each reply.
func (p *Provider) send(req Request, callbacks []Callback) {
	for _, c := range callbacks {
		reply := p.post(req, c)
		p.mu.Lock()
		p.replies = append(p.replies, reply)
		p.notifyLocked()
		p.mu.Unlock()
	}
}

func (p *Provider) post(req Request, c Callback) Reply {
	reply := Reply{TaskID: req.TaskID, Callback: c}

	data, err := json.Marshal(c.body(req.TaskID))
	if err != nil {
		reply.Err = fmt.Errorf("encode callback body: %w", err)
		return reply
	}
	ctx, cancel := context.WithTimeout(p.ctx, DefaultTimeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, req.CallbackURL, bytes.NewReader(data))
	if err != nil {
		reply.Err = fmt.Errorf("build callback request to %q: %w", req.CallbackURL, err)
		return reply
	}
	hr.Header.Set("Content-Type", "application/json")

	resp, err := p.client.Do(hr)
	if err != nil {
		reply.Err = fmt.Errorf("post callback: %w", err)
		return reply
	}
	defer resp.Body.Close()

	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	reply.StatusCode = resp.StatusCode
	reply.Body = string(body)
	var parsed struct {
		Status string `json:"status"`
	}
	if json.Unmarshal(body, &parsed) == nil {
		reply.Status = parsed.Status
	}
	return reply
}

// Release sends the callbacks held by a Late behavior, task by task in
// the order the tasks arrived, and returns their replies.
func (p *Provider) Release() []Reply {
	p.mu.Lock()
	held := p.held
	p.held = nil
	start := len(p.replies)
	p.mu.Unlock()

	for _, h := range held {
		p.send(h.req, h.callbacks)
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Reply
	for _, r := range p.replies[start:] {
		for _, h := range held {
			if h.req.TaskID == r.TaskID {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// Requests returns the task requests received so far.
func (p *Provider) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.requests)
}

// Replies returns the replies to the callbacks sent so far, in the order
// they came back.
func (p *Provider) Replies() []Reply {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.replies)
}

// WaitRequests waits until the provider has received n task requests
// and returns them. It fails the test after DefaultTimeout.
func (p *Provider) WaitRequests(t testing.TB, n int) []Request {
	t.Helper()
	p.waitFor(t, fmt.Sprintf("%d task requests", n), func() bool { return len(p.requests) >= n })
	return p.Requests()
}

// WaitReplies waits until n callbacks have got their replies and returns
// all replies. It fails the test after DefaultTimeout.
func (p *Provider) WaitReplies(t testing.TB, n int) []Reply {
	t.Helper()
	p.waitFor(t, fmt.Sprintf("%d callback replies", n), func() bool { return len(p.replies) >= n })
	return p.Replies()
}

func (p *Provider) waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	timer := time.NewTimer(DefaultTimeout)
	defer timer.Stop()
	for {
		p.mu.Lock()
		ok := cond()
		changed := p.changed
		got := fmt.Sprintf("%d requests and %d replies", len(p.requests), len(p.replies))
		p.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-timer.C:
			t.Fatalf("tethertest: provider did not see %s within %s; it saw %s", what, DefaultTimeout, got)
		}
	}
}

func (p *Provider) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
