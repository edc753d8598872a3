package compose

import "github.com/tether-go/tether/verify"

// Config is a whole tether project as written in YAML: listeners,
// gateways, components, workflows and the controller. The singular YAML
// keys (listener, gateway, component, workflow) and the plural ones
// (listeners, gateways, components, workflows) both land in the slices
// below; [Parse] records which one was written so that errors quote the
// YAML path the user wrote.
//
// A Config can also be built in Go and passed to [New].
type Config struct {
	Listeners  []Listener
	Gateways   []Gateway
	Components []Component
	Workflows  []Workflow
	Controller Controller
	// State selects where waits and runs are kept: in memory (the
	// default) or in Redis, shared by several replicas.
	State State

	// file and lines locate YAML paths in the parsed file, for messages.
	file  string
	lines map[string]int
}

// Listener is one listener block: an http-callback or http-trigger
// server. A listener with a single endpoint may put the endpoint's fields
// at the top level, in the embedded Endpoint. The long form lists the
// endpoints under callbacks or triggers, below BasePath.
type Listener struct {
	Type    string `yaml:"type" validate:"required,oneof=http-callback http-trigger"`
	Runtime string `yaml:"runtime"`
	// Host is the address to bind; default 0.0.0.0.
	Host string `yaml:"host"`
	// Port is the TCP port; default 8090 for callbacks, 8091 for
	// triggers. It may be a template over ${env.*}.
	Port               IntString `yaml:"port"`
	BasePath           string    `yaml:"base_path"`
	MaxConcurrentCount int       `yaml:"max_concurrent_count" validate:"gte=0"`
	// Limits bounds body size, timeouts, queueing and idempotency keys;
	// zero fields keep the listener package's defaults.
	Limits Limits `yaml:"limits"`

	Endpoint  `yaml:",inline"`
	Callbacks []Endpoint `yaml:"callbacks" validate:"dive"`
	Triggers  []Endpoint `yaml:"triggers" validate:"dive"`

	path string
}

// Limits are a listener's bounds on what it accepts.
type Limits struct {
	// MaxBodyBytes is the largest body, before and after gzip decoding:
	// a number of bytes or a size such as "10MiB". Default 10 MiB.
	MaxBodyBytes ByteSize `yaml:"max_body_bytes"`
	// MaxHeaderBytes bounds the request line and headers. Default 64 KiB.
	MaxHeaderBytes ByteSize `yaml:"max_header_bytes"`
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout are
	// the listener's server timeouts (10s, 60s, 60s, 120s by default).
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"`
	ReadTimeout       Duration `yaml:"read_timeout"`
	WriteTimeout      Duration `yaml:"write_timeout"`
	IdleTimeout       Duration `yaml:"idle_timeout"`
	// QueueTimeout is how long a request waits for a free slot under
	// max_concurrent_count before it gets 503. Default 2s.
	QueueTimeout Duration `yaml:"queue_timeout"`
	// RetryAfter is sent with 503 replies. Default 1s.
	RetryAfter Duration `yaml:"retry_after"`
	// IdempotencyMaxKeys bounds the keys one trigger route remembers.
	// Default 100,000.
	IdempotencyMaxKeys int `yaml:"idempotency_max_keys" validate:"gte=0"`
	// MaxBulkItems bounds the items of one bulk request; more get 413.
	// Default 1,000.
	MaxBulkItems int `yaml:"max_bulk_items" validate:"gte=0"`
}

// Endpoint is one callback or trigger route. Callback routes use
// IdentifyBy, Status, SuccessWhen, FailWhen and Result; trigger routes use
// Workflow, Input and the idempotency fields.
type Endpoint struct {
	Path   string `yaml:"path"`
	Method string `yaml:"method"`

	IdentifyBy  string   `yaml:"identify_by"`
	Status      string   `yaml:"status"`
	SuccessWhen []string `yaml:"success_when"`
	FailWhen    []string `yaml:"fail_when"`
	Result      any      `yaml:"result"`

	Workflow          string   `yaml:"workflow"`
	Input             any      `yaml:"input"`
	IdempotencyKey    string   `yaml:"idempotency_key"`
	IdempotencyWindow Duration `yaml:"idempotency_window"`

	Bulk bool   `yaml:"bulk"`
	Item string `yaml:"item"`

	Verify    *verify.Config `yaml:"verify"`
	Preset    string         `yaml:"preset"`
	Responses []Response     `yaml:"responses"`
	Reply     *Reply         `yaml:"reply"`
}

// Response acknowledges a request without delivering or starting
// anything when When evaluates to one of Equals (or to a non-empty value
// when Equals is empty), and replies with Status, Headers and Body.
type Response struct {
	When    string            `yaml:"when"`
	Equals  []string          `yaml:"equals"`
	Status  int               `yaml:"status"`
	Headers map[string]string `yaml:"headers"`
	Body    any               `yaml:"body"`
}

