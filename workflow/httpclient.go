package workflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tether-go/tether/expr"
	"github.com/tether-go/tether/waiter"
)

const (
	// defaultCallbackID is the id a callback without WaitFor waits for;
	// an http-callback listener without identify_by delivers to it.
	defaultCallbackID = "__callback__"
	// maxResponseSize bounds the response bodies that an http-client
	// component reads.
	maxResponseSize = 16 << 20
	// maxErrorSnippet bounds the part of a response body quoted in an
	// HTTPError.
	maxErrorSnippet = 256
)

// httpComponent is a compiled HTTPClient.
type httpComponent struct {
	id         string
	engine     *Engine
	baseURL    *expr.Template
	path       *expr.Template
	endpoint   *expr.Template
	method     string
	headers    []namedTemplate
	params     []namedTemplate
	body       *expr.Template // nil sends no body
	output     *expr.Template
	timeout    time.Duration
	completion *completion // nil when the first response completes the job

	// outputReadsResponse reports whether output refers to ${response}.
	// When it does not, a job drops the response while it waits for a
	// callback.
	outputReadsResponse bool
}

type namedTemplate struct {
	name     string
	template *expr.Template
}

// completion is a compiled Completion.
type completion struct {
	kind    CompletionType
	timeout time.Duration

	waitFor         *expr.Template
	waitForResponse bool // waitFor refers to ${response}

	path        *expr.Template
	endpoint    *expr.Template
	method      string
	interval    time.Duration
	status      *expr.Template // nil: the first 2xx poll completes the task
	successWhen []string
	failWhen    []string
	result      *expr.Template // ${response} when Result is nil
	response    *expr.Template // ${response}, the payload of a failure
}

var _ Component = (*httpComponent)(nil)

func (e *Engine) compileHTTPClient(id string, cfg *HTTPClient) (*httpComponent, error) {
	name := fmt.Sprintf("component %q", id)
	c := &httpComponent{id: id, engine: e, timeout: cfg.Timeout, method: strings.ToUpper(cfg.Method)}

	switch {
	case cfg.Endpoint != "" && (cfg.BaseURL != "" || cfg.Path != ""):
		return nil, invalidf("%s: endpoint: set either endpoint or base_url with path, not both", name)
	case cfg.Endpoint == "" && cfg.BaseURL == "":
		return nil, invalidf("%s: endpoint: missing; set endpoint, or base_url and path", name)
	}
	if c.method == "" {
		c.method = DefaultMethod
	}
	if !validMethod(c.method) {
		return nil, invalidf("%s: method: %q is not an HTTP method", name, cfg.Method)
	}
	if c.timeout < 0 {
		return nil, invalidf("%s: timeout: %s is negative", name, cfg.Timeout)
	}
	if c.timeout == 0 {
		c.timeout = DefaultRequestTimeout
	}

	var err error
	fields := []struct {
		field string
		dst   **expr.Template
		value any
	}{
		{"base_url", &c.baseURL, optional(cfg.BaseURL)},
		{"path", &c.path, optional(cfg.Path)},
		{"endpoint", &c.endpoint, optional(cfg.Endpoint)},
		{"body", &c.body, cfg.Body},
		{"output", &c.output, cfg.Output},
	}
	for _, f := range fields {
		if *f.dst, err = compileTemplate(f.value); err != nil {
			return nil, invalidf("%s: %s: %w", name, f.field, err)
		}
	}
	if c.headers, err = compileNamed(cfg.Headers); err != nil {
		return nil, invalidf("%s: headers.%w", name, err)
	}
	if c.params, err = compileNamed(cfg.Params); err != nil {
		return nil, invalidf("%s: params.%w", name, err)
	}
	if cfg.Completion != nil {
		if c.completion, err = compileCompletion(cfg.Completion); err != nil {
			return nil, invalidf("%s: completion.%w", name, err)
		}
	}

	if c.output == nil {
		defaultOutput := "${response}"
		if c.completion != nil {
			defaultOutput = "${result}"
		}
		if c.output, err = expr.Compile(defaultOutput); err != nil {
			return nil, fmt.Errorf("compile default output of %s: %w", name, err)
		}
	}
	c.outputReadsResponse = slices.Contains(c.output.Sources(), "response")
	return c, nil
}

