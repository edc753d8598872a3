package listener

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/tether-go/tether/clock"
	"github.com/tether-go/tether/expr"
	"github.com/tether-go/tether/verify"
)

// Defaults applied by [NewCallback] and [NewTrigger] to zero fields.
const (
	DefaultHost         = "0.0.0.0"
	DefaultCallbackPort = 8090
	DefaultTriggerPort  = 8091
	DefaultMethod       = http.MethodPost
	// DefaultCallbackID is the id a callback is delivered under when its
	// endpoint has no IdentifyBy template.
	DefaultCallbackID = "__callback__"

	DefaultMaxBodyBytes       = 10 << 20
	DefaultMaxHeaderBytes     = 64 << 10
	DefaultReadHeaderTimeout  = 10 * time.Second
	DefaultReadTimeout        = 60 * time.Second
	DefaultWriteTimeout       = 60 * time.Second
	DefaultIdleTimeout        = 120 * time.Second
	DefaultQueueTimeout       = 2 * time.Second
	DefaultRetryAfter         = 1 * time.Second
	DefaultIdempotencyWindow  = 24 * time.Hour
	DefaultIdempotencyMaxKeys = 100_000
	DefaultMaxBulkItems       = 1_000
)

// Sentinel errors, usable with errors.Is.
var (
	// ErrInvalidConfig is wrapped by every error that NewCallback and
	// NewTrigger return for a configuration mistake. The message names
	// the field, such as "callbacks[1].identify_by".
	ErrInvalidConfig = errors.New("listener: invalid configuration")
	// ErrClosed is returned by Start after Shutdown or Close, and by a
	// second Shutdown or Close.
	ErrClosed = errors.New("listener: closed")
	// ErrStarted is returned by a second Start or StartOn.
	ErrStarted = errors.New("listener: already started")
)

// ConfigError reports a configuration mistake in one field. It matches
// [ErrInvalidConfig] with errors.Is and unwraps to the cause, such as an
// expr compile error.
type ConfigError struct {
	// Field is the field's path in YAML terms, such as
	// "callbacks[1].identify_by".
	Field string
	// Err is the cause.
	Err error
}

// Error returns "listener: FIELD: CAUSE".
func (e *ConfigError) Error() string { return "listener: " + e.Field + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *ConfigError) Unwrap() error { return e.Err }

// Is reports whether target is [ErrInvalidConfig].
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// Options holds what a listener needs from its host. A nil *Options is
// valid and means all defaults.
type Options struct {
	// Logger receives warnings (rejected signatures, failed deliveries)
	// and debug records of each request. Nil discards everything.
	Logger *slog.Logger
	// Sources resolves the sources that do not come from the request,
	// such as "env" and "gateway:8090". The listener resolves "body",
	// "query", "header" and "item" itself and passes other names to
	// Sources.
	Sources expr.Resolver
	// Clock measures idempotency windows. Nil means the wall clock.
	Clock clock.Clock
	// Observer receives callback and trigger results and signature
	// failures, for metrics. Nil observes nothing.
	Observer *Observer
}

// Limits bounds what one listener accepts. Zero fields take the Default
// constants; negative values are rejected.
type Limits struct {
	// MaxBodyBytes is the maximum body size, checked both on the bytes
	// received and after Content-Encoding is removed. Larger bodies get
	// 413.
	MaxBodyBytes int64
	// MaxHeaderBytes is the maximum size of the request line and headers
	// when the listener runs its own server.
	MaxHeaderBytes int
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout are
	// set on the listener's own server, so that slow clients cannot hold
	// connections open.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	// QueueTimeout is how long a request waits for a free slot when
	// MaxConcurrentCount requests are already running, before it gets 503.
	QueueTimeout time.Duration
	// RetryAfter is sent in the Retry-After header of 503 replies,
	// rounded up to whole seconds.
	RetryAfter time.Duration
	// IdempotencyMaxKeys is the maximum number of idempotency keys one
	// trigger endpoint remembers. The oldest key is forgotten first.
	IdempotencyMaxKeys int
	// MaxBulkItems is the maximum number of items in one bulk request,
	// for callbacks and triggers alike. A request with more gets 413,
	// and none of its items is delivered or started.
	MaxBulkItems int
}

// Response is a reply sent instead of processing a request: when its
// condition holds, the listener replies at once and starts or resumes
// nothing. Provider handshakes such as Slack's URL verification are
// written this way.
type Response struct {
	// When is a template, such as "${body.type}". It is evaluated against
	// body, query and header.
	When string
	// Equals lists the values that select this response, compared with
	// the text form of When's value. When Equals is empty, any value
	// other than null, false, 0 and "" selects it.
	Equals []string
	// Status is the HTTP status code. Zero means 200.
	Status int
	// Body is the reply body as a template value (a string, map or
	// list). A string value is sent as text/plain, anything else as
	// JSON. Nil sends no body.
	Body any
	// Headers are extra reply headers; each value is a template.
	Headers map[string]string
}

// Reply replaces the reply an endpoint sends after it processed a
// request. Its templates see body, query and header, and "output", which
// is the reply the listener would have sent otherwise.
type Reply struct {
	// Status is the HTTP status code. Zero keeps the listener's status.
	Status int
	// Body is the reply body as a template value. Nil keeps the
	// listener's JSON reply. A string value is sent as text/plain.
	Body any
	// Headers are extra reply headers; each value is a template.
	Headers map[string]string
}

