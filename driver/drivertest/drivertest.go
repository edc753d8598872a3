package drivertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/driver"
)

// Harness describes the driver under test.
type Harness struct {
	// Driver is the driver under test.
	Driver driver.Driver
	// Settings are valid settings. The suite adds an unknown key to a
	// copy of them to check that it is rejected.
	Settings map[string]any
	// SettingsFunc, when not nil, is called for each subtest instead of
	// using Settings, for drivers whose settings depend on the subtest
	// (such as a fresh state directory).
	SettingsFunc func(t *testing.T) map[string]any
	// Forward, when not nil, adjusts the forward that the suite opens to
	// its local service on port localPort, for example to pick a free
	// remote port.
	Forward func(t *testing.T, localPort int) driver.Forward
	// Reach, when not nil, returns the URL through which a client on
	// this machine reaches the public side of e. Nil skips the traffic
	// checks, for drivers whose public side is not on this machine.
	Reach func(e driver.Endpoint) string
	// OpenTimeout bounds each Open and Forward. Zero means 20 seconds.
	OpenTimeout time.Duration
}

func (h Harness) settings(t *testing.T) map[string]any {
	if h.SettingsFunc != nil {
		return h.SettingsFunc(t)
	}
	return h.Settings
}

func (h Harness) timeout() time.Duration {
	if h.OpenTimeout > 0 {
		return h.OpenTimeout
	}
	return 20 * time.Second
}

func (h Harness) forward(t *testing.T, port int) driver.Forward {
	if h.Forward != nil {
		return h.Forward(t, port)
	}
	return driver.Forward{LocalPort: port}
}

// Run runs the suite as subtests of t.
func Run(t *testing.T, h Harness) {
	t.Helper()
	require.NotNil(t, h.Driver, "Harness.Driver")

	t.Run("UnknownSettingRejected", func(t *testing.T) { testUnknownSetting(t, h) })
	t.Run("NilSettingsNoPanic", func(t *testing.T) { testNilSettings(t, h) })
	t.Run("ForwardEndpoint", func(t *testing.T) { testForwardEndpoint(t, h) })
	t.Run("TunnelCloseTwice", func(t *testing.T) { testTunnelClose(t, h) })
	t.Run("SessionCloseStopsTunnels", func(t *testing.T) { testSessionClose(t, h) })
	t.Run("ForwardCanceledContext", func(t *testing.T) { testForwardCanceled(t, h) })
	if _, ok := any(h.Driver).(driver.Validator); ok {
		t.Run("ValidateMatchesOpen", func(t *testing.T) { testValidate(t, h) })
	}
	t.Run("Listen", func(t *testing.T) { testListen(t, h) })
}

// withUnknownKey returns a copy of m with one extra key.
func withUnknownKey(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	out["no_such_setting_xyz"] = true
	return out
}

func testUnknownSetting(t *testing.T, h Harness) {
	// A canceled context proves that the check comes before any network
	// traffic: a driver that dialed first would report the context.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	session, err := h.Driver.Open(ctx, driver.Config{Settings: withUnknownKey(h.settings(t))})
	if session != nil {
		_ = session.Close()
	}
	require.Error(t, err)
	assert.ErrorIs(t, err, driver.ErrInvalidConfig)
	assert.Contains(t, err.Error(), "no_such_setting_xyz")
}

func testNilSettings(t *testing.T, h Harness) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	session, err := h.Driver.Open(ctx, driver.Config{})
	if session != nil {
		_ = session.Close()
	}
	if err != nil {
		assert.False(t, errors.Is(err, driver.ErrUnknownDriver), "error: %v", err)
	}
}

func testValidate(t *testing.T, h Harness) {
	v := any(h.Driver).(driver.Validator)
	assert.NoError(t, v.Validate(driver.Config{Settings: h.settings(t)}))
	err := v.Validate(driver.Config{Settings: withUnknownKey(h.settings(t))})
	assert.ErrorIs(t, err, driver.ErrInvalidConfig)
}

// startLocal starts the local service, an HTTP server on loopback that
// responds with the given body, and returns its port.
func startLocal(t *testing.T, body string) int {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	_, portText, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)
	port, err := strconv.Atoi(portText)
	require.NoError(t, err)
	return port
}

func (h Harness) open(t *testing.T) driver.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), h.timeout())
	defer cancel()
	session, err := h.Driver.Open(ctx, driver.Config{Settings: h.settings(t)})
	require.NoError(t, err, "Open with valid settings")
	require.NotNil(t, session)
	return session
}