// optional returns nil for an empty template text, so that the field is
// left unset.
func optional(text string) any {
	if text == "" {
		return nil
	}
	return text
}

// compileNamed compiles the templates of headers or params, sorted by
// name. An error starts with the name, to follow "headers.".
func compileNamed(m map[string]any) ([]namedTemplate, error) {
	named := make([]namedTemplate, 0, len(m))
	for _, name := range sortedKeys(m) {
		t, err := compileTemplate(m[name])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if t != nil {
			named = append(named, namedTemplate{name: name, template: t})
		}
	}
	return named, nil
}

// compileCompletion checks and compiles cfg. An error starts with the
// field name, to follow "completion.".
func compileCompletion(cfg *Completion) (*completion, error) {
	c := &completion{kind: cfg.Type, timeout: cfg.Timeout, interval: cfg.Interval, method: strings.ToUpper(cfg.Method)}
	if c.timeout < 0 {
		return nil, fmt.Errorf("timeout: %s is negative", cfg.Timeout)
	}
	if c.timeout == 0 {
		c.timeout = DefaultCompletionTimeout
	}

	callbackOnly := cfg.WaitFor != ""
	pollingOnly := cfg.Path != "" || cfg.Endpoint != "" || cfg.Method != "" || cfg.Interval != 0 ||
		cfg.Status != "" || len(cfg.SuccessWhen) > 0 || len(cfg.FailWhen) > 0 || cfg.Result != nil

	var err error
	switch cfg.Type {
	case CompletionCallback:
		if pollingOnly {
			return nil, errors.New("type: callback does not take path, endpoint, method, interval, status, success_when, fail_when or result; use type polling")
		}
		waitFor := cfg.WaitFor
		if waitFor == "" {
			waitFor = defaultCallbackID
		}
		if c.waitFor, err = expr.Compile(waitFor); err != nil {
			return nil, fmt.Errorf("wait_for: %w", err)
		}
		c.waitForResponse = slices.Contains(c.waitFor.Sources(), "response")

	case CompletionPolling:
		if callbackOnly {
			return nil, errors.New("wait_for: only type callback takes wait_for")
		}
		if cfg.Path != "" && cfg.Endpoint != "" {
			return nil, errors.New("endpoint: set either endpoint or path, not both")
		}
		if c.method == "" {
			c.method = http.MethodGet
		}
		if !validMethod(c.method) {
			return nil, fmt.Errorf("method: %q is not an HTTP method", cfg.Method)
		}
		if c.interval < 0 {
			return nil, fmt.Errorf("interval: %s is negative", cfg.Interval)
		}
		if c.interval == 0 {
			c.interval = DefaultPollInterval
		}
		if cfg.Status != "" && len(cfg.SuccessWhen) == 0 {
			return nil, errors.New("success_when: missing; list the status values that mean success")
		}
		if cfg.Status == "" && (len(cfg.SuccessWhen) > 0 || len(cfg.FailWhen) > 0) {
			return nil, errors.New("status: missing; success_when and fail_when need a status template")
		}
		c.successWhen = cfg.SuccessWhen
		c.failWhen = cfg.FailWhen
		fields := []struct {
			field string
			dst   **expr.Template
			value any
		}{
			{"path", &c.path, optional(cfg.Path)},
			{"endpoint", &c.endpoint, optional(cfg.Endpoint)},
			{"status", &c.status, optional(cfg.Status)},
			{"result", &c.result, cfg.Result},
		}
		for _, f := range fields {
			if *f.dst, err = compileTemplate(f.value); err != nil {
				return nil, fmt.Errorf("%s: %w", f.field, err)
			}
		}
		if c.response, err = expr.Compile("${response}"); err != nil {
			return nil, fmt.Errorf("result: %w", err)
		}
		if c.result == nil {
			c.result = c.response
		}

	case "":
		return nil, errors.New("type: missing; use callback or polling")
	default:
		return nil, fmt.Errorf("type: unknown completion type %q; use callback or polling", cfg.Type)
	}
	return c, nil
}

