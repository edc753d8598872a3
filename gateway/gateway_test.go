package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/driver"
	"github.com/tether-go/tether/driver/local"
	"github.com/tether-go/tether/gateway"
)

// fakeDriver is a driver built from Func fields.
type fakeDriver struct {
	OpenFunc     func(ctx context.Context, cfg driver.Config) (driver.Session, error)
	ValidateFunc func(cfg driver.Config) error
}

func (d *fakeDriver) Open(ctx context.Context, cfg driver.Config) (driver.Session, error) {
	return d.OpenFunc(ctx, cfg)
}

func (d *fakeDriver) Validate(cfg driver.Config) error {
	if d.ValidateFunc == nil {
		return nil
	}
	return d.ValidateFunc(cfg)
}

type fakeSession struct {
	ForwardFunc func(ctx context.Context, f driver.Forward) (driver.Tunnel, error)
	CloseFunc   func() error
}

func (s *fakeSession) Forward(ctx context.Context, f driver.Forward) (driver.Tunnel, error) {
	return s.ForwardFunc(ctx, f)
}

func (s *fakeSession) Close() error {
	if s.CloseFunc == nil {
		return nil
	}
	return s.CloseFunc()
}

type fakeTunnel struct{ driver.TunnelState }

func (t *fakeTunnel) Close() error {
	if !t.Stop() {
		return driver.ErrClosed
	}
	return nil
}

// syncBuffer is a log destination that is safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func registryWith(name string, d driver.Driver) *driver.Registry {
	r := driver.NewRegistry()
	r.Register(name, d)
	return r
}