func (h Harness) openTunnel(t *testing.T, session driver.Session, port int) driver.Tunnel {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), h.timeout())
	defer cancel()
	tunnel, err := session.Forward(ctx, h.forward(t, port))
	require.NoError(t, err, "Forward")
	require.NotNil(t, tunnel)
	return tunnel
}

// Get fetches url with a short timeout, retrying briefly because some
// tunnels accept connections a moment after they report ready. It
// returns the body of the first 200 response.
func Get(url string, within time.Duration) (string, error) {
	client := &http.Client{Timeout: 3 * time.Second}
	deadline := time.Now().Add(within)
	var last error
	for {
		resp, err := client.Get(url)
		if err == nil {
			body, readErr := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if readErr == nil && resp.StatusCode == http.StatusOK {
				return string(body), nil
			}
			err = fmt.Errorf("status %d, body %q, read error %v", resp.StatusCode, body, readErr)
		}
		last = err
		if time.Now().After(deadline) {
			return "", fmt.Errorf("get %s: %w", url, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func testForwardEndpoint(t *testing.T, h Harness) {
	port := startLocal(t, "hello through the tunnel")
	session := h.open(t)
	defer session.Close()
	tunnel := h.openTunnel(t, session, port)
	defer tunnel.Close()

	e := tunnel.Endpoint()
	assert.Equal(t, port, e.Port, "Endpoint().Port is the local port")
	assert.False(t, e.IsZero(), "endpoint has a public URL or address: %+v", e)

	select {
	case <-tunnel.Done():
		t.Fatalf("tunnel stopped right after Forward: %v", tunnel.Err())
	default:
	}
	assert.NoError(t, tunnel.Err())

	if h.Reach != nil {
		body, err := Get(h.Reach(e), 10*time.Second)
		require.NoError(t, err)
		assert.Equal(t, "hello through the tunnel", body)
	}
}

func testTunnelClose(t *testing.T, h Harness) {
	port := startLocal(t, "x")
	session := h.open(t)
	defer session.Close()
	tunnel := h.openTunnel(t, session, port)
	changed := tunnel.Changed()

	require.NoError(t, tunnel.Close())
	assertClosed(t, tunnel.Done(), "Done after Close")
	assertClosed(t, changed, "Changed after Close")
	assert.NoError(t, tunnel.Err(), "Err after a plain Close")
	assert.ErrorIs(t, tunnel.Close(), driver.ErrClosed, "second Close")

	// The session stays usable after one of its tunnels is closed.
	again := h.openTunnel(t, session, port)
	assert.NoError(t, again.Close())
}

func testSessionClose(t *testing.T, h Harness) {
	port := startLocal(t, "x")
	session := h.open(t)
	tunnel := h.openTunnel(t, session, port)

	require.NoError(t, session.Close())
	assertClosed(t, tunnel.Done(), "tunnel Done after session Close")
	assert.ErrorIs(t, session.Close(), driver.ErrClosed, "second session Close")

	ctx, cancel := context.WithTimeout(context.Background(), h.timeout())
	defer cancel()
	_, err := session.Forward(ctx, h.forward(t, port))
	assert.ErrorIs(t, err, driver.ErrClosed, "Forward after session Close")
}

func testForwardCanceled(t *testing.T, h Harness) {
	port := startLocal(t, "x")
	session := h.open(t)
	defer session.Close()

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	tunnel, err := session.Forward(ctx, h.forward(t, port))
	if err == nil {
		// A driver with nothing to wait for may succeed at once.
		require.NotNil(t, tunnel)
		_ = tunnel.Close()
		return
	}
	assert.Less(t, time.Since(start), 5*time.Second, "Forward with a canceled context returns promptly")
}

func testListen(t *testing.T, h Harness) {
	session := h.open(t)
	defer session.Close()
	listening, ok := session.(driver.Listening)
	if !ok {
		t.Skip("the driver does not implement driver.Listening")
	}

	ctx, cancel := context.WithTimeout(context.Background(), h.timeout())
	defer cancel()
	f := h.forward(t, startLocal(t, "unused"))
	listener, err := listening.Listen(ctx, f)
	require.NoError(t, err)

	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "served by the host")
	}), ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(listener) }()

	e := listener.Endpoint()
	assert.False(t, e.IsZero(), "listener endpoint: %+v", e)
	if h.Reach != nil {
		body, err := Get(h.Reach(e), 10*time.Second)
		require.NoError(t, err)
		assert.Equal(t, "served by the host", body)
	}

	require.NoError(t, listener.Close())
	select {
	case err := <-served:
		assert.Error(t, err, "Serve returns after the listener is closed")
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the listener was closed")
	}
	_ = srv.Close()
}

func assertClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Errorf("%s: channel not closed within 10s", what)
	}
}