// validMethod reports whether m is an HTTP token of upper-case letters.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		if m[i] < 'A' || m[i] > 'Z' {
			return false
		}
	}
	return true
}

// Invoke sends the request, waits for the completion if one is
// configured, and renders the output.
func (c *httpComponent) Invoke(ctx context.Context, call *Call) (any, error) {
	log := c.engine.log.With("run_id", call.RunID, "workflow", call.WorkflowID, "job", call.JobID, "component", c.id)
	s := newScope(c.engine.sources, newContext(call.RunID, call.WorkflowID, call.JobID, call.Timestamp)).
		with("input", call.Input)

	req, err := c.render(s)
	if err != nil {
		return nil, err
	}

	// Register the callback id before sending when it is known already,
	// so a callback that comes back before the response is not lost.
	var pending waiter.Pending
	cb := c.completion
	if cb != nil && cb.kind == CompletionCallback && !cb.waitForResponse {
		if pending, err = c.expect(ctx, s); err != nil {
			return nil, err
		}
		defer pending.Cancel()
	}

	resp, err := c.send(ctx, req, log)
	if err != nil {
		return nil, err
	}
	s.withValue("response", resp.value())

	if cb != nil {
		var result any
		switch cb.kind {
		case CompletionCallback:
			if pending == nil {
				// The id comes from the response. A callback that
				// arrived before this Expect is kept by the waiter as an
				// early outcome and resolves the wait at once.
				if pending, err = c.expect(ctx, s); err != nil {
					return nil, err
				}
				defer pending.Cancel()
			}
			if !c.outputReadsResponse {
				s.without("response")
			}
			result, err = c.waitCallback(ctx, pending, call.WorkflowID, log)
		case CompletionPolling:
			result, err = c.poll(ctx, s, req.header, log)
		}
		if err != nil {
			return nil, err
		}
		s.with("result", result)
	}

	out, err := c.output.Eval(s)
	if err != nil {
		return nil, fmt.Errorf("evaluate output of component %s: %w", c.id, err)
	}
	return out, nil
}

// request is a rendered HTTP request.
type request struct {
	method string
	url    *url.URL
	header http.Header
	body   []byte // nil: no body
}

// render evaluates the URL, headers, params and body in s.
func (c *httpComponent) render(s *scope) (*request, error) {
	rawURL, err := c.renderURL(s)
	if err != nil {
		return nil, err
	}
	u, err := parseHTTPURL(rawURL)
	if err != nil {
		// Name the templates: an unset ${env.X} in base_url is the usual
		// cause, and the rendered URL alone does not show it.
		return nil, fmt.Errorf("render url of component %s from %s: %w; check that every ${env.*} it reads is set", c.id, c.urlTemplates(), err)
	}

	if len(c.params) > 0 {
		q := u.Query()
		for _, p := range c.params {
			v, err := p.template.Eval(s)
			if err != nil {
				return nil, fmt.Errorf("evaluate params.%s of component %s: %w", p.name, c.id, err)
			}
			addParam(q, p.name, v)
		}
		u.RawQuery = q.Encode()
	}

	header := make(http.Header, len(c.headers)+1)
	for _, h := range c.headers {
		v, err := h.template.Eval(s)
		if err != nil {
			return nil, fmt.Errorf("evaluate headers.%s of component %s: %w", h.name, c.id, err)
		}
		if v != nil {
			header.Set(h.name, expr.Stringify(v))
		}
	}

	req := &request{method: c.method, url: u, header: header}
	if c.body != nil {
		v, err := c.body.Eval(s)
		if err != nil {
			return nil, fmt.Errorf("evaluate body of component %s: %w", c.id, err)
		}
		if req.body, err = json.Marshal(v); err != nil {
			return nil, fmt.Errorf("encode body of component %s as JSON: %w", c.id, err)
		}
		if header.Get("Content-Type") == "" {
			header.Set("Content-Type", "application/json")
		}
	}
	return req, nil
}

