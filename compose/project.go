package compose

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tether-go/tether/clock"
	"github.com/tether-go/tether/driver"
	"github.com/tether-go/tether/expr"
	"github.com/tether-go/tether/gateway"
	"github.com/tether-go/tether/listener"
	"github.com/tether-go/tether/metrics"
	"github.com/tether-go/tether/waiter"
	"github.com/tether-go/tether/workflow"

	// Every built-in tunnel driver that the YAML can name.
	_ "github.com/tether-go/tether/driver/all"
)

// DefaultWorkflowID is the id of a workflow written without one, as
// model-compose names it. A run request without workflow_id runs it.
const DefaultWorkflowID = "__default__"

// DefaultComponentID is the id of a component written under the singular
// component key without an id.
const DefaultComponentID = "__default__"

// ErrClosed is returned by Up after Shutdown or Close.
var ErrClosed = errors.New("compose: project closed")

// Options holds what a project takes from its host program. A nil
// *Options means all defaults.
type Options struct {
	// Logger receives the project's records: routes, gateway URLs, runs
	// and errors. Nil discards them.
	Logger *slog.Logger
	// Components are components written in Go, by id. Jobs refer to
	// them like to components defined in YAML.
	Components map[string]workflow.Component
	// Waiter matches callbacks to waiting jobs. Nil means the one that
	// Config.State selects (in memory by default).
	Waiter waiter.Waiter
	// Store keeps run records. Nil means the one that Config.State
	// selects.
	Store workflow.Store
	// Clock drives timeouts and retry delays. Nil means the wall clock.
	Clock clock.Clock
	// LookupEnv reads ${env.*} values. Nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Drivers finds tunnel drivers. Nil means driver.Default().
	Drivers *driver.Registry
	// HTTPClient sends the requests of http-client components.
	HTTPClient *http.Client
	// Ephemeral binds every listener and the controller to a free port
	// on 127.0.0.1 instead of their configured host and port, so that
	// tests can run projects side by side. ${gateway:PORT...} of a local
	// gateway then reports the address the listener configured with PORT
	// is bound to.
	Ephemeral bool
	// ShutdownGrace bounds how long Shutdown lets running workflows
	// finish before it cancels them, when its context has no earlier
	// deadline. Zero means no extra bound.
	ShutdownGrace time.Duration
	// Metrics collects the project's Prometheus metrics. Nil means none,
	// unless the controller has metrics: true, which creates a collector
	// on a registry of its own. The controller serves it at /metrics.
	Metrics *metrics.Metrics
}

// Project is a configuration made runnable: its workflow engine, its
// listeners, gateways and controller. Build it with [New], start its
// servers with [Project.Up], and stop it with [Project.Shutdown]. All
// methods are safe for concurrent use.
type Project struct {
	cfg  *Config
	opts Options
	log  *slog.Logger

	engine     *workflow.Engine
	waiter     waiter.Waiter
	ownsWaiter bool
	closers    []func() error // state backends to close last

	listeners []*projectListener
	gateways  []gateway.Gateway
	gwByPort  map[int]gateway.Gateway
	// ps collects problems while New runs.
	ps *problems
	// gatewayFailed is set while building when a gateway is invalid.
	gatewayFailed bool

	controller *controller

	mu     sync.Mutex // guards up and closed
	up     bool
	closed bool
}

type projectListener struct {
	path   string
	kind   string
	port   int      // configured port
	routes []string // "POST /webhooks/image/completed", for logs
	l      listener.Listener
}

// ListenerAddr returns the address that the listener configured with
// port is bound to, or nil when none is running.
func (p *Project) ListenerAddr(port int) net.Addr {
	for _, pl := range p.listeners {
		if pl.port == port {
			return pl.l.Addr()
		}
	}
	return nil
}

