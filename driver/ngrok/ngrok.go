package ngrok

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tether-go/tether/driver"
)

// Name is the name under which the driver registers itself.
const Name = "ngrok"

func init() { driver.Register(Name, New(nil)) }

// DefaultConnectTimeout bounds connecting the agent session when the
// connect_timeout setting is absent.
const DefaultConnectTimeout = 30 * time.Second

// TokenEnv is the environment variable read when the authtoken setting is
// absent.
const TokenEnv = "NGROK_AUTHTOKEN"

// ErrMissingToken is returned by Open when neither the authtoken setting
// nor NGROK_AUTHTOKEN is set. It wraps [driver.ErrInvalidConfig].
var ErrMissingToken = fmt.Errorf("%w: ngrok needs an authtoken: set authtoken in the gateway "+
	"(for example authtoken: ${env.NGROK_AUTHTOKEN}) or the %s environment variable; "+
	"copy it from https://dashboard.ngrok.com/get-started/your-authtoken", driver.ErrInvalidConfig, TokenEnv)

// Options configures the driver. A nil *Options is valid.
type Options struct {
	// NewAgent creates the agent session. Nil means an agent of
	// golang.ngrok.com/ngrok/v2. Tests pass a fake so that no traffic
	// reaches ngrok.
	NewAgent func(cfg AgentConfig) (Agent, error)
}

// AgentConfig is the input of [Options.NewAgent].
type AgentConfig struct {
	// Authtoken is the ngrok authtoken. It is a secret.
	Authtoken string
	// Logger receives the agent's records.
	Logger *slog.Logger
}

// Agent is the part of an ngrok agent that the driver uses: the seam
// between the driver and golang.ngrok.com/ngrok/v2.
type Agent interface {
	// Connect opens the agent session.
	Connect(ctx context.Context) error
	// Forward opens an endpoint that forwards to upstream, a URL such
	// as http://127.0.0.1:8090. fixedURL is "" for a random URL.
	Forward(ctx context.Context, upstream, fixedURL string) (Endpoint, error)
	// Listen opens an endpoint whose connections the caller accepts.
	Listen(ctx context.Context, fixedURL string) (ListenerEndpoint, error)
	// Disconnect closes the session and its endpoints.
	Disconnect() error
}

// Endpoint is one open ngrok endpoint.
type Endpoint interface {
	// URL returns the public URL.
	URL() *url.URL
	// Done returns a channel that is closed when the endpoint closes.
	Done() <-chan struct{}
	// Close closes the endpoint.
	Close() error
}

// ListenerEndpoint is an endpoint that is also a net.Listener.
type ListenerEndpoint interface {
	Endpoint
	Accept() (net.Conn, error)
	Addr() net.Addr
}

// Driver is the ngrok driver. It is safe for concurrent use.
type Driver struct {
	newAgent func(AgentConfig) (Agent, error)
}

var (
	_ driver.Driver    = (*Driver)(nil)
	_ driver.Validator = (*Driver)(nil)
)

// New returns the driver. opts may be nil.
func New(opts *Options) *Driver {
	d := &Driver{newAgent: newSDKAgent}
	if opts != nil && opts.NewAgent != nil {
		d.newAgent = opts.NewAgent
	}
	return d
}

// settings is the parsed form of the settings. It holds the authtoken:
// never print it.
type settings struct {
	token          string
	fixedURL       string
	urls           map[int]string
	connectTimeout time.Duration
}

func parseSettings(m map[string]any) (settings, error) {
	r := driver.NewSettings(m)
	out := settings{
		token:          r.Secret("authtoken"),
		fixedURL:       r.String("url", ""),
		connectTimeout: r.Duration("connect_timeout", DefaultConnectTimeout),
	}
	if domain := r.String("domain", ""); domain != "" {
		if out.fixedURL != "" {
			r.Fail("domain", domain, "set either url or domain, not both")
		}
		out.fixedURL = "https://" + domain
	}
	if out.fixedURL != "" {
		if err := checkURL(out.fixedURL); err != nil {
			r.Fail("url", out.fixedURL, err.Error())
		}
	}
	perPort := r.Map("urls")
	for _, key := range perPort.Keys() {
		raw := perPort.String(key, "")
		port, err := strconv.Atoi(key)
		if err != nil || port < 1 || port > 65535 {
			perPort.Fail(key, raw, "the key must be a local port from 1 to 65535")
			continue
		}
		if err := checkURL(raw); err != nil {
			perPort.Fail(key, raw, err.Error())
			continue
		}
		if out.urls == nil {
			out.urls = map[int]string{}
		}
		out.urls[port] = raw
	}
	if out.connectTimeout <= 0 {
		r.Fail("connect_timeout", out.connectTimeout.String(), "expected a positive duration")
	}
	return out, r.Err()
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return errors.New("expected an http or https URL such as https://hooks.example.ngrok.app")
	}
	return nil
}

// Validate checks the settings. It does not require the authtoken,
// which may come from the environment at start.
func (d *Driver) Validate(cfg driver.Config) error {
	_, err := parseSettings(cfg.Settings)
	return err
}

