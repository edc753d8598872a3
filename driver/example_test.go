package driver_test

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"sync"

	"github.com/tether-go/tether/driver"
)

// fixedDriver is a complete custom driver: it announces public URLs under
// a base URL that some other system (a load balancer, a reverse proxy)
// already routes to this machine, with the local port as the last path
// element. The drivertest suite checks it in driver_test.go.
type fixedDriver struct{}

func (fixedDriver) Open(ctx context.Context, cfg driver.Config) (driver.Session, error) {
	s := driver.NewSettings(cfg.Settings)
	base := s.String("base_url", "")
	if base == "" {
		s.Fail("base_url", "", "missing; set the URL that routes to this machine")
	}
	if err := s.Err(); err != nil {
		return nil, err
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return nil, &driver.ConfigError{Field: "base_url", Value: base, Reason: "expected an absolute URL"}
	}
	return &fixedSession{base: u, tunnels: map[*fixedTunnel]bool{}}, nil
}

type fixedSession struct {
	base *url.URL

	mu      sync.Mutex
	closed  bool                  // guarded by mu
	tunnels map[*fixedTunnel]bool // guarded by mu
}

func (s *fixedSession) Forward(ctx context.Context, f driver.Forward) (driver.Tunnel, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, driver.ErrClosed
	}
	t := &fixedTunnel{session: s}
	t.Set(driver.Endpoint{
		PublicURL:     s.base.JoinPath(strconv.Itoa(f.LocalPort)).String(),
		PublicAddress: s.base.Host,
		Port:          f.LocalPort,
	})
	s.tunnels[t] = true
	return t, nil
}

func (s *fixedSession) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return driver.ErrClosed
	}
	s.closed = true
	for t := range s.tunnels {
		t.Stop()
	}
	return nil
}

// fixedTunnel gets Endpoint, Changed, Done and Err from the embedded
// TunnelState.
type fixedTunnel struct {
	driver.TunnelState
	session *fixedSession
}

func (t *fixedTunnel) Close() error {
	if !t.Stop() {
		return driver.ErrClosed
	}
	t.session.mu.Lock()
	delete(t.session.tunnels, t)
	t.session.mu.Unlock()
	return nil
}

// Example shows a custom driver registered in its own registry and used
// through the contract. A program would call driver.Register in an init
// function, and name the driver in its YAML with "driver: fixed".
func Example() {
	registry := driver.NewRegistry()
	registry.Register("fixed", fixedDriver{})

	ctx := context.Background()
	session, err := registry.Open(ctx, "fixed", driver.Config{
		Settings: map[string]any{"base_url": "https://hooks.example.com/tether"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer session.Close()

	tunnel, err := session.Forward(ctx, driver.Forward{LocalPort: 8090})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tunnel.Endpoint().PublicURL)

	_, err = registry.Open(ctx, "fixd", driver.Config{})
	fmt.Println(err)
	// Output:
	// https://hooks.example.com/tether/8090
	// driver: unknown driver "fixd" (known drivers: fixed; a custom driver must be registered before use)
}

// ExampleSettings shows how a driver reads its settings and reports
// every mistake at once, without showing secret values.
func ExampleSettings() {
	s := driver.NewSettings(map[string]any{
		"host":     "tunnel.example.com",
		"port":     "twenty-two",
		"password": 12345,
		"hots":     "typo",
	})
	fmt.Println(s.String("host", ""))
	fmt.Println(s.Int("port", 22))
	_ = s.Secret("password")
	fmt.Println(s.Err())
	// Output:
	// tunnel.example.com
	// 22
	// invalid setting "port" = "twenty-two": expected an integer
	// invalid setting "password": expected text, found int
	// invalid setting "hots": unknown setting; check its spelling
}