// New checks cfg as a whole (references between sections, templates,
// driver settings) and builds the project without opening any socket.
// Every mistake is reported at once as [Problems].
func New(cfg *Config, opts *Options) (*Project, error) {
	p := &Project{cfg: cfg, gwByPort: map[int]gateway.Gateway{}}
	if opts != nil {
		p.opts = *opts
	}
	p.log = p.opts.Logger
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	ps := &problems{file: cfg.file, lines: cfg.lines}
	if ps.lines == nil {
		ps.lines = map[string]int{}
	}
	p.ps = ps

	if err := p.initMetrics(); err != nil {
		ps.add("controller.metrics", "%v", err)
		return nil, ps.err()
	}
	if err := p.openState(); err != nil {
		ps.add("state", "%v", err)
		return nil, ps.err()
	}
	p.engine = workflow.New(&workflow.Options{
		Waiter:     p.waiter,
		Store:      p.opts.Store,
		Sources:    expr.ResolverFunc(p.resolve),
		Logger:     p.log,
		Clock:      p.opts.Clock,
		HTTPClient: p.opts.HTTPClient,
		Observer:   p.workflowObserver(),
	})

	p.buildGateways(ps)
	p.buildComponents(ps)
	p.buildWorkflows(ps)
	p.buildListeners(ps)
	p.buildController(ps)
	p.checkGatewayRefs(ps)

	if err := ps.err(); err != nil {
		p.closeState()
		return nil, err
	}
	return p, nil
}

// Engine returns the workflow engine, for starting and inspecting runs
// from Go.
func (p *Project) Engine() *workflow.Engine { return p.engine }

// Waiter returns the waiter that callback listeners deliver to.
func (p *Project) Waiter() waiter.Waiter { return p.waiter }

// Listeners returns the project's listeners in configuration order.
func (p *Project) Listeners() []listener.Listener {
	out := make([]listener.Listener, len(p.listeners))
	for i, l := range p.listeners {
		out[i] = l.l
	}
	return out
}

// Gateways returns the project's gateways in configuration order.
func (p *Project) Gateways() []gateway.Gateway { return append([]gateway.Gateway(nil), p.gateways...) }

// ControllerAddr returns the controller's address once it listens, or
// nil.
func (p *Project) ControllerAddr() net.Addr {
	if p.controller == nil {
		return nil
	}
	return p.controller.addr()
}

// ControllerHandler returns the controller API as an http.Handler, for
// hosts that serve it on their own server. It is nil when the
// configuration disables the controller.
func (p *Project) ControllerHandler() http.Handler {
	if p.controller == nil {
		return nil
	}
	return p.controller.handler
}

// Up starts the listeners, the gateways and the controller, in that
// order, so that a tunnel never forwards to a port that is not bound
// yet. It logs each route, each gateway's public URL and the
// controller's address. On error, whatever started is stopped again.
func (p *Project) Up(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if p.up {
		return errors.New("compose: project already up")
	}
	if err := p.startAll(ctx); err != nil {
		stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		p.stopServers(stopCtx)
		return err
	}
	p.up = true
	return nil
}

func (p *Project) startAll(ctx context.Context) error {
	for _, pl := range p.listeners {
		if err := p.startListener(ctx, pl); err != nil {
			return fmt.Errorf("compose: start %s: %w", pl.path, err)
		}
		for _, route := range pl.routes {
			method, path, _ := strings.Cut(route, " ")
			p.log.Info("listener route "+method+" http://"+addrString(pl.l.Addr())+path, "listener", pl.path, "type", pl.kind)
		}
	}
	for i, g := range p.gateways {
		if err := g.Start(ctx); err != nil {
			return fmt.Errorf("compose: start %s: %w", p.cfg.Gateways[i].path, err)
		}
	}
	if p.controller != nil {
		if err := p.controller.start(); err != nil {
			return fmt.Errorf("compose: start controller: %w", err)
		}
		p.log.Info("controller started", "address", "http://"+addrString(p.controller.addr())+p.controller.base)
	}
	return nil
}