func TestLocalGatewayEndpoints(t *testing.T) {
	logs := &syncBuffer{}
	cfg, err := gateway.ParseConfig(map[string]any{"type": "http-tunnel", "driver": "local", "port": []any{8090, "8091"}})
	require.NoError(t, err)
	g, err := gateway.New(cfg, &gateway.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	require.NoError(t, err)
	defer g.Close()

	assert.Equal(t, []int{8090, 8091}, g.Ports())
	assert.Equal(t, local.Name, g.Driver())

	_, err = g.Endpoint(context.Background(), 8090)
	assert.ErrorIs(t, err, gateway.ErrNotStarted)

	require.NoError(t, g.Start(context.Background()))
	e, err := g.Endpoint(context.Background(), 8091)
	require.NoError(t, err)
	assert.Equal(t, gateway.Endpoint{PublicURL: "http://127.0.0.1:8091", PublicAddress: "127.0.0.1:8091", Port: 8091}, e)

	_, err = g.Endpoint(context.Background(), 9999)
	assert.ErrorIs(t, err, gateway.ErrUnknownPort)
	assert.ErrorContains(t, err, "[8090 8091]")

	require.Eventually(t, func() bool {
		return bytes.Contains([]byte(logs.String()), []byte("gateway local: http://127.0.0.1:8090 -> 8090"))
	}, 5*time.Second, 10*time.Millisecond, "log: %s", logs)
	assert.Error(t, g.Start(context.Background()), "second Start")

	require.NoError(t, g.Close())
	assert.ErrorIs(t, g.Close(), gateway.ErrClosed)
	_, err = g.Endpoint(context.Background(), 8090)
	assert.ErrorIs(t, err, gateway.ErrClosed)
}

func TestEndpointWaitsThenTimesOut(t *testing.T) {
	release := make(chan struct{})
	d := &fakeDriver{OpenFunc: func(ctx context.Context, cfg driver.Config) (driver.Session, error) {
		return &fakeSession{ForwardFunc: func(ctx context.Context, f driver.Forward) (driver.Tunnel, error) {
			select {
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			tun := &fakeTunnel{}
			tun.Set(driver.Endpoint{PublicURL: "https://slow.example", Port: f.LocalPort})
			return tun, nil
		}}, nil
	}}
	g, err := gateway.New(gateway.Config{Driver: "slow", Ports: []gateway.PortMapping{{LocalPort: 8090}}},
		&gateway.Options{Registry: registryWith("slow", d), ReadyTimeout: 50 * time.Millisecond})
	require.NoError(t, err)
	defer g.Close()
	require.NoError(t, g.Start(context.Background()))

	_, err = g.Endpoint(context.Background(), 8090)
	assert.ErrorIs(t, err, gateway.ErrNotReady)
	assert.ErrorContains(t, err, "port 8090")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = g.Endpoint(ctx, 8090)
	assert.ErrorIs(t, err, gateway.ErrNotReady)
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	close(release)
	e, err := g.Endpoint(context.Background(), 8090)
	require.NoError(t, err)
	assert.Equal(t, "https://slow.example", e.PublicURL)
}

func TestForwardErrorReported(t *testing.T) {
	d := &fakeDriver{OpenFunc: func(ctx context.Context, cfg driver.Config) (driver.Session, error) {
		return &fakeSession{ForwardFunc: func(ctx context.Context, f driver.Forward) (driver.Tunnel, error) {
			return nil, fmt.Errorf("bind port: %w", driver.ErrAuth)
		}}, nil
	}}
	g, err := gateway.New(gateway.Config{Driver: "failing", Ports: []gateway.PortMapping{{LocalPort: 8090}}},
		&gateway.Options{Registry: registryWith("failing", d)})
	require.NoError(t, err)
	defer g.Close()
	require.NoError(t, g.Start(context.Background()))

	_, err = g.Endpoint(context.Background(), 8090)
	assert.ErrorIs(t, err, driver.ErrAuth)
	assert.ErrorContains(t, err, "open failing tunnel for port 8090")
}

func TestOpenErrorReturnedByStart(t *testing.T) {
	d := &fakeDriver{OpenFunc: func(ctx context.Context, cfg driver.Config) (driver.Session, error) {
		return nil, driver.ErrAuth
	}}
	g, err := gateway.New(gateway.Config{Driver: "x", Ports: []gateway.PortMapping{{LocalPort: 8090}}},
		&gateway.Options{Registry: registryWith("x", d)})
	require.NoError(t, err)
	defer g.Close()

	assert.ErrorIs(t, g.Start(context.Background()), driver.ErrAuth)
	_, err = g.Endpoint(context.Background(), 8090)
	assert.ErrorIs(t, err, driver.ErrAuth)
}

func TestChangesAnnounced(t *testing.T) {
	tun := &fakeTunnel{}
	d := &fakeDriver{OpenFunc: func(ctx context.Context, cfg driver.Config) (driver.Session, error) {
		return &fakeSession{ForwardFunc: func(ctx context.Context, f driver.Forward) (driver.Tunnel, error) {
			tun.Set(driver.Endpoint{PublicURL: "https://one.example", Port: f.LocalPort})
			return tun, nil
		}}, nil
	}}
	logs := &syncBuffer{}
	changes := make(chan gateway.Endpoint, 4)
	g, err := gateway.New(gateway.Config{Driver: "moving", Ports: []gateway.PortMapping{{LocalPort: 8090}}},
		&gateway.Options{
			Registry: registryWith("moving", d),
			Logger:   slog.New(slog.NewTextHandler(logs, nil)),
			OnChange: func(e gateway.Endpoint) { changes <- e },
		})
	require.NoError(t, err)
	defer g.Close()
	require.NoError(t, g.Start(context.Background()))

	assert.Equal(t, "https://one.example", (<-changes).PublicURL)
	tun.Set(driver.Endpoint{PublicURL: "https://two.example", Port: 8090})
	assert.Equal(t, "https://two.example", (<-changes).PublicURL)

	e, err := g.Endpoint(context.Background(), 8090)
	require.NoError(t, err)
	assert.Equal(t, "https://two.example", e.PublicURL)
	assert.Contains(t, logs.String(), "public endpoint of port 8090 changed from https://one.example to https://two.example")
	assert.Contains(t, logs.String(), "gateway moving: https://two.example -> 8090")
}

func TestShutdownClosesTunnelsAndSession(t *testing.T) {
	var sessionClosed bool
	tun := &fakeTunnel{}
	d := &fakeDriver{OpenFunc: func(ctx context.Context, cfg driver.Config) (driver.Session, error) {
		return &fakeSession{
			ForwardFunc: func(ctx context.Context, f driver.Forward) (driver.Tunnel, error) {
				tun.Set(driver.Endpoint{PublicURL: "https://x.example", Port: f.LocalPort})
				return tun, nil
			},
			CloseFunc: func() error { sessionClosed = true; return nil },
		}, nil
	}}
	g, err := gateway.New(gateway.Config{Driver: "x", Ports: []gateway.PortMapping{{LocalPort: 8090}}},
		&gateway.Options{Registry: registryWith("x", d)})
	require.NoError(t, err)
	require.NoError(t, g.Start(context.Background()))
	_, err = g.Endpoint(context.Background(), 8090)
	require.NoError(t, err)

	require.NoError(t, g.Shutdown(context.Background()))
	assert.True(t, tun.Stopped())
	assert.True(t, sessionClosed)
	assert.ErrorIs(t, g.Start(context.Background()), gateway.ErrClosed)
}

func TestNewRejects(t *testing.T) {
	invalid := &fakeDriver{ValidateFunc: func(cfg driver.Config) error {
		return &driver.ConfigError{Field: "authtoken", Reason: "missing"}
	}}
	reg := registryWith("picky", invalid)
	reg.Register("ssh", &fakeDriver{})
	ports := []gateway.PortMapping{{LocalPort: 8090}}

	cases := []struct {
		name string
		cfg  gateway.Config
		want error
	}{
		{"http-tunnel without driver", gateway.Config{Type: "http-tunnel", Ports: ports}, driver.ErrInvalidConfig},
		{"unknown type", gateway.Config{Type: "udp-tunnel", Ports: ports}, driver.ErrInvalidConfig},
		{"no type no driver", gateway.Config{Ports: ports}, driver.ErrInvalidConfig},
		{"ssh with other driver", gateway.Config{Type: "ssh-tunnel", Driver: "ngrok", Ports: ports}, driver.ErrInvalidConfig},
		{"unknown driver", gateway.Config{Type: "http-tunnel", Driver: "nope", Ports: ports}, driver.ErrUnknownDriver},
		{"no ports", gateway.Config{Type: "ssh-tunnel"}, driver.ErrInvalidConfig},
		{"bad port", gateway.Config{Type: "ssh-tunnel", Ports: []gateway.PortMapping{{LocalPort: 0}}}, gateway.ErrInvalidPort},
		{"duplicate port", gateway.Config{Type: "ssh-tunnel", Ports: append(ports, ports...)}, gateway.ErrInvalidPort},
		{"settings invalid", gateway.Config{Driver: "picky", Ports: ports}, driver.ErrInvalidConfig},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := gateway.New(tc.cfg, &gateway.Options{Registry: reg})
			assert.ErrorIs(t, err, tc.want)
		})
	}

	_, err := gateway.New(gateway.Config{Type: "http-tunnel", Driver: "nope", Ports: ports}, &gateway.Options{Registry: reg})
	assert.ErrorContains(t, err, "known drivers: picky, ssh")
}

