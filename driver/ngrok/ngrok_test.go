package ngrok_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/driver"
	"github.com/tether-go/tether/driver/drivertest"
	ngrokdriver "github.com/tether-go/tether/driver/ngrok"
)

// fakeAgent is an Agent built from Func fields. Nil fields act as a
// healthy agent that assigns https://epN.ngrok.app URLs.
type fakeAgent struct {
	ConnectFunc    func(ctx context.Context) error
	ForwardFunc    func(ctx context.Context, upstream, fixedURL string) (ngrokdriver.Endpoint, error)
	ListenFunc     func(ctx context.Context, fixedURL string) (ngrokdriver.ListenerEndpoint, error)
	DisconnectFunc func() error

	next        atomic.Int32
	connects    atomic.Int32
	disconnects atomic.Int32
}

func (a *fakeAgent) Connect(ctx context.Context) error {
	a.connects.Add(1)
	if a.ConnectFunc != nil {
		return a.ConnectFunc(ctx)
	}
	return nil
}

func (a *fakeAgent) Forward(ctx context.Context, upstream, fixedURL string) (ngrokdriver.Endpoint, error) {
	if a.ForwardFunc != nil {
		return a.ForwardFunc(ctx, upstream, fixedURL)
	}
	return a.endpoint(fixedURL), nil
}

func (a *fakeAgent) Listen(ctx context.Context, fixedURL string) (ngrokdriver.ListenerEndpoint, error) {
	if a.ListenFunc != nil {
		return a.ListenFunc(ctx, fixedURL)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return &fakeListener{fakeEndpoint: a.endpoint(fixedURL), Listener: l}, nil
}

func (a *fakeAgent) Disconnect() error {
	a.disconnects.Add(1)
	if a.DisconnectFunc != nil {
		return a.DisconnectFunc()
	}
	return nil
}

func (a *fakeAgent) endpoint(fixedURL string) *fakeEndpoint {
	raw := fixedURL
	if raw == "" {
		raw = fmt.Sprintf("https://ep%d.ngrok.app", a.next.Add(1))
	}
	u, _ := url.Parse(raw)
	return &fakeEndpoint{url: u, done: make(chan struct{})}
}

type fakeEndpoint struct {
	url  *url.URL
	done chan struct{}
	once sync.Once
}

func (e *fakeEndpoint) URL() *url.URL         { return e.url }
func (e *fakeEndpoint) Done() <-chan struct{} { return e.done }
func (e *fakeEndpoint) Close() error {
	e.once.Do(func() { close(e.done) })
	return nil
}

type fakeListener struct {
	*fakeEndpoint
	net.Listener
}

func (l *fakeListener) Close() error {
	_ = l.fakeEndpoint.Close()
	return l.Listener.Close()
}

// codedError has the shape of golang.ngrok.com/ngrok/v2's Error.
type codedError struct{ code, msg string }

func (e codedError) Error() string { return e.msg + "\n\n" + e.code }
func (e codedError) Code() string  { return e.code }

func driverWith(agent *fakeAgent, seen *ngrokdriver.AgentConfig) *ngrokdriver.Driver {
	return ngrokdriver.New(&ngrokdriver.Options{NewAgent: func(cfg ngrokdriver.AgentConfig) (ngrokdriver.Agent, error) {
		if seen != nil {
			*seen = cfg
		}
		return agent, nil
	}})
}

func TestConformance(t *testing.T) {
	drivertest.Run(t, drivertest.Harness{
		Driver:   driverWith(&fakeAgent{}, nil),
		Settings: map[string]any{"authtoken": "tok-conformance"},
	})
}

func TestMissingTokenFailsBeforeTraffic(t *testing.T) {
	t.Setenv(ngrokdriver.TokenEnv, "")
	called := false
	d := ngrokdriver.New(&ngrokdriver.Options{NewAgent: func(ngrokdriver.AgentConfig) (ngrokdriver.Agent, error) {
		called = true
		return &fakeAgent{}, nil
	}})
	_, err := d.Open(context.Background(), driver.Config{})
	require.Error(t, err)
	assert.ErrorIs(t, err, ngrokdriver.ErrMissingToken)
	assert.ErrorIs(t, err, driver.ErrInvalidConfig)
	assert.ErrorContains(t, err, "NGROK_AUTHTOKEN")
	assert.ErrorContains(t, err, "authtoken:")
	assert.False(t, called, "no agent is created without a token")
}

func TestTokenFromSettingsOrEnvironment(t *testing.T) {
	t.Setenv(ngrokdriver.TokenEnv, "tok-from-env")
	var seen ngrokdriver.AgentConfig
	session, err := driverWith(&fakeAgent{}, &seen).Open(context.Background(), driver.Config{})
	require.NoError(t, err)
	_ = session.Close()
	assert.Equal(t, "tok-from-env", seen.Authtoken)

	session, err = driverWith(&fakeAgent{}, &seen).Open(context.Background(),
		driver.Config{Settings: map[string]any{"authtoken": "tok-from-settings"}})
	require.NoError(t, err)
	_ = session.Close()
	assert.Equal(t, "tok-from-settings", seen.Authtoken)
}

func TestErrorCodesMapped(t *testing.T) {
	const token = "2abcSECRETtoken"
	cases := []struct {
		code string
		want error
		hint string
	}{
		{"ERR_NGROK_105", driver.ErrAuth, "malformed"},
		{"ERR_NGROK_107", driver.ErrAuth, "invalid or was reset"},
		{"ERR_NGROK_4018", driver.ErrAuth, "verified account"},
		{"ERR_NGROK_108", ngrokdriver.ErrSessionLimit, "session limit"},
		{"ERR_NGROK_9037", driver.ErrInvalidConfig, "not a valid ngrok URL"},
	}
	for _, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			agent := &fakeAgent{ConnectFunc: func(context.Context) error {
				return codedError{tc.code, "The authtoken you specified is wrong.\nYour authtoken: " + token}
			}}
			_, err := driverWith(agent, nil).Open(context.Background(),
				driver.Config{Settings: map[string]any{"authtoken": token}})
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			assert.ErrorContains(t, err, tc.code)
			assert.ErrorContains(t, err, tc.hint)
			assert.NotContains(t, err.Error(), token)
			var ngErr *ngrokdriver.Error
			require.ErrorAs(t, err, &ngErr)
			assert.Equal(t, tc.code, ngErr.Code)
			assert.Equal(t, int32(1), agent.connects.Load(), "not retried")
			assert.Equal(t, int32(1), agent.disconnects.Load(), "agent released")
		})
	}
}

