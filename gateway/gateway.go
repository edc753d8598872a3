package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tether-go/tether/driver"
)

// Sentinel errors, usable with errors.Is.
var (
	// ErrUnknownPort is returned for a port that the gateway does not
	// serve, such as ${gateway:9999.public_url} when only 8090 is
	// configured.
	ErrUnknownPort = errors.New("gateway: no tunnel for port")
	// ErrNotReady is wrapped when a tunnel has no public endpoint before
	// the deadline.
	ErrNotReady = errors.New("gateway: tunnel not ready")
	// ErrNotStarted is returned by Endpoint before Start.
	ErrNotStarted = errors.New("gateway: not started")
	// ErrClosed is returned after Shutdown or Close, and by a second
	// Start.
	ErrClosed = errors.New("gateway: closed")
)

// DefaultReadyTimeout is how long [Gateway.Endpoint] waits for a tunnel
// when its context has no deadline and [Options.ReadyTimeout] is zero.
const DefaultReadyTimeout = 60 * time.Second

// Endpoint is the public side of one tunnel.
type Endpoint = driver.Endpoint

// Gateway exposes local ports through one driver: one tunnel per port.
// All methods are safe for concurrent use.
type Gateway interface {
	// Start opens the driver's session and then, in the background, one
	// tunnel per port. ctx bounds opening the session; the tunnels live
	// until Shutdown or Close. Start returns the driver's error, such as
	// a configuration or authentication error. Calling Start twice, or
	// after Close, returns an error.
	Start(ctx context.Context) error
	// Endpoint returns the public endpoint of the tunnel to the local
	// port. It waits until the tunnel is ready, until ctx ends, or for
	// [Options.ReadyTimeout] when ctx has no deadline. It returns an
	// error wrapping [ErrUnknownPort] for a port not configured,
	// [ErrNotReady] on timeout, or the driver's error when the tunnel
	// failed to open.
	Endpoint(ctx context.Context, port int) (Endpoint, error)
	// Ports returns the configured local ports, in configuration order.
	Ports() []int
	// Driver returns the driver's name, such as "ssh".
	Driver() string
	// Shutdown closes every tunnel and the session, and waits for them
	// until ctx ends. A second call returns [ErrClosed].
	Shutdown(ctx context.Context) error
	// Close is Shutdown without a deadline.
	Close() error
}

// Options configures a gateway. A nil *Options means the defaults.
type Options struct {
	// Logger receives the gateway's and its driver's records. Nil means
	// discard.
	Logger *slog.Logger
	// Registry finds the driver. Nil means [driver.Default].
	Registry *driver.Registry
	// ReadyTimeout bounds Endpoint when its context has no deadline.
	// Zero means [DefaultReadyTimeout].
	ReadyTimeout time.Duration
	// OnChange, when not nil, is called in its own goroutine with each
	// new endpoint: when a tunnel becomes ready and whenever its public
	// URL or address changes.
	OnChange func(Endpoint)
	// OnTunnel, when not nil, is called with each change of a tunnel's
	// state: up when it opens, down when it fails to open, stops or is
	// closed. It is called synchronously from the gateway's goroutines,
	// so it must be fast and safe for concurrent use.
	OnTunnel func(TunnelStatus)
}

// TunnelStatus is the state of one tunnel, reported to Options.OnTunnel.
type TunnelStatus struct {
	// Driver is the gateway's driver, such as "ssh".
	Driver string
	// Port is the local port the tunnel leads to.
	Port int
	// Up is true while the tunnel is open.
	Up bool
	// Err is the error that kept the tunnel from opening or stopped it, or nil.
	Err error
}

// New checks cfg and returns a gateway that is not started yet. It
// fails when the type, the driver or the ports are invalid, and, for
// drivers that implement [driver.Validator], when a setting is.
func New(cfg Config, opts *Options) (Gateway, error) {
	if opts == nil {
		opts = &Options{}
	}
	name, err := cfg.DriverName()
	if err != nil {
		return nil, fmt.Errorf("check gateway: %w", err)
	}
	if len(cfg.Ports) == 0 {
		return nil, fmt.Errorf("check gateway: %w", &driver.ConfigError{Field: "port",
			Reason: "missing; set the local port to expose, such as 8090"})
	}

	registry := opts.Registry
	if registry == nil {
		registry = driver.Default()
	}
	d, err := registry.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("check gateway: %w", err)
	}

	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("gateway_driver", name)

	g := &gateway{
		name:         name,
		driver:       d,
		settings:     cfg.Settings,
		logger:       logger,
		readyTimeout: opts.ReadyTimeout,
		onChange:     opts.OnChange,
		onTunnel:     opts.OnTunnel,
		ports:        make(map[int]*portState, len(cfg.Ports)),
		closed:       make(chan struct{}),
	}
	if g.readyTimeout <= 0 {
		g.readyTimeout = DefaultReadyTimeout
	}
	for _, m := range cfg.Ports {
		if err := checkPort(m); err != nil {
			return nil, fmt.Errorf("check gateway: %w", err)
		}
		if _, dup := g.ports[m.LocalPort]; dup {
			return nil, fmt.Errorf("check gateway: %w: local port %d appears twice", ErrInvalidPort, m.LocalPort)
		}
		g.order = append(g.order, m.LocalPort)
		g.ports[m.LocalPort] = &portState{mapping: m, ready: make(chan struct{})}
	}

	if v, ok := d.(driver.Validator); ok {
		if err := v.Validate(g.driverConfig()); err != nil {
			return nil, fmt.Errorf("check gateway %s: %w", name, err)
		}
	}
	return g, nil
}

