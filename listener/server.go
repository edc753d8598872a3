package listener

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tether-go/tether/clock"
	"github.com/tether-go/tether/expr"
)

// Listener is an HTTP endpoint set that a host can mount on its own mux,
// or run on its own server with Start.
type Listener interface {
	http.Handler
	// Start binds the configured host and port and serves in the
	// background. It returns once the port is bound.
	Start(ctx context.Context) error
	// Addr returns the bound address, or nil before Start.
	Addr() net.Addr
	// Shutdown stops accepting connections, replies 503 to new requests
	// and waits until in-flight requests finish or ctx ends.
	Shutdown(ctx context.Context) error
	// Close stops the server at once, closing open connections.
	Close() error
}

// endpoint is one configured path and method.
type endpoint interface {
	serve(w http.ResponseWriter, r *http.Request)
}

// route is one path with the endpoints of each method.
type route struct {
	methods map[string]endpoint
	allow   string // the Allow header for 405 replies
}

// core is the part shared by both listener kinds: routing, limits,
// in-flight accounting and the optional own server.
type core struct {
	kind    string // "http-callback" or "http-trigger", for logs
	address string // host:port for Start
	limits  Limits
	logger  *slog.Logger
	warn    *warnLimiter
	sources expr.Resolver
	clock   clock.Clock
	// observer is nil when Options.Observer is.
	observer *Observer
	routes   map[string]*route
	slots    chan struct{} // nil means no concurrency limit

	reqMu    sync.Mutex    // guards closing, active and drained
	closing  bool          // set by Shutdown and Close
	active   int           // requests inside serve
	drained  chan struct{} // closed when active drops to zero while closing
	serverMu sync.Mutex    // guards srv, ln, started, shutdown and closed
	srv      *http.Server
	ln       net.Listener
	served   chan struct{} // closed when srv.Serve returns
	started  bool
	shutdown bool
	closed   bool
}

