package local

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"

	"github.com/tether-go/tether/driver"
)

// Name is the name under which the driver registers itself.
const Name = "local"

func init() { driver.Register(Name, New(nil)) }

// Options configures the driver. It has no fields yet, and a nil
// *Options is valid.
type Options struct{}

// Driver is the local driver. It is safe for concurrent use.
type Driver struct{}

var (
	_ driver.Driver    = (*Driver)(nil)
	_ driver.Validator = (*Driver)(nil)
)

// New returns the driver. opts may be nil.
func New(opts *Options) *Driver { return &Driver{} }

type settings struct {
	host   string
	scheme string
}

func parse(cfg driver.Config) (settings, error) {
	s := driver.NewSettings(cfg.Settings)
	out := settings{
		host:   s.String("host", "127.0.0.1"),
		scheme: s.String("scheme", "http"),
	}
	if out.scheme != "http" && out.scheme != "https" {
		s.Fail("scheme", out.scheme, `expected "http" or "https"`)
	}
	if out.host == "" {
		s.Fail("host", "", "must not be empty; remove it to use 127.0.0.1")
	}
	return out, s.Err()
}

// Validate checks the settings.
func (d *Driver) Validate(cfg driver.Config) error {
	_, err := parse(cfg)
	return err
}

// Open checks the settings and returns a session. It sends no traffic.
func (d *Driver) Open(ctx context.Context, cfg driver.Config) (driver.Session, error) {
	s, err := parse(cfg)
	if err != nil {
		return nil, err
	}
	return &session{settings: s}, nil
}

type session struct {
	settings settings

	mu      sync.Mutex
	closed  bool             // guarded by mu
	tunnels map[*tunnel]bool // guarded by mu
}

func (s *session) Forward(ctx context.Context, f driver.Forward) (driver.Tunnel, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open local tunnel: %w", err)
	}
	if f.RemotePort != 0 || f.RemoteHost != "" {
		return nil, &driver.ConfigError{Field: "port", Value: strconv.Itoa(f.RemotePort),
			Reason: "the local driver has no remote side; give only the local port"}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, driver.ErrClosed
	}
	address := net.JoinHostPort(s.settings.host, strconv.Itoa(f.LocalPort))
	t := &tunnel{session: s}
	t.Set(driver.Endpoint{PublicURL: s.settings.scheme + "://" + address, PublicAddress: address, Port: f.LocalPort})
	if s.tunnels == nil {
		s.tunnels = map[*tunnel]bool{}
	}
	s.tunnels[t] = true
	return t, nil
}

func (s *session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return driver.ErrClosed
	}
	s.closed = true
	tunnels := s.tunnels
	s.tunnels = nil
	s.mu.Unlock()

	for t := range tunnels {
		t.Stop()
	}
	return nil
}

type tunnel struct {
	driver.TunnelState
	session *session
}

func (t *tunnel) Close() error {
	if !t.Stop() {
		return driver.ErrClosed
	}
	t.session.mu.Lock()
	delete(t.session.tunnels, t)
	t.session.mu.Unlock()
	return nil
}