// CallbackConfig configures an http-callback listener.
type CallbackConfig struct {
	// Host is the address the listener's own server binds. Empty means
	// DefaultHost.
	Host string
	// Port is the port the listener's own server binds. Zero means
	// DefaultCallbackPort.
	Port int
	// BasePath is prefixed to every callback's Path.
	BasePath string
	// MaxConcurrentCount bounds the requests processed at once. Zero
	// means unlimited.
	MaxConcurrentCount int
	// Callbacks lists the endpoints. It must not be empty.
	Callbacks []Callback
	// Limits bounds body size, timeouts and queueing.
	Limits Limits
}

// Callback is one http-callback endpoint. Templates are compiled once, by
// [NewCallback].
type Callback struct {
	// Path is the endpoint's path below BasePath. It is required.
	Path string
	// Method is the accepted HTTP method. Empty means POST.
	Method string
	// IdentifyBy is a template for the id the outcome is delivered
	// under, such as "${body.task_id}" or "${query.id}". Its value must
	// be a string or a number, and any other value gets 400. Empty means
	// DefaultCallbackID.
	IdentifyBy string
	// Status is a template for the remote task's status. Empty means
	// every callback reports success.
	Status string
	// SuccessWhen lists the status values that mean success. When it is
	// empty, every status not in FailWhen means success.
	SuccessWhen []string
	// FailWhen lists the status values that mean failure. A status in
	// neither list, such as "processing", is acknowledged and changes
	// nothing.
	FailWhen []string
	// Result is the result template: a string such as "${body.output}"
	// or a map of templates. Nil means the whole body, or the whole item
	// in bulk mode.
	Result any
	// Bulk makes one request carry several outcomes: Item selects the
	// array, and IdentifyBy, Status and Result are evaluated per element
	// with the element as "item".
	Bulk bool
	// Item is a template for the array of items in bulk mode, such as
	// "${body.results}".
	Item string
	// Verify checks each request's signature on the body bytes as they
	// arrived, before anything else; an error means 401. Nil means no
	// check.
	Verify verify.Verifier
	// Preset adds a provider's handshake responses; see [Presets].
	Preset string
	// Responses are checked in order before the callback is processed;
	// the first that matches is sent instead.
	Responses []Response
	// Reply replaces the JSON reply sent after processing.
	Reply *Reply
}

// TriggerConfig configures an http-trigger listener.
type TriggerConfig struct {
	// Host is the address the listener's own server binds. Empty means
	// DefaultHost.
	Host string
	// Port is the port the listener's own server binds. Zero means
	// DefaultTriggerPort.
	Port int
	// BasePath is prefixed to every trigger's Path.
	BasePath string
	// MaxConcurrentCount bounds the requests processed at once. Zero
	// means unlimited.
	MaxConcurrentCount int
	// Triggers lists the endpoints. It must not be empty.
	Triggers []Trigger
	// Limits bounds body size, timeouts, queueing and idempotency keys.
	Limits Limits
}

// Trigger is one http-trigger endpoint. Templates are compiled once, by
// [NewTrigger].
type Trigger struct {
	// Path is the endpoint's path below BasePath. It is required.
	Path string
	// Method is the accepted HTTP method. Empty means POST.
	Method string
	// Workflow is the id of the workflow to start. It is required.
	Workflow string
	// Input is the input template: a string such as "${body.data}" or a
	// map of templates. Nil means the whole body, or the whole item in
	// bulk mode.
	Input any
	// Bulk starts one run per element of the array that Item selects,
	// with the element as "item".
	Bulk bool
	// Item is a template for the array of items in bulk mode, such as
	// "${body.items}".
	Item string
	// Verify checks each request's signature on the body bytes as they
	// arrived, before anything else; an error means 401. Nil means no
	// check.
	Verify verify.Verifier
	// Preset adds a provider's handshake responses and idempotency key;
	// see [Presets].
	Preset string
	// IdempotencyKey is a template for a key that identifies a delivery,
	// such as "${header.X-GitHub-Delivery}". A request whose key was
	// seen within IdempotencyWindow starts nothing and gets the first
	// request's reply. An empty key turns the check off for that
	// request.
	IdempotencyKey string
	// IdempotencyWindow is how long a key is remembered. Zero means
	// DefaultIdempotencyWindow; values under 10 minutes are rejected.
	IdempotencyWindow time.Duration
	// Responses are checked in order before a run is started; the first
	// that matches is sent instead.
	Responses []Response
	// Reply replaces the JSON reply sent after the runs were started.
	Reply *Reply
}

// RunInfo identifies a started workflow run.
type RunInfo struct {
	// ID is the run's id, sent to the client as "task_id".
	ID string
	// Status is the run's state when StartRun returned, such as
	// "pending" or "processing".
	Status string
}

// Starter starts workflow runs for a trigger listener. The host supplies
// it, so that package listener does not depend on package workflow.
//
// StartRun must return once the run is started, without waiting for it
// to finish, and must be safe for concurrent use.
type Starter interface {
	StartRun(ctx context.Context, workflowID string, input any) (RunInfo, error)
}

// StarterFunc adapts a function to the [Starter] interface.
type StarterFunc func(ctx context.Context, workflowID string, input any) (RunInfo, error)

// StartRun calls f(ctx, workflowID, input).
func (f StarterFunc) StartRun(ctx context.Context, workflowID string, input any) (RunInfo, error) {
	return f(ctx, workflowID, input)
}