func TestParseConfig(t *testing.T) {
	cfg, err := gateway.ParseConfig(map[string]any{
		"type":    "ssh-tunnel",
		"runtime": "native",
		"port":    []any{"9834:8090"},
		"connection": map[string]any{
			"host": "h", "auth": map[string]any{"type": "password", "password": "hunter2"},
		},
	})
	require.NoError(t, err)
	assert.Equal(t, "ssh-tunnel", cfg.Type)
	assert.Equal(t, []gateway.PortMapping{{RemotePort: 9834, LocalPort: 8090}}, cfg.Ports)
	assert.Contains(t, cfg.Settings, "connection")
	assert.NotContains(t, cfg.Settings, "port")
	assert.NotContains(t, cfg.Settings, "runtime")

	_, err = gateway.ParseConfig(map[string]any{"type": "http-tunnel", "driver": "ngrok", "runtime": "docker", "port": 1})
	assert.ErrorIs(t, err, driver.ErrInvalidConfig)
	assert.ErrorContains(t, err, "runtime")

	_, err = gateway.ParseConfig(map[string]any{"type": "http-tunnel", "driver": "ngrok"})
	assert.ErrorContains(t, err, `"port"`)

	_, err = gateway.ParseConfig(map[string]any{"type": 1, "port": 1})
	assert.ErrorIs(t, err, driver.ErrInvalidConfig)
}