func checkPort(m PortMapping) error {
	if m.LocalPort < 1 || m.LocalPort > 65535 {
		return fmt.Errorf("%w %d: expected a local port from 1 to 65535", ErrInvalidPort, m.LocalPort)
	}
	if m.RemotePort < 0 || m.RemotePort > 65535 {
		return fmt.Errorf("%w %d: expected a remote port from 1 to 65535", ErrInvalidPort, m.RemotePort)
	}
	return nil
}

type gateway struct {
	name         string
	driver       driver.Driver
	settings     map[string]any
	logger       *slog.Logger
	readyTimeout time.Duration
	onChange     func(Endpoint)
	onTunnel     func(TunnelStatus)
	order        []int
	ports        map[int]*portState // fixed after New; each entry has its own lock

	mu       sync.Mutex
	started  bool               // guarded by mu
	shutdown bool               // guarded by mu
	session  driver.Session     // guarded by mu
	cancel   context.CancelFunc // guarded by mu; stops the run goroutines
	wg       sync.WaitGroup     // the run goroutines, one per port
	closed   chan struct{}      // closed by Shutdown
}

type portState struct {
	mapping PortMapping
	ready   chan struct{} // closed when tunnel or err is set

	mu     sync.Mutex
	tunnel driver.Tunnel // guarded by mu
	err    error         // guarded by mu
}

var _ Gateway = (*gateway)(nil)

func (g *gateway) driverConfig() driver.Config {
	return driver.Config{Settings: g.settings, Logger: g.logger}
}

func (g *gateway) Driver() string { return g.name }

func (g *gateway) Ports() []int {
	out := make([]int, len(g.order))
	copy(out, g.order)
	return out
}

func (g *gateway) Start(ctx context.Context) error {
	g.mu.Lock()
	if g.shutdown {
		g.mu.Unlock()
		return ErrClosed
	}
	if g.started {
		g.mu.Unlock()
		return fmt.Errorf("start gateway %s: already started", g.name)
	}
	g.started = true
	g.mu.Unlock()

	session, err := g.driver.Open(ctx, g.driverConfig())
	if err != nil {
		for _, port := range g.order {
			g.reportTunnel(port, false, err)
		}
		g.failAll(err)
		return fmt.Errorf("start gateway %s: %w", g.name, err)
	}

	g.mu.Lock()
	defer g.mu.Unlock()
	if g.shutdown {
		_ = session.Close()
		return ErrClosed
	}
	g.session = session
	runCtx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	for _, port := range g.order {
		ps := g.ports[port]
		g.wg.Add(1)
		go g.run(runCtx, session, ps)
	}
	return nil
}

func (g *gateway) failAll(err error) {
	for _, ps := range g.ports {
		ps.finish(nil, err)
	}
}

func (ps *portState) finish(t driver.Tunnel, err error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.tunnel != nil || ps.err != nil {
		return
	}
	ps.tunnel, ps.err = t, err
	close(ps.ready)
}

// run opens one tunnel and then reports its changes until it stops.
func (g *gateway) run(ctx context.Context, session driver.Session, ps *portState) {
	defer g.wg.Done()
	m := ps.mapping
	f := driver.Forward{LocalPort: m.LocalPort, RemoteHost: m.RemoteHost, RemotePort: m.RemotePort}

	tunnel, err := session.Forward(ctx, f)
	if err != nil {
		if ctx.Err() == nil {
			g.logger.Error("gateway "+g.name+": open tunnel failed", "port", m.LocalPort, "error", err)
		}
		ps.finish(nil, fmt.Errorf("open %s tunnel for port %d: %w", g.name, m.LocalPort, err))
		g.reportTunnel(m.LocalPort, false, err)
		return
	}
	ps.finish(tunnel, nil)
	g.reportTunnel(m.LocalPort, true, nil)

	endpoint := tunnel.Endpoint()
	g.announce(endpoint)
	for {
		changed := tunnel.Changed()
		select {
		case <-ctx.Done():
			g.reportTunnel(m.LocalPort, false, nil)
			return
		case <-tunnel.Done():
			if err := tunnel.Err(); err != nil && ctx.Err() == nil {
				g.logger.Error("gateway "+g.name+": tunnel stopped", "port", m.LocalPort, "error", err)
			}
			g.reportTunnel(m.LocalPort, false, tunnel.Err())
			return
		case <-changed:
			next := tunnel.Endpoint()
			if next == endpoint {
				continue
			}
			g.logger.Warn(fmt.Sprintf("gateway %s: public endpoint of port %d changed from %s to %s",
				g.name, m.LocalPort, describe(endpoint), describe(next)),
				"port", m.LocalPort, "old", describe(endpoint), "new", describe(next))
			endpoint = next
			g.announce(endpoint)
		}
	}
}