func (c *httpComponent) renderURL(s *scope) (string, error) {
	if c.endpoint != nil {
		u, err := c.endpoint.EvalString(s)
		if err != nil {
			return "", fmt.Errorf("evaluate endpoint of component %s: %w", c.id, err)
		}
		return u, nil
	}
	base, err := c.baseURL.EvalString(s)
	if err != nil {
		return "", fmt.Errorf("evaluate base_url of component %s: %w", c.id, err)
	}
	if c.path == nil {
		return base, nil
	}
	path, err := c.path.EvalString(s)
	if err != nil {
		return "", fmt.Errorf("evaluate path of component %s: %w", c.id, err)
	}
	return joinURL(base, path), nil
}

// urlTemplates describes the templates the URL is rendered from.
func (c *httpComponent) urlTemplates() string {
	if c.endpoint != nil {
		return fmt.Sprintf("endpoint %q", c.endpoint.String())
	}
	if c.path == nil {
		return fmt.Sprintf("base_url %q", c.baseURL.String())
	}
	return fmt.Sprintf("base_url %q and path %q", c.baseURL.String(), c.path.String())
}

// joinURL appends path to base with exactly one "/" between them.
func joinURL(base, path string) string {
	if path == "" {
		return base
	}
	return strings.TrimRight(base, "/") + "/" + strings.TrimLeft(path, "/")
}

// parseHTTPURL parses an absolute http or https URL. Its errors quote
// the URL without query, which may carry secrets.
func parseHTTPURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse URL %q: invalid URL", redactRawURL(raw))
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("URL %q is not an absolute http or https URL", redactURL(u))
	}
	return u, nil
}

// addParam adds a query parameter: nil is left out, a list adds one
// value per element, and other values are rendered as text.
func addParam(q url.Values, name string, v any) {
	switch t := v.(type) {
	case nil:
	case []any:
		for _, e := range t {
			q.Add(name, expr.Stringify(e))
		}
	default:
		q.Add(name, expr.Stringify(v))
	}
}

// redactURL returns u without user information, query and fragment, for
// logs and errors.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery = ""
	c.ForceQuery = false
	c.Fragment = ""
	c.RawFragment = ""
	return c.String()
}

func redactRawURL(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i]
	}
	if i := strings.Index(raw, "@"); i >= 0 {
		if j := strings.Index(raw, "://"); j >= 0 && j < i {
			raw = raw[:j+3] + raw[i+1:]
		}
	}
	return raw
}

// response is a response with a 2xx status.
type response struct {
	status int
	body   []byte
}

// value returns ${response}: the body as JSON when it is valid JSON, as
// text otherwise, and nil when it is empty.
func (r *response) value() expr.Value {
	body := bytes.TrimSpace(r.body)
	switch {
	case len(body) == 0:
		return expr.Of(nil)
	case json.Valid(body):
		return expr.JSON(body)
	default:
		return expr.Of(string(r.body))
	}
}