// Reply replaces the listener's default reply to an accepted request.
type Reply struct {
	Status  int               `yaml:"status"`
	Headers map[string]string `yaml:"headers"`
	Body    any               `yaml:"body"`
}

// Gateway is one gateway block: a tunnel per port through a driver.
type Gateway struct {
	// Type is http-tunnel (with Driver ngrok, cloudflare, local or
	// static, or any registered driver) or ssh-tunnel.
	Type    string `yaml:"type" validate:"required"`
	Driver  string `yaml:"driver"`
	Runtime string `yaml:"runtime"`
	// Port is one port form or a list: 8090, "9834:8090",
	// "remote-host:9834:8090".
	Port PortList `yaml:"port"`
	// Connection is the SSH server of an ssh-tunnel gateway.
	Connection map[string]any `yaml:"connection"`
	// Settings holds the driver's other keys (authtoken, domain,
	// public_url, token, credentials_file, ...), after ${env.*} expansion.
	Settings map[string]any `yaml:",inline"`

	path string
}

// Component is one component block. Only the http-client type is
// defined in YAML; components written in Go are registered through
// [Options.Components] and referred to by id.
type Component struct {
	ID         string         `yaml:"id"`
	Type       string         `yaml:"type" validate:"required"`
	Runtime    string         `yaml:"runtime"`
	BaseURL    string         `yaml:"base_url"`
	Path       string         `yaml:"path"`
	Endpoint   string         `yaml:"endpoint"`
	Method     string         `yaml:"method"`
	Headers    map[string]any `yaml:"headers"`
	Params     map[string]any `yaml:"params"`
	Body       any            `yaml:"body"`
	Output     any            `yaml:"output"`
	Timeout    Duration       `yaml:"timeout"`
	Completion *Completion    `yaml:"completion"`

	path string
}

// Completion describes how an http-client component learns that the remote
// task finished: by a callback to a listener or by polling.
type Completion struct {
	Type        string   `yaml:"type" validate:"required,oneof=callback polling"`
	WaitFor     string   `yaml:"wait_for"`
	Timeout     Duration `yaml:"timeout"`
	Path        string   `yaml:"path"`
	Endpoint    string   `yaml:"endpoint"`
	Method      string   `yaml:"method"`
	Interval    Duration `yaml:"interval"`
	Status      string   `yaml:"status"`
	SuccessWhen []string `yaml:"success_when"`
	FailWhen    []string `yaml:"fail_when"`
	Result      any      `yaml:"result"`
}

// Workflow is one workflow block. A workflow without jobs runs the
// project's single component (or Component) once.
type Workflow struct {
	ID          string `yaml:"id"`
	Title       string `yaml:"title"`
	Description string `yaml:"description"`
	Default     bool   `yaml:"default"`
	Component   string `yaml:"component"`
	Input       any    `yaml:"input"`
	Output      any    `yaml:"output"`
	Jobs        []Job  `yaml:"jobs" validate:"dive"`

	path string
}

// Job is one step of a workflow.
type Job struct {
	ID        string `yaml:"id" validate:"required"`
	Component string `yaml:"component"`
	Input     any    `yaml:"input"`
	Output    any    `yaml:"output"`
	// DependsOn lists job ids that must finish first; an element that is
	// itself a list is an OR group, of which any one is enough.
	DependsOn []any  `yaml:"depends_on"`
	OnError   []Job  `yaml:"on_error" validate:"dive"`
	Retry     *Retry `yaml:"retry"`
}

// Retry repeats a failed job.
type Retry struct {
	MaxRetryCount int      `yaml:"max_retry_count" validate:"gte=0"`
	Delay         Duration `yaml:"delay"`
}

// Controller is the HTTP API that starts and inspects runs.
type Controller struct {
	Type     string    `yaml:"type"`
	Runtime  string    `yaml:"runtime"`
	Host     string    `yaml:"host"`
	Port     IntString `yaml:"port"`
	BasePath string    `yaml:"base_path"`
	// Metrics serves Prometheus metrics at /metrics when true.
	Metrics bool `yaml:"metrics"`
	// Disabled keeps the controller from starting.
	Disabled bool `yaml:"disabled"`

	set bool
}

// State selects the backend for waits and runs.
type State struct {
	// Type is memory (the default) or redis.
	Type string `yaml:"type" validate:"omitempty,oneof=memory redis"`
	// URL is the redis:// URL of the Redis server.
	URL string `yaml:"url"`
	// KeyPrefix separates projects that share one Redis; default
	// "tether:".
	KeyPrefix string `yaml:"key_prefix"`
	// Retention is how long an early or delivered outcome is kept and,
	// in Redis, how long the record of an ended run is kept.
	Retention Duration `yaml:"retention"`
}

func (l *Listener) setPath(p string)  { l.path = p }
func (g *Gateway) setPath(p string)   { g.path = p }
func (c *Component) setPath(p string) { c.path = p }
func (w *Workflow) setPath(p string)  { w.path = p }