func newCore(kind, host string, port, maxConcurrent int, limits Limits, opts *Options) (*core, error) {
	if opts == nil {
		opts = &Options{}
	}
	limits, err := limits.withDefaults()
	if err != nil {
		return nil, err
	}
	if maxConcurrent < 0 {
		return nil, invalid("max_concurrent_count", "%d is negative; use 0 for unlimited", maxConcurrent)
	}
	if port < 0 || port > 65535 {
		return nil, invalid("port", "%d is outside 1-65535", port)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &core{
		kind:     kind,
		address:  net.JoinHostPort(host, strconv.Itoa(port)),
		limits:   limits,
		logger:   logger,
		warn:     newWarnLimiter(logger, clock.Or(opts.Clock)),
		sources:  opts.Sources,
		clock:    clock.Or(opts.Clock),
		observer: opts.Observer,
		routes:   make(map[string]*route),
	}
	if maxConcurrent > 0 {
		c.slots = make(chan struct{}, maxConcurrent)
	}
	return c, nil
}

func (l Limits) withDefaults() (Limits, error) {
	checks := []struct {
		name     string
		negative bool
	}{
		{"max_body_bytes", l.MaxBodyBytes < 0},
		{"max_header_bytes", l.MaxHeaderBytes < 0},
		{"read_header_timeout", l.ReadHeaderTimeout < 0},
		{"read_timeout", l.ReadTimeout < 0},
		{"write_timeout", l.WriteTimeout < 0},
		{"idle_timeout", l.IdleTimeout < 0},
		{"queue_timeout", l.QueueTimeout < 0},
		{"retry_after", l.RetryAfter < 0},
		{"idempotency_max_keys", l.IdempotencyMaxKeys < 0},
		{"max_bulk_items", l.MaxBulkItems < 0},
	}
	for _, check := range checks {
		if check.negative {
			return l, invalid("limits."+check.name, "negative value; use 0 for the default")
		}
	}
	setDefault(&l.MaxBodyBytes, DefaultMaxBodyBytes)
	setDefault(&l.MaxHeaderBytes, DefaultMaxHeaderBytes)
	setDefault(&l.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	setDefault(&l.ReadTimeout, DefaultReadTimeout)
	setDefault(&l.WriteTimeout, DefaultWriteTimeout)
	setDefault(&l.IdleTimeout, DefaultIdleTimeout)
	setDefault(&l.QueueTimeout, DefaultQueueTimeout)
	setDefault(&l.RetryAfter, DefaultRetryAfter)
	setDefault(&l.IdempotencyMaxKeys, DefaultIdempotencyMaxKeys)
	setDefault(&l.MaxBulkItems, DefaultMaxBulkItems)
	return l, nil
}

func setDefault[T comparable](field *T, value T) {
	var zero T
	if *field == zero {
		*field = value
	}
}

// addRoute registers ep under basePath+p for method. field names the
// endpoint in errors, such as "callbacks[0]".
func (c *core) addRoute(field, basePath, p, method string, ep endpoint) error {
	if strings.TrimSpace(p) == "" {
		return invalid(field+".path", "missing; set the endpoint's path, such as /callback")
	}
	if strings.ContainsAny(p, "?#") || strings.ContainsAny(basePath, "?#") {
		return invalid(field+".path", "%q contains '?' or '#'; a path cannot hold a query or fragment", basePath+p)
	}
	full := path.Join("/", basePath, p)
	rt := c.routes[full]
	if rt == nil {
		rt = &route{methods: make(map[string]endpoint)}
		c.routes[full] = rt
	}
	if _, dup := rt.methods[method]; dup {
		return invalid(field+".path", "%s %s is already taken by another endpoint", method, full)
	}
	rt.methods[method] = ep
	methods := make([]string, 0, len(rt.methods))
	for m := range rt.methods {
		methods = append(methods, m)
	}
	sort.Strings(methods)
	rt.allow = strings.Join(methods, ", ")
	return nil
}

// normalizeMethod upper-cases method and applies the POST default.
func normalizeMethod(field, method string) (string, error) {
	method = strings.ToUpper(strings.TrimSpace(method))
	if method == "" {
		return DefaultMethod, nil
	}
	for _, r := range method {
		if r < 'A' || r > 'Z' {
			return "", invalid(field+".method", "%q is not an HTTP method", method)
		}
	}
	return method, nil
}

// ServeHTTP routes a request to its endpoint. A path matches with or
// without a trailing slash, and no request is redirected.
func (c *core) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt := c.routes[cleanPath(r.URL.Path)]
	if rt == nil {
		// A sender configured with a wrong callback URL shows up only
		// here, so it is logged (rate-limited) rather than dropped silently.
		c.warn.log("listener: request for an unknown path", "listener", c.kind, "method", r.Method, "path", logPath(r.URL.Path))
		writeError(w, http.StatusNotFound, "no endpoint at this path")
		return
	}
	ep := rt.methods[r.Method]
	if ep == nil {
		c.warn.log("listener: request with a method the path does not take", "listener", c.kind, "method", r.Method, "path", logPath(r.URL.Path), "allow", rt.allow)
		w.Header().Set("Allow", rt.allow)
		writeError(w, http.StatusMethodNotAllowed, "method not allowed; use "+rt.allow)
		return
	}
	if !c.enter() {
		w.Header().Set("Connection", "close")
		c.writeUnavailable(w, "listener is shutting down")
		return
	}
	defer c.leave()
	ep.serve(w, r)
}

// logPath shortens a request path for a log record.
func logPath(p string) string {
	const limit = 200
	if len(p) > limit {
		return p[:limit] + "..."
	}
	return p
}

func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	return path.Clean("/" + p)
}

// acquire takes a concurrency slot, waiting at most QueueTimeout. It
// returns false after replying 503 when no slot became free. Each true
// return must be matched by a call to release.
func (c *core) acquire(w http.ResponseWriter, r *http.Request) bool {
	if c.slots == nil {
		return true
	}
	if c.waitForSlot(r.Context()) {
		return true
	}
	c.warn.log("listener: request rejected: max_concurrent_count reached",
		"listener", c.kind, "path", r.URL.Path)
	c.writeUnavailable(w, "too many concurrent requests; retry later")
	return false
}

// release frees the slot taken by acquire.
func (c *core) release() {
	if c.slots != nil {
		<-c.slots
	}
}

// waitForSlot takes a slot from c.slots, waiting at most QueueTimeout.
func (c *core) waitForSlot(ctx context.Context) bool {
	select {
	case c.slots <- struct{}{}:
		return true
	default:
	}
	timer := time.NewTimer(c.limits.QueueTimeout)
	defer timer.Stop()
	select {
	case c.slots <- struct{}{}:
		return true
	case <-timer.C:
		return false
	case <-ctx.Done():
		return false
	}
}

func (c *core) enter() bool {
	c.reqMu.Lock()
	defer c.reqMu.Unlock()
	if c.closing {
		return false
	}
	c.active++
	return true
}

func (c *core) leave() {
	c.reqMu.Lock()
	defer c.reqMu.Unlock()
	c.active--
	if c.active == 0 && c.drained != nil {
		close(c.drained)
		c.drained = nil
	}
}