// send sends req, bounded by the component's timeout, and returns the
// response; a status outside 200–299 gives an *HTTPError.
func (c *httpComponent) send(ctx context.Context, req *request, log *slog.Logger) (*response, error) {
	target := redactURL(req.url)
	timeout := &timeoutError{msg: fmt.Sprintf("%s %s: no response within %s", req.method, target, c.timeout)}
	ctx, stop := withTimeout(ctx, c.engine.clock, c.timeout, timeout)
	defer stop()

	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hreq, err := http.NewRequestWithContext(ctx, req.method, req.url.String(), body)
	if err != nil {
		return nil, fmt.Errorf("create request %s %s: %w", req.method, target, unwrapURLError(err))
	}
	hreq.Header = req.header.Clone()

	hresp, err := c.engine.client.Do(hreq)
	if err != nil {
		if context.Cause(ctx) == timeout {
			return nil, timeout
		}
		return nil, fmt.Errorf("send %s %s: %w", req.method, target, unwrapURLError(err))
	}
	defer hresp.Body.Close()

	data, err := io.ReadAll(io.LimitReader(hresp.Body, maxResponseSize+1))
	if err != nil {
		if context.Cause(ctx) == timeout {
			return nil, timeout
		}
		return nil, fmt.Errorf("read response of %s %s: %w", req.method, target, err)
	}
	if len(data) > maxResponseSize {
		return nil, fmt.Errorf("read response of %s %s: body exceeds %d bytes", req.method, target, maxResponseSize)
	}
	log.Debug("http request sent", "method", req.method, "url", target, "status", hresp.StatusCode)

	if hresp.StatusCode < 200 || hresp.StatusCode > 299 {
		return nil, &HTTPError{Method: req.method, URL: target, StatusCode: hresp.StatusCode, Body: snippet(data)}
	}
	return &response{status: hresp.StatusCode, body: data}, nil
}

// unwrapURLError drops the *url.Error layer, whose message repeats the
// whole URL, query included.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// snippet returns the start of a response body for an error message.
func snippet(body []byte) string {
	s := strings.TrimSpace(string(body))
	if len(s) > maxErrorSnippet {
		s = strings.ToValidUTF8(s[:maxErrorSnippet], "") + "..."
	}
	return s
}

// timeoutError is a timeout whose message names what did not happen in
// time. It wraps ErrTimeout.
type timeoutError struct {
	msg string
}

func (e *timeoutError) Error() string { return e.msg }

func (e *timeoutError) Unwrap() error { return ErrTimeout }

// expect evaluates WaitFor in s and registers the id with the waiter.
func (c *httpComponent) expect(ctx context.Context, s *scope) (waiter.Pending, error) {
	id, err := c.completion.waitFor.EvalString(s)
	if err != nil {
		return nil, fmt.Errorf("evaluate completion.wait_for of component %s: %w", c.id, err)
	}
	if id == "" {
		return nil, fmt.Errorf("evaluate completion.wait_for of component %s: template %q gave an empty id", c.id, c.completion.waitFor.String())
	}
	pending, err := c.engine.waiter.Expect(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("expect callback %q: %w", id, err)
	}
	return pending, nil
}

// waitCallback waits for the outcome of pending, bounded by the
// completion's timeout.
func (c *httpComponent) waitCallback(ctx context.Context, pending waiter.Pending, workflowID string, log *slog.Logger) (any, error) {
	id := pending.ID()
	timeout := &timeoutError{msg: fmt.Sprintf("callback %q not received within %s", id, c.completion.timeout)}
	// The wait is reported before its timer is armed, so that a test
	// that sees the timer on a fake clock also sees the wait.
	started := c.engine.clock.Now()
	c.engine.observeWaitStarted(workflowID, c.id)
	waitCtx, stop := withTimeout(ctx, c.engine.clock, c.completion.timeout, timeout)
	defer stop()

	log.Debug("waiting for callback", "callback_id", id, "timeout", c.completion.timeout)
	outcome, err := pending.Wait(waitCtx)
	if err != nil {
		if context.Cause(waitCtx) == timeout {
			c.engine.observeWaitEnded(workflowID, c.id, started, WaitTimeout)
			return nil, timeout
		}
		c.engine.observeWaitEnded(workflowID, c.id, started, WaitCancelled)
		return nil, fmt.Errorf("wait for callback %q: %w", id, err)
	}
	if err := outcome.Err(); err != nil {
		c.engine.observeWaitEnded(workflowID, c.id, started, WaitRemoteFailed)
		return nil, fmt.Errorf("callback %q: %w", id, err)
	}
	c.engine.observeWaitEnded(workflowID, c.id, started, WaitReceived)
	log.Debug("callback received", "callback_id", id)
	return outcome.Result, nil
}