func TestUnknownCodeAndPlainErrors(t *testing.T) {
	agent := &fakeAgent{ConnectFunc: func(context.Context) error { return codedError{"ERR_NGROK_999", "odd"} }}
	_, err := driverWith(agent, nil).Open(context.Background(), driver.Config{Settings: map[string]any{"authtoken": "t"}})
	assert.ErrorContains(t, err, "ngrok error ERR_NGROK_999: odd")
	assert.False(t, errors.Is(err, driver.ErrAuth))

	agent = &fakeAgent{ConnectFunc: func(context.Context) error {
		return errors.New("authentication failed: token tok-plain rejected")
	}}
	_, err = driverWith(agent, nil).Open(context.Background(), driver.Config{Settings: map[string]any{"authtoken": "tok-plain"}})
	assert.ErrorIs(t, err, driver.ErrAuth)
	assert.NotContains(t, err.Error(), "tok-plain")
}

func TestConnectTimeout(t *testing.T) {
	agent := &fakeAgent{ConnectFunc: func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}}
	start := time.Now()
	_, err := driverWith(agent, nil).Open(context.Background(),
		driver.Config{Settings: map[string]any{"authtoken": "tok-timeout", "connect_timeout": 50}})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorContains(t, err, "no session after 50ms (connect_timeout)")
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestOneSessionForAllPorts(t *testing.T) {
	agent := &fakeAgent{}
	var upstreams []string
	agent.ForwardFunc = func(ctx context.Context, upstream, fixedURL string) (ngrokdriver.Endpoint, error) {
		upstreams = append(upstreams, upstream)
		return agent.endpoint(fixedURL), nil
	}
	session, err := driverWith(agent, nil).Open(context.Background(), driver.Config{Settings: map[string]any{"authtoken": "t"}})
	require.NoError(t, err)
	for _, port := range []int{8090, 8091, 3000} {
		tunnel, err := session.Forward(context.Background(), driver.Forward{LocalPort: port})
		require.NoError(t, err)
		assert.Equal(t, port, tunnel.Endpoint().Port)
		assert.True(t, strings.HasSuffix(tunnel.Endpoint().PublicAddress, ".ngrok.app:443"))
	}
	assert.Equal(t, []string{"http://127.0.0.1:8090", "http://127.0.0.1:8091", "http://127.0.0.1:3000"}, upstreams)
	assert.Equal(t, int32(1), agent.connects.Load())

	require.NoError(t, session.Close())
	assert.Equal(t, int32(1), agent.disconnects.Load())
	assert.ErrorIs(t, session.Close(), driver.ErrClosed)
}