// drain marks the listener as closing and waits until no request is in
// flight.
func (c *core) drain(ctx context.Context) error {
	c.reqMu.Lock()
	c.closing = true
	if c.active == 0 {
		c.reqMu.Unlock()
		return nil
	}
	if c.drained == nil {
		c.drained = make(chan struct{})
	}
	drained := c.drained
	c.reqMu.Unlock()
	select {
	case <-drained:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("drain in-flight requests: %w", ctx.Err())
	}
}

func (c *core) writeUnavailable(w http.ResponseWriter, msg string) {
	seconds := int((c.limits.RetryAfter + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(seconds))
	writeError(w, http.StatusServiceUnavailable, msg)
}

// start binds the configured address and serves h on it.
func (c *core) start(ctx context.Context, h http.Handler) error {
	if err := c.checkStartable(); err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", c.address)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.address, err)
	}
	if err := c.startOn(ln, h); err != nil {
		ln.Close()
		return err
	}
	return nil
}

func (c *core) checkStartable() error {
	c.serverMu.Lock()
	defer c.serverMu.Unlock()
	if c.shutdown || c.closed {
		return ErrClosed
	}
	if c.started {
		return ErrStarted
	}
	return nil
}

// startOn serves h on ln in a new goroutine.
func (c *core) startOn(ln net.Listener, h http.Handler) error {
	c.serverMu.Lock()
	defer c.serverMu.Unlock()
	if c.shutdown || c.closed {
		return ErrClosed
	}
	if c.started {
		return ErrStarted
	}

	c.started = true
	ln = &onceCloseListener{Listener: ln}
	c.ln = ln
	c.srv = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: c.limits.ReadHeaderTimeout,
		ReadTimeout:       c.limits.ReadTimeout,
		WriteTimeout:      c.limits.WriteTimeout,
		IdleTimeout:       c.limits.IdleTimeout,
		MaxHeaderBytes:    c.limits.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(c.logger.Handler(), slog.LevelDebug),
	}

	c.served = make(chan struct{})
	srv, served := c.srv, c.served
	go func() {
		defer close(served)
		err := srv.Serve(ln)
		if err != nil && !errors.Is(err, http.ErrServerClosed) && !c.isClosing() {
			c.logger.Error("listener: server stopped", "listener", c.kind, "addr", ln.Addr().String(), "error", err)
		}
	}()
	c.logger.Info("listener: started", "listener", c.kind, "addr", ln.Addr().String())
	return nil
}

func (c *core) isClosing() bool {
	c.reqMu.Lock()
	defer c.reqMu.Unlock()
	return c.closing
}

// onceCloseListener lets Shutdown close the socket before http.Server
// closes it again.
type onceCloseListener struct {
	net.Listener
	once sync.Once
	err  error
}

func (l *onceCloseListener) Close() error {
	l.once.Do(func() { l.err = l.Listener.Close() })
	return l.err
}

func (c *core) addr() net.Addr {
	c.serverMu.Lock()
	defer c.serverMu.Unlock()
	if c.ln == nil {
		return nil
	}
	return c.ln.Addr()
}

func (c *core) shutdownServer(ctx context.Context) error {
	c.serverMu.Lock()
	if c.shutdown || c.closed {
		c.serverMu.Unlock()
		return ErrClosed
	}
	c.shutdown = true
	srv, ln := c.srv, c.ln
	c.serverMu.Unlock()

	// The socket is closed first, so no new connection is accepted. The
	// server itself is shut down only after the in-flight requests have
	// drained: until then, requests that arrive on open keep-alive
	// connections reach ServeHTTP and get 503, where http.Server would
	// drop them without a reply.
	if ln != nil {
		ln.Close()
	}
	err := c.drain(ctx)
	if srv != nil {
		if shutdownErr := srv.Shutdown(ctx); err == nil {
			err = shutdownErr
		}
	}
	c.logger.Info("listener: shut down", "listener", c.kind, "error", err)
	return err
}

func (c *core) close() error {
	c.serverMu.Lock()
	if c.closed {
		c.serverMu.Unlock()
		return ErrClosed
	}
	c.closed = true
	srv, served := c.srv, c.served
	c.serverMu.Unlock()

	c.reqMu.Lock()
	c.closing = true
	c.reqMu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Close()
	<-served
	c.logger.Info("listener: closed", "listener", c.kind)
	return err
}

// invalid returns a *ConfigError for field with a formatted reason.
func invalid(field, format string, args ...any) error {
	return &ConfigError{Field: field, Err: fmt.Errorf(format, args...)}
}