func (g *gateway) reportTunnel(port int, up bool, err error) {
	if g.onTunnel != nil {
		g.onTunnel(TunnelStatus{Driver: g.name, Port: port, Up: up, Err: err})
	}
}

func describe(e Endpoint) string {
	if e.PublicURL != "" {
		return e.PublicURL
	}
	return e.PublicAddress
}

func (g *gateway) announce(e Endpoint) {
	g.logger.Info(fmt.Sprintf("gateway %s: %s -> %d", g.name, describe(e), e.Port),
		"public_url", e.PublicURL, "public_address", e.PublicAddress, "port", e.Port)
	if g.onChange != nil {
		go g.onChange(e)
	}
}

func (g *gateway) Endpoint(ctx context.Context, port int) (Endpoint, error) {
	ps, ok := g.ports[port]
	if !ok {
		return Endpoint{}, fmt.Errorf("%w %d (gateway %s serves ports %v)", ErrUnknownPort, port, g.name, g.order)
	}
	g.mu.Lock()
	started, shutdown := g.started, g.shutdown
	g.mu.Unlock()
	if shutdown {
		return Endpoint{}, ErrClosed
	}
	if !started {
		return Endpoint{}, fmt.Errorf("%w: call Start before reading the endpoint of port %d", ErrNotStarted, port)
	}

	// The context's own deadline wins; ReadyTimeout applies only to a
	// context without one.
	wait := g.readyTimeout
	var expired <-chan time.Time
	if _, ok := ctx.Deadline(); !ok {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		expired = timer.C
	}

	select {
	case <-ps.ready:
	case <-ctx.Done():
		return Endpoint{}, fmt.Errorf("%w: %s tunnel for port %d has no public endpoint yet: %w",
			ErrNotReady, g.name, port, ctx.Err())
	case <-expired:
		return Endpoint{}, fmt.Errorf("%w: %s tunnel for port %d has no public endpoint after %s; check the gateway log",
			ErrNotReady, g.name, port, wait.Round(time.Millisecond))
	case <-g.closed:
		return Endpoint{}, ErrClosed
	}

	ps.mu.Lock()
	tunnel, err := ps.tunnel, ps.err
	ps.mu.Unlock()
	if err != nil {
		return Endpoint{}, err
	}
	select {
	case <-tunnel.Done():
		if err := tunnel.Err(); err != nil {
			return Endpoint{}, fmt.Errorf("%s tunnel for port %d stopped: %w", g.name, port, err)
		}
		return Endpoint{}, ErrClosed
	default:
	}
	return tunnel.Endpoint(), nil
}

func (g *gateway) Shutdown(ctx context.Context) error {
	g.mu.Lock()
	if g.shutdown {
		g.mu.Unlock()
		return ErrClosed
	}
	g.shutdown = true
	close(g.closed)
	session, cancel := g.session, g.cancel
	g.mu.Unlock()

	done := make(chan error, 1)
	go func() {
		if cancel != nil {
			cancel()
		}
		// Wait for the run goroutines first, so that no tunnel opens
		// after the loop below has closed the others.
		g.wg.Wait()
		var errs []error
		for _, ps := range g.ports {
			ps.mu.Lock()
			t := ps.tunnel
			ps.mu.Unlock()
			if t != nil {
				if err := t.Close(); err != nil && !errors.Is(err, driver.ErrClosed) {
					errs = append(errs, err)
				}
			}
		}
		if session != nil {
			if err := session.Close(); err != nil && !errors.Is(err, driver.ErrClosed) {
				errs = append(errs, err)
			}
		}
		g.failAll(ErrClosed)
		g.logger.Info("gateway " + g.name + ": stopped")
		done <- errors.Join(errs...)
	}()

	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("shut down gateway %s: %w", g.name, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("shut down gateway %s: %w", g.name, ctx.Err())
	}
}

func (g *gateway) Close() error { return g.Shutdown(context.Background()) }
