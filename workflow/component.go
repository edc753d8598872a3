package workflow

import (
	"context"
	"time"
)

// Component is a step that a job calls. Implementations written in Go are
// registered with [Engine.AddComponent]; http-client components are
// configured with [HTTPClient] and registered with [Engine.AddHTTPClient].
//
// Invoke may be called concurrently by different runs and jobs, so
// implementations must be safe for concurrent use. Invoke must return
// soon after ctx ends, with an error that wraps ctx.Err() or
// context.Cause(ctx).
type Component interface {
	// Invoke runs the component for one job and returns its output,
	// which becomes ${output} in the job's Output template. The output
	// must be JSON-serialisable, because run records store it.
	Invoke(ctx context.Context, call *Call) (any, error)
}

// Call is one invocation of a component.
type Call struct {
	// Input is the job's rendered input.
	Input any
	// RunID is the id of the run the job belongs to.
	RunID string
	// WorkflowID is the id of the run's workflow.
	WorkflowID string
	// JobID is the id of the job, or of the recovery job in OnError.
	JobID string
	// Attempt counts calls for this job, starting at 1 and increasing
	// with each retry.
	Attempt int
	// Timestamp is the time the job started, as ${context.timestamp}
	// shows it in RFC 3339 form.
	Timestamp time.Time
}

// Func adapts a function to the [Component] interface. It receives only
// the job's input.
type Func func(ctx context.Context, input any) (any, error)

// Invoke calls f(ctx, call.Input).
func (f Func) Invoke(ctx context.Context, call *Call) (any, error) {
	return f(ctx, call.Input)
}

var _ Component = Func(nil)

// Default values of the http-client component.
const (
	// DefaultMethod is the HTTP method of a request without Method. It is
	// POST because an http-client component usually sends a JSON body
	// that starts a task.
	DefaultMethod = "POST"
	// DefaultRequestTimeout bounds one HTTP request without Timeout.
	DefaultRequestTimeout = 60 * time.Second
	// DefaultCompletionTimeout bounds the wait for a callback, or the
	// whole polling, without Completion.Timeout.
	DefaultCompletionTimeout = 10 * time.Minute
	// DefaultPollInterval is the time between polls without
	// Completion.Interval.
	DefaultPollInterval = 5 * time.Second
)

// HTTPClient configures an http-client component: it renders an HTTP
// request from the job's input, sends it with the body as JSON, and
// optionally waits for the task it started to complete, by callback or
// by polling.
//
// Every string field named a template below may contain ${...}
// expressions over ${input} (the job's input), ${context} (run_id,
// timestamp, workflow_id, job_id) and the engine's sources, such as
// ${env.API_KEY} or ${gateway:8090.public_url}.
type HTTPClient struct {
	// BaseURL is a template for the start of the URL; Path is appended
	// to it. Either BaseURL or Endpoint is required.
	BaseURL string
	// Path is a template appended to BaseURL, with one "/" between them.
	Path string
	// Endpoint is a template for the whole URL, used instead of BaseURL
	// and Path.
	Endpoint string
	// Method is the HTTP method. Empty means [DefaultMethod] (POST).
	Method string
	// Headers are templates for request headers. Their values are never
	// logged.
	Headers map[string]any
	// Params are templates for query parameters, added to the URL.
	Params map[string]any
	// Body is a template whose value is sent as JSON. Nil sends no body.
	Body any
	// Output is a template over ${response} (the response body decoded
	// as JSON, or its text when it is not JSON) and ${result} (the
	// callback's or the last poll's result). Nil means ${result} when
	// Completion is set and ${response} otherwise.
	Output any
	// Timeout bounds each HTTP request, from sending to reading the whole
	// response. Zero means [DefaultRequestTimeout] (60s).
	Timeout time.Duration
	// Completion, when not nil, makes the job wait for the remote task
	// after the response.
	Completion *Completion
}

// CompletionType selects how an http-client job waits for its task.
type CompletionType string

const (
	// CompletionCallback waits for an outcome delivered to the engine's
	// waiter, usually by an http-callback listener.
	CompletionCallback CompletionType = "callback"
	// CompletionPolling polls a status URL until the status reports
	// success or failure.
	CompletionPolling CompletionType = "polling"
)

// Completion configures how an http-client job waits for the task its
// request started. Fields that do not apply to Type must be empty.
type Completion struct {
	// Type is CompletionCallback or CompletionPolling. Required.
	Type CompletionType
	// Timeout bounds the wait for the callback, or the whole polling.
	// Zero means [DefaultCompletionTimeout] (10 minutes).
	Timeout time.Duration

	// WaitFor is a template for the id the callback will carry, such as
	// ${context.run_id} or ${response.task_id} (callback only). Empty
	// means "__callback__", the id that an http-callback listener without
	// identify_by delivers. With such a fixed id only one run at a time
	// can wait, and a second one fails with waiter.ErrAlreadyWaiting.
	//
	// When WaitFor does not refer to ${response}, the job registers the
	// id with the waiter before it sends the request, so a callback that
	// arrives before the response is not lost. When it refers to
	// ${response}, the id is known only after the response; a callback
	// that arrives in between is kept by the waiter as an early outcome
	// and resolves the wait at once.
	WaitFor string

	// Path is a template for the status URL, appended to the
	// component's BaseURL (polling only). Path and Endpoint may refer
	// to ${response} (the first response), ${input} and ${context}.
	Path string
	// Endpoint is a template for the whole status URL (polling only).
	// Without Path and Endpoint the component's own URL is polled.
	Endpoint string
	// Method is the HTTP method of each poll. Empty means GET. Polls
	// carry the component's Headers but neither its Params nor a body.
	Method string
	// Interval is the time before the first poll, counted from the
	// first response, and between the end of a poll and the next one.
	// Zero means [DefaultPollInterval] (5s).
	Interval time.Duration
	// Status is a template over the poll's ${response} that gives the
	// task's status. Without Status, the first poll with a 2xx response
	// completes the task. A poll response outside 200–299 fails the job
	// with an *HTTPError.
	Status string
	// SuccessWhen lists the status values that complete the task.
	// Required when Status is set.
	SuccessWhen []string
	// FailWhen lists the status values that fail the task. Other values
	// keep the polling going.
	FailWhen []string
	// Result is a template over the poll's ${response} whose value
	// becomes ${result}. Nil means the whole response.
	Result any
}