func TestFixedURLs(t *testing.T) {
	agent := &fakeAgent{}
	session, err := driverWith(agent, nil).Open(context.Background(), driver.Config{Settings: map[string]any{
		"authtoken": "t",
		"domain":    "hooks.example.ngrok.app",
		"urls":      map[string]any{"8091": "https://other.example.ngrok.app"},
	}})
	require.NoError(t, err)
	defer session.Close()

	tunnel, err := session.Forward(context.Background(), driver.Forward{LocalPort: 8091})
	require.NoError(t, err)
	assert.Equal(t, "https://other.example.ngrok.app", tunnel.Endpoint().PublicURL)

	tunnel, err = session.Forward(context.Background(), driver.Forward{LocalPort: 8090})
	require.NoError(t, err)
	assert.Equal(t, "https://hooks.example.ngrok.app", tunnel.Endpoint().PublicURL)
	assert.Equal(t, "hooks.example.ngrok.app:443", tunnel.Endpoint().PublicAddress)

	_, err = session.Forward(context.Background(), driver.Forward{LocalPort: 8092})
	assert.ErrorIs(t, err, driver.ErrInvalidConfig)
	assert.ErrorContains(t, err, "one fixed URL cannot serve two ports")
}

func TestEndpointClosedByNgrok(t *testing.T) {
	agent := &fakeAgent{}
	var ep *fakeEndpoint
	agent.ForwardFunc = func(ctx context.Context, upstream, fixedURL string) (ngrokdriver.Endpoint, error) {
		ep = agent.endpoint(fixedURL)
		return ep, nil
	}
	session, err := driverWith(agent, nil).Open(context.Background(), driver.Config{Settings: map[string]any{"authtoken": "t"}})
	require.NoError(t, err)
	defer session.Close()
	tunnel, err := session.Forward(context.Background(), driver.Forward{LocalPort: 8090})
	require.NoError(t, err)

	_ = ep.Close()
	select {
	case <-tunnel.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("tunnel still running after ngrok closed its endpoint")
	}
	assert.ErrorContains(t, tunnel.Err(), "ngrok closed the endpoint https://ep1.ngrok.app")
}

func TestInvalidSettings(t *testing.T) {
	cases := map[string]map[string]any{
		"url and domain": {"url": "https://a.ngrok.app", "domain": "b.ngrok.app"},
		"bad url":        {"url": "a.ngrok.app"},
		"bad port key":   {"urls": map[string]any{"web": "https://a.ngrok.app"}},
		"bad timeout":    {"connect_timeout": 0},
		"token typo":     {"auth_token": "x"},
	}
	for name, settings := range cases {
		t.Run(name, func(t *testing.T) {
			err := ngrokdriver.New(nil).Validate(driver.Config{Settings: settings})
			assert.ErrorIs(t, err, driver.ErrInvalidConfig)
		})
	}
}