// Open checks the settings and the authtoken, then connects one agent
// session within connect_timeout.
func (d *Driver) Open(ctx context.Context, cfg driver.Config) (driver.Session, error) {
	s, err := parseSettings(cfg.Settings)
	if err != nil {
		return nil, err
	}
	if s.token == "" {
		s.token = strings.TrimSpace(os.Getenv(TokenEnv))
	}
	if s.token == "" {
		return nil, ErrMissingToken
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	agent, err := d.newAgent(AgentConfig{Authtoken: s.token, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("create ngrok agent: %w", mapError(err, s.token))
	}
	connectCtx, cancel := context.WithTimeout(ctx, s.connectTimeout)
	defer cancel()
	if err := agent.Connect(connectCtx); err != nil {
		_ = agent.Disconnect()
		if connectCtx.Err() != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("connect ngrok agent: no session after %s (connect_timeout): %w",
				s.connectTimeout, mapError(err, s.token))
		}
		return nil, fmt.Errorf("connect ngrok agent: %w", mapError(err, s.token))
	}
	logger.Info("ngrok: agent session connected")
	return &session{settings: s, agent: agent, logger: logger, endpoints: map[*endpoint]bool{}}, nil
}

type session struct {
	settings settings
	agent    Agent
	logger   *slog.Logger

	mu        sync.Mutex
	closed    bool               // guarded by mu
	endpoints map[*endpoint]bool // guarded by mu
	fixedUsed bool               // guarded by mu; whether the url setting is taken
}

var (
	_ driver.Session   = (*session)(nil)
	_ driver.Listening = (*session)(nil)
)

// fixedURLFor returns the fixed URL for a local port, or "" for a
// random one. The url and domain settings serve one port only.
func (s *session) fixedURLFor(port int) (string, error) {
	if u, ok := s.settings.urls[port]; ok {
		return u, nil
	}
	if s.settings.fixedURL == "" {
		return "", nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fixedUsed {
		return "", &driver.ConfigError{Field: "url", Value: s.settings.fixedURL,
			Reason: "one fixed URL cannot serve two ports; use urls to give each port its own"}
	}
	s.fixedUsed = true
	return s.settings.fixedURL, nil
}

func (s *session) Forward(ctx context.Context, f driver.Forward) (driver.Tunnel, error) {
	if f.RemotePort != 0 || f.RemoteHost != "" {
		return nil, &driver.ConfigError{Field: "port", Value: strconv.Itoa(f.RemotePort),
			Reason: "ngrok chooses the public side; give only the local port"}
	}
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	fixed, err := s.fixedURLFor(f.LocalPort)
	if err != nil {
		return nil, err
	}
	ep, err := s.agent.Forward(ctx, "http://"+f.LocalAddress(), fixed)
	if err != nil {
		return nil, fmt.Errorf("open ngrok endpoint for port %d: %w", f.LocalPort, mapError(err, s.settings.token))
	}
	return s.track(ep, f.LocalPort), nil
}

func (s *session) Listen(ctx context.Context, f driver.Forward) (driver.Listener, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	fixed, err := s.fixedURLFor(f.LocalPort)
	if err != nil {
		return nil, err
	}
	ep, err := s.agent.Listen(ctx, fixed)
	if err != nil {
		return nil, fmt.Errorf("open ngrok listener: %w", mapError(err, s.settings.token))
	}
	return &listener{endpoint: s.track(ep, f.LocalPort), ln: ep}, nil
}

func (s *session) checkOpen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return driver.ErrClosed
	}
	return nil
}

func (s *session) track(ep Endpoint, port int) *endpoint {
	e := &endpoint{session: s, ep: ep, closing: make(chan struct{})}
	u := ep.URL()
	address := u.Host
	if u.Port() == "" {
		port := "443"
		if u.Scheme == "http" {
			port = "80"
		}
		address = net.JoinHostPort(u.Hostname(), port)
	}
	e.Set(driver.Endpoint{PublicURL: u.String(), PublicAddress: address, Port: port})

	s.mu.Lock()
	s.endpoints[e] = true
	s.mu.Unlock()

	e.wg.Add(1)
	go e.watch()
	return e
}

func (s *session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return driver.ErrClosed
	}
	s.closed = true
	endpoints := s.endpoints
	s.endpoints = map[*endpoint]bool{}
	s.mu.Unlock()

	for e := range endpoints {
		_ = e.Close()
	}
	if err := s.agent.Disconnect(); err != nil {
		return fmt.Errorf("disconnect ngrok agent: %w", mapError(err, s.settings.token))
	}
	s.logger.Info("ngrok: agent session closed")
	return nil
}

// endpoint is a tunnel backed by one ngrok endpoint.
type endpoint struct {
	driver.TunnelState
	session *session
	ep      Endpoint
	closing chan struct{} // closed by Close
	once    sync.Once
	wg      sync.WaitGroup
}

var _ driver.Tunnel = (*endpoint)(nil)

// watch fails the tunnel when ngrok closes the endpoint on its own.
func (e *endpoint) watch() {
	defer e.wg.Done()
	select {
	case <-e.closing:
	case <-e.ep.Done():
		select {
		case <-e.closing:
		default:
			e.session.logger.Error("ngrok: endpoint closed by ngrok", "public_url", e.Endpoint().PublicURL)
			e.Fail(errors.New("ngrok closed the endpoint " + e.Endpoint().PublicURL))
		}
	}
}

func (e *endpoint) Close() error {
	closed := false
	e.once.Do(func() {
		closed = true
		close(e.closing)
	})
	if !closed {
		return driver.ErrClosed
	}
	err := e.ep.Close()
	e.wg.Wait()
	e.Stop()

	e.session.mu.Lock()
	delete(e.session.endpoints, e)
	e.session.mu.Unlock()
	if err != nil {
		return fmt.Errorf("close ngrok endpoint: %w", mapError(err, e.session.settings.token))
	}
	return nil
}

// listener is an endpoint whose connections the host program accepts.
type listener struct {
	*endpoint
	ln ListenerEndpoint
}

var _ driver.Listener = (*listener)(nil)

func (l *listener) Accept() (net.Conn, error) { return l.ln.Accept() }
func (l *listener) Addr() net.Addr            { return l.ln.Addr() }