// poll requests the status URL every interval until the status is in
// successWhen or failWhen, bounded by the completion's timeout. s holds
// the first response.
func (c *httpComponent) poll(ctx context.Context, s *scope, header http.Header, log *slog.Logger) (any, error) {
	cb := c.completion
	req, err := c.renderPoll(s, header)
	if err != nil {
		return nil, err
	}
	target := redactURL(req.url)
	timeout := &timeoutError{msg: fmt.Sprintf("polling %s %s did not complete within %s", req.method, target, cb.timeout)}
	pollCtx, stop := withTimeout(ctx, c.engine.clock, cb.timeout, timeout)
	defer stop()

	for polls := 1; ; polls++ {
		if err := sleep(pollCtx, c.engine.clock, cb.interval); err != nil {
			return nil, err
		}
		resp, err := c.send(pollCtx, req, log)
		if err != nil {
			if context.Cause(pollCtx) == timeout {
				return nil, timeout
			}
			return nil, fmt.Errorf("poll: %w", err)
		}
		ps := newScope(c.engine.sources, nil).withValue("response", resp.value())
		ps.copySource(s, "input")
		ps.copySource(s, "context")

		done, err := c.pollStatus(ps, req, polls, log)
		if err != nil {
			return nil, err
		}
		if !done {
			continue
		}
		result, err := cb.result.Eval(ps)
		if err != nil {
			return nil, fmt.Errorf("evaluate completion.result of component %s: %w", c.id, err)
		}
		return result, nil
	}
}

// pollStatus reports whether the poll response in ps ends the polling
// with success; a failure status gives an error that wraps a
// *waiter.RemoteError.
func (c *httpComponent) pollStatus(ps *scope, req *request, polls int, log *slog.Logger) (bool, error) {
	cb := c.completion
	if cb.status == nil {
		return true, nil
	}
	status, err := cb.status.EvalString(ps)
	if err != nil {
		return false, fmt.Errorf("evaluate completion.status of component %s: %w", c.id, err)
	}
	switch {
	case slices.Contains(cb.successWhen, status):
		return true, nil
	case slices.Contains(cb.failWhen, status):
		payload, _ := cb.response.Eval(ps)
		return false, fmt.Errorf("poll %s %s: %w", req.method, redactURL(req.url),
			&waiter.RemoteError{Status: status, Payload: payload})
	}
	log.Debug("task still running", "status", status, "polls", polls)
	return false, nil
}

// renderPoll renders the status request: Endpoint, or Path appended to
// the component's base URL, or the component's own URL.
func (c *httpComponent) renderPoll(s *scope, header http.Header) (*request, error) {
	cb := c.completion
	var raw string
	var err error
	switch {
	case cb.endpoint != nil:
		raw, err = cb.endpoint.EvalString(s)
	case cb.path != nil && c.baseURL != nil:
		var base, path string
		if base, err = c.baseURL.EvalString(s); err == nil {
			path, err = cb.path.EvalString(s)
		}
		raw = joinURL(base, path)
	case cb.path != nil:
		// A component with an endpoint: the path replaces the
		// endpoint's path.
		var endpoint, path string
		if endpoint, err = c.endpoint.EvalString(s); err == nil {
			path, err = cb.path.EvalString(s)
		}
		if err == nil {
			var u *url.URL
			if u, err = parseHTTPURL(endpoint); err == nil {
				raw = joinURL(u.Scheme+"://"+u.Host, path)
			}
		}
	default:
		raw, err = c.renderURL(s)
	}
	if err != nil {
		return nil, fmt.Errorf("render polling URL of component %s: %w", c.id, err)
	}
	u, err := parseHTTPURL(raw)
	if err != nil {
		return nil, fmt.Errorf("render polling URL of component %s: %w", c.id, err)
	}
	header = header.Clone()
	header.Del("Content-Type")
	return &request{method: cb.method, url: u, header: header}, nil
}