func (p *Project) startListener(ctx context.Context, pl *projectListener) error {
	if !p.opts.Ephemeral {
		return pl.l.Start(ctx)
	}
	on, ok := pl.l.(interface{ StartOn(net.Listener) error })
	if !ok {
		return fmt.Errorf("listener %T cannot serve on a given socket", pl.l)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	if err := on.StartOn(ln); err != nil {
		_ = ln.Close()
		return err
	}
	return nil
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// Run starts a run of the workflow and waits for it to end. An empty
// workflowID means the default workflow.
func (p *Project) Run(ctx context.Context, workflowID string, input any) (*workflow.Run, error) {
	return p.engine.Run(ctx, p.workflowID(workflowID), input)
}

// Start starts a run of the workflow and returns at once. An empty
// workflowID means the default workflow.
func (p *Project) Start(ctx context.Context, workflowID string, input any) (*workflow.Run, error) {
	return p.engine.Start(ctx, p.workflowID(workflowID), input)
}

// DefaultWorkflow returns the id of the workflow that runs when none is
// named: the one marked default, the only one, or DefaultWorkflowID.
func (p *Project) DefaultWorkflow() string { return p.workflowID("") }

func (p *Project) workflowID(id string) string {
	if id != "" {
		return id
	}
	infos := p.engine.Workflows()
	for _, w := range p.cfg.Workflows {
		if w.Default {
			return p.idOf(w)
		}
	}
	if len(infos) == 1 {
		return infos[0].ID
	}
	return DefaultWorkflowID
}

// Shutdown stops the project gracefully: the controller and trigger
// listeners stop taking requests, running workflows may finish (callback
// listeners still deliver to them) until ctx ends or
// Options.ShutdownGrace passes, then the rest stops. A second call
// returns ErrClosed.
func (p *Project) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	p.closed = true
	p.mu.Unlock()

	var errs []error
	if p.controller != nil {
		errs = append(errs, p.controller.shutdown(ctx))
	}
	for _, pl := range p.listeners {
		if pl.kind == "http-trigger" {
			errs = append(errs, ignoreClosed(pl.l.Shutdown(ctx)))
		}
	}
	runCtx := ctx
	if p.opts.ShutdownGrace > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, p.opts.ShutdownGrace)
		defer cancel()
	}
	if err := p.engine.Shutdown(runCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		errs = append(errs, err)
	}
	p.stopServers(ctx)
	errs = append(errs, p.engine.Close())
	p.closeState()
	return errors.Join(errs...)
}

// Close stops everything at once, cancelling running workflows.
func (p *Project) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := p.Shutdown(ctx)
	if errors.Is(err, ErrClosed) {
		return err
	}
	return nil
}

// stopServers stops the listeners and gateways that may be running.
func (p *Project) stopServers(ctx context.Context) {
	for _, pl := range p.listeners {
		if err := ignoreClosed(pl.l.Shutdown(ctx)); err != nil {
			p.log.Warn("stop listener", "listener", pl.path, "error", err)
		}
	}
	if p.controller != nil {
		_ = p.controller.shutdown(ctx)
	}
	for i, g := range p.gateways {
		if err := ignoreGatewayClosed(g.Shutdown(ctx)); err != nil {
			p.log.Warn("stop gateway", "gateway", p.cfg.Gateways[i].path, "error", err)
		}
	}
}

func ignoreClosed(err error) error {
	if errors.Is(err, listener.ErrClosed) {
		return nil
	}
	return err
}

func ignoreGatewayClosed(err error) error {
	if errors.Is(err, gateway.ErrClosed) || errors.Is(err, gateway.ErrNotStarted) {
		return nil
	}
	return err
}

// resolve gives workflow and listener templates the sources that do not
// come from a run or a request: env and gateway:PORT.
func (p *Project) resolve(source string) (expr.Value, bool) {
	if source == "env" {
		return expr.Of(envFields(p.lookupEnv)), true
	}
	port, ok := strings.CutPrefix(source, "gateway:")
	if !ok {
		return expr.Value{}, false
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return expr.Value{}, false
	}
	g := p.gwByPort[n]
	if g == nil {
		return expr.Value{}, false
	}
	if p.opts.Ephemeral && g.Driver() == "local" {
		if addr := p.ListenerAddr(n); addr != nil {
			return expr.Of(gateway.Endpoint{PublicURL: "http://" + addr.String(), PublicAddress: addr.String(), Port: n}), true
		}
	}
	// Endpoint waits for the tunnel up to the gateway's ready timeout.
	ep, err := g.Endpoint(context.Background(), n)
	if err != nil {
		return expr.Failed(err), true
	}
	return expr.Of(ep), true
}