func TestConfigRedacted(t *testing.T) {
	cfg := gateway.Config{Type: "ssh-tunnel", Ports: []gateway.PortMapping{{LocalPort: 8090}}, Settings: map[string]any{
		"authtoken": "tok-123",
		"connection": map[string]any{"host": "h", "auth": map[string]any{
			"type": "password", "password": "hunter2", "private_key_passphrase": "pp-9",
		}},
		"list": []any{map[string]any{"token": "tok-456"}},
	}}
	for _, text := range []string{
		cfg.String(),
		fmt.Sprintf("%v", cfg),
		logged(cfg),
	} {
		for _, secret := range []string{"tok-123", "hunter2", "pp-9", "tok-456"} {
			assert.NotContains(t, text, secret)
		}
		assert.Contains(t, text, "[REDACTED]")
	}
	// The original is untouched.
	assert.Equal(t, "tok-123", cfg.Settings["authtoken"])
}

func logged(cfg gateway.Config) string {
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "gateway", cfg)
	return buf.String()
}

func TestShutdownHonorsContext(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	d := &fakeDriver{OpenFunc: func(ctx context.Context, cfg driver.Config) (driver.Session, error) {
		return &fakeSession{
			ForwardFunc: func(ctx context.Context, f driver.Forward) (driver.Tunnel, error) {
				return nil, errors.New("no tunnel")
			},
			CloseFunc: func() error { <-block; return nil },
		}, nil
	}}
	g, err := gateway.New(gateway.Config{Driver: "x", Ports: []gateway.PortMapping{{LocalPort: 8090}}},
		&gateway.Options{Registry: registryWith("x", d)})
	require.NoError(t, err)
	require.NoError(t, g.Start(context.Background()))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, g.Shutdown(ctx), context.DeadlineExceeded)
}

func TestEndpointOfStoppedTunnel(t *testing.T) {
	tun := &fakeTunnel{}
	d := &fakeDriver{OpenFunc: func(ctx context.Context, cfg driver.Config) (driver.Session, error) {
		return &fakeSession{ForwardFunc: func(ctx context.Context, f driver.Forward) (driver.Tunnel, error) {
			tun.Set(driver.Endpoint{PublicURL: "https://x.example", Port: f.LocalPort})
			return tun, nil
		}}, nil
	}}
	g, err := gateway.New(gateway.Config{Driver: "x", Ports: []gateway.PortMapping{{LocalPort: 8090}}},
		&gateway.Options{Registry: registryWith("x", d)})
	require.NoError(t, err)
	defer g.Close()
	require.NoError(t, g.Start(context.Background()))
	_, err = g.Endpoint(context.Background(), 8090)
	require.NoError(t, err)

	tun.Fail(errors.New("server gone"))
	_, err = g.Endpoint(context.Background(), 8090)
	assert.ErrorContains(t, err, "x tunnel for port 8090 stopped: server gone")
}
