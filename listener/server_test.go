package listener

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/waiter"
)

func TestRouting(t *testing.T) {
	fw := &fakeWaiter{}
	cfg := CallbackConfig{
		BasePath: "/webhooks",
		Callbacks: []Callback{
			{Path: "/image/completed", IdentifyBy: "${body.request_id}"},
			{Path: "video/completed/", Method: "put", IdentifyBy: "${body.task_id}"},
			{Path: "/image/completed", Method: "PATCH"},
		},
	}
	l, err := NewCallback(cfg, fw, nil)
	require.NoError(t, err)

	cases := []struct {
		name   string
		method string
		target string
		status int
		allow  string
	}{
		{"exact path", http.MethodPost, "/webhooks/image/completed", 200, ""},
		{"trailing slash", http.MethodPost, "/webhooks/image/completed/", 200, ""},
		{"configured with trailing slash", http.MethodPut, "/webhooks/video/completed", 200, ""},
		{"double slash", http.MethodPost, "/webhooks//image/completed", 200, ""},
		{"unknown path", http.MethodPost, "/webhooks/image", 404, ""},
		{"root", http.MethodPost, "/", 404, ""},
		{"wrong method", http.MethodGet, "/webhooks/image/completed", 405, "PATCH, POST"},
		{"wrong method trailing slash", http.MethodDelete, "/webhooks/video/completed/", 405, "PUT"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := send(t, l, tc.method, tc.target, http.Header{"Content-Type": {"application/json"}}, []byte(`{"request_id":"r","task_id":"t"}`))
			assert.Equal(t, tc.status, rec.Code, rec.Body.String())
			assert.Equal(t, tc.allow, rec.Header().Get("Allow"))
			assert.Empty(t, rec.Header().Get("Location"))
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		})
	}
}

func TestMountedUnderPrefix(t *testing.T) {
	starter := &recordingStarter{}
	l := newTestTrigger(t, Trigger{Path: "/github/push", Workflow: "ci"}, starter)
	mux := http.NewServeMux()
	mux.Handle("/hooks/", http.StripPrefix("/hooks", l))
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	srv := startServer(t, mux)

	resp, err := http.Post(srv+"/hooks/github/push", "application/json", strings.NewReader(`{"ref":"x"}`))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.JSONEq(t, `{"task_id":"run-1","status":"pending"}`, string(body))
}

// startServer serves h on a loopback port until the test ends.
func startServer(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
		http.DefaultClient.CloseIdleConnections()
	})
	return "http://" + ln.Addr().String()
}

func TestStartBindsConfiguredPort(t *testing.T) {
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := probe.Addr().(*net.TCPAddr).Port
	require.NoError(t, probe.Close())

	cfg := CallbackConfig{Host: "127.0.0.1", Port: port, Callbacks: []Callback{{Path: "/callback"}}}
	l, err := NewCallback(cfg, &fakeWaiter{}, nil)
	require.NoError(t, err)
	assert.Nil(t, l.Addr())
	require.NoError(t, l.Start(context.Background()))
	assert.Equal(t, fmt.Sprintf("127.0.0.1:%d", port), l.Addr().String())
	assert.ErrorIs(t, l.Start(context.Background()), ErrStarted)

	resp, err := http.Post("http://"+l.Addr().String()+"/callback", "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, l.Shutdown(ctx))
	assert.ErrorIs(t, l.Shutdown(ctx), ErrClosed)
	assert.ErrorIs(t, l.Start(ctx), ErrClosed)
	require.NoError(t, l.Close())
	assert.ErrorIs(t, l.Close(), ErrClosed)
	http.DefaultClient.CloseIdleConnections()
}

func TestStartPortInUse(t *testing.T) {
	occupied, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer occupied.Close()
	port := occupied.Addr().(*net.TCPAddr).Port
	l, err := NewTrigger(TriggerConfig{Host: "127.0.0.1", Port: port, Triggers: []Trigger{{Path: "/t", Workflow: "wf"}}}, &recordingStarter{}, nil)
	require.NoError(t, err)
	err = l.Start(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("listen on 127.0.0.1:%d", port))
}

func TestDefaultAddresses(t *testing.T) {
	cb, err := NewCallback(CallbackConfig{Callbacks: []Callback{{Path: "/c"}}}, &fakeWaiter{}, nil)
	require.NoError(t, err)
	assert.Equal(t, "0.0.0.0:8090", cb.core.address)
	tr, err := NewTrigger(TriggerConfig{Triggers: []Trigger{{Path: "/t", Workflow: "wf"}}}, &recordingStarter{}, nil)
	require.NoError(t, err)
	assert.Equal(t, "0.0.0.0:8091", tr.core.address)
}

// TestShutdownDrains starts a request that blocks in the waiter, shuts
// down, checks that a new request on an open connection gets 503 and
// that the blocked request still completes.
func TestShutdownDrains(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	fw := &fakeWaiter{DeliverFunc: func(ctx context.Context, id string, o waiter.Outcome) (waiter.Delivery, error) {
		if id == "slow" {
			close(entered)
			<-release
		}
		return waiter.Delivered, nil
	}}
	l, err := NewCallback(CallbackConfig{Callbacks: []Callback{{Path: "/cb", IdentifyBy: "${body.id}"}}}, fw, nil)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, l.StartOn(ln))
	base := "http://" + l.Addr().String()

	// Open a keep-alive connection first, so a request can still arrive
	// on it after the listening socket is closed.
	idle, err := net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	defer idle.Close()

	slowDone := make(chan int)
	go func() {
		resp, err := http.Post(base+"/cb", "application/json", strings.NewReader(`{"id":"slow"}`))
		if err != nil {
			slowDone <- -1
			return
		}
		resp.Body.Close()
		slowDone <- resp.StatusCode
	}()
	<-entered

	shutdownDone := make(chan error)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shutdownDone <- l.Shutdown(ctx)
	}()
	require.Eventually(t, func() bool {
		conn, err := net.DialTimeout("tcp", l.Addr().String(), 100*time.Millisecond)
		if err != nil {
			return true
		}
		conn.Close()
		return false
	}, 2*time.Second, 10*time.Millisecond, "listening socket closed")

	status := rawPost(t, idle, "/cb", `{"id":"late"}`)
	assert.Equal(t, http.StatusServiceUnavailable, status)

	close(release)
	assert.Equal(t, http.StatusOK, <-slowDone)
	assert.NoError(t, <-shutdownDone)
	require.NoError(t, l.Close())
	http.DefaultClient.CloseIdleConnections()
}

// rawPost writes one HTTP/1.1 request on conn and returns the status.
func rawPost(t *testing.T, conn net.Conn, target, body string) int {
	t.Helper()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", target, len(body), body)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return -1
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestShutdownMountedWaitsForRequests(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	fw := &fakeWaiter{DeliverFunc: func(ctx context.Context, id string, o waiter.Outcome) (waiter.Delivery, error) {
		close(entered)
		<-release
		return waiter.Delivered, nil
	}}
	l := newTestCallback(t, Callback{Path: "/cb"}, fw)
	done := make(chan int)
	go func() { done <- postJSON(t, l, "/cb", `{}`).Code }()
	<-entered

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, l.Shutdown(ctx), context.DeadlineExceeded)
	assert.Equal(t, http.StatusServiceUnavailable, postJSON(t, l, "/cb", `{}`).Code)
	close(release)
	assert.Equal(t, http.StatusOK, <-done)
}

func TestMaxConcurrentCount(t *testing.T) {
	entered := make(chan struct{}, 2)
	release := make(chan struct{})
	fw := &fakeWaiter{DeliverFunc: func(ctx context.Context, id string, o waiter.Outcome) (waiter.Delivery, error) {
		entered <- struct{}{}
		<-release
		return waiter.Delivered, nil
	}}
	cfg := CallbackConfig{
		MaxConcurrentCount: 2,
		Callbacks:          []Callback{{Path: "/cb"}},
		Limits:             Limits{QueueTimeout: 30 * time.Millisecond, RetryAfter: 1500 * time.Millisecond},
	}
	l, err := NewCallback(cfg, fw, nil)
	require.NoError(t, err)

	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = postJSON(t, l, "/cb", `{}`).Code
		}()
	}
	<-entered
	<-entered
	rec := postJSON(t, l, "/cb", `{}`)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, "2", rec.Header().Get("Retry-After"))

	close(release)
	wg.Wait()
	assert.Equal(t, []int{200, 200}, codes)
	assert.Equal(t, http.StatusOK, postJSON(t, l, "/cb", `{}`).Code, "slots are returned")
}

// TestSlowHeadersTimeOut checks that a client sending headers slowly is
// disconnected after ReadHeaderTimeout.
func TestSlowHeadersTimeOut(t *testing.T) {
	cfg := TriggerConfig{
		Triggers: []Trigger{{Path: "/t", Workflow: "wf"}},
		Limits:   Limits{ReadHeaderTimeout: 100 * time.Millisecond, ReadTimeout: 200 * time.Millisecond},
	}
	l, err := NewTrigger(cfg, &recordingStarter{}, nil)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, l.StartOn(ln))
	defer l.Close()

	conn, err := net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "POST /t HTTP/1.1\r\nHost: x\r\n")
	require.NoError(t, err)
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	start := time.Now()
	_, err = io.ReadAll(conn)
	var netErr net.Error
	if errors.As(err, &netErr) {
		require.False(t, netErr.Timeout(), "server kept the slow connection open")
	}
	assert.Less(t, time.Since(start), 2*time.Second)
}

// TestSlowBodyTimesOut checks that a body that stops arriving gets 408
// once ReadTimeout has passed, and starts nothing.
func TestSlowBodyTimesOut(t *testing.T) {
	starter := &recordingStarter{}
	cfg := TriggerConfig{
		Triggers: []Trigger{{Path: "/t", Workflow: "wf"}},
		Limits:   Limits{ReadTimeout: 200 * time.Millisecond},
	}
	l, err := NewTrigger(cfg, starter, nil)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, l.StartOn(ln))
	defer l.Close()

	conn, err := net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "POST /t HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":")
	require.NoError(t, err)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
	assert.Empty(t, starter.started())
}

func TestConfigErrors(t *testing.T) {
	callbackCases := []struct {
		name  string
		cfg   CallbackConfig
		field string
	}{
		{"no callbacks", CallbackConfig{}, "callbacks"},
		{"missing path", CallbackConfig{Callbacks: []Callback{{Path: "/a"}, {Path: " "}}}, "callbacks[1].path"},
		{"bad identify_by", CallbackConfig{Callbacks: []Callback{{Path: "/a"}, {Path: "/b", IdentifyBy: "${body.id"}}}, "callbacks[1].identify_by"},
		{"unknown source", CallbackConfig{Callbacks: []Callback{{Path: "/a", IdentifyBy: "${bdy.id}"}}}, "callbacks[0].identify_by"},
		{"bad result", CallbackConfig{Callbacks: []Callback{{Path: "/a", Result: map[string]any{"x": "${"}}}}, "callbacks[0].result"},
		{"lists without status", CallbackConfig{Callbacks: []Callback{{Path: "/a", SuccessWhen: []string{"ok"}}}}, "callbacks[0].status"},
		{"item without bulk", CallbackConfig{Callbacks: []Callback{{Path: "/a", Item: "${body.x}"}}}, "callbacks[0].item"},
		{"duplicate route", CallbackConfig{Callbacks: []Callback{{Path: "/a"}, {Path: "/a/"}}}, "callbacks[1].path"},
		{"bad method", CallbackConfig{Callbacks: []Callback{{Path: "/a", Method: "PO ST"}}}, "callbacks[0].method"},
		{"unknown preset", CallbackConfig{Callbacks: []Callback{{Path: "/a", Preset: "slack"}}}, "callbacks[0].preset"},
		{"response without when", CallbackConfig{Callbacks: []Callback{{Path: "/a", Responses: []Response{{Status: 200}}}}}, "callbacks[0].responses[0].when"},
		{"reply status", CallbackConfig{Callbacks: []Callback{{Path: "/a", Reply: &Reply{Status: 99}}}}, "callbacks[0].reply.status"},
		{"reply header name", CallbackConfig{Callbacks: []Callback{{Path: "/a", Reply: &Reply{Headers: map[string]string{"Bad Name": "x"}}}}}, "callbacks[0].reply.headers"},
		{"negative limit", CallbackConfig{Callbacks: []Callback{{Path: "/a"}}, Limits: Limits{MaxBodyBytes: -1}}, "limits.max_body_bytes"},
		{"negative concurrency", CallbackConfig{MaxConcurrentCount: -1, Callbacks: []Callback{{Path: "/a"}}}, "max_concurrent_count"},
		{"port out of range", CallbackConfig{Port: 70000, Callbacks: []Callback{{Path: "/a"}}}, "port"},
		{"query in path", CallbackConfig{Callbacks: []Callback{{Path: "/a?x=1"}}}, "callbacks[0].path"},
	}
	for _, tc := range callbackCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewCallback(tc.cfg, &fakeWaiter{}, nil)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidConfig)
			var cfgErr *ConfigError
			require.ErrorAs(t, err, &cfgErr)
			assert.Equal(t, tc.field, cfgErr.Field)
			assert.True(t, strings.HasPrefix(err.Error(), "listener: "+tc.field+": "), err.Error())
		})
	}

	triggerCases := []struct {
		name  string
		cfg   TriggerConfig
		field string
	}{
		{"no triggers", TriggerConfig{}, "triggers"},
		{"missing workflow", TriggerConfig{Triggers: []Trigger{{Path: "/a"}}}, "triggers[0].workflow"},
		{"bad input", TriggerConfig{Triggers: []Trigger{{Path: "/a", Workflow: "w", Input: "${body.}"}}}, "triggers[0].input"},
		{"short window", TriggerConfig{Triggers: []Trigger{{Path: "/a", Workflow: "w", IdempotencyKey: "${body.id}", IdempotencyWindow: time.Minute}}}, "triggers[0].idempotency_window"},
		{"bad key", TriggerConfig{Triggers: []Trigger{{Path: "/a", Workflow: "w", IdempotencyKey: "${body.id"}}}, "triggers[0].idempotency_key"},
		{"bad item", TriggerConfig{Triggers: []Trigger{{Path: "/a", Workflow: "w", Bulk: true, Item: "${nope.x}"}}}, "triggers[0].item"},
	}
	for _, tc := range triggerCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewTrigger(tc.cfg, &recordingStarter{}, nil)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidConfig)
			var cfgErr *ConfigError
			require.ErrorAs(t, err, &cfgErr)
			assert.Equal(t, tc.field, cfgErr.Field)
		})
	}

	_, err := NewCallback(CallbackConfig{Callbacks: []Callback{{Path: "/a"}}}, nil, nil)
	assert.ErrorIs(t, err, ErrInvalidConfig)
	_, err = NewTrigger(TriggerConfig{Triggers: []Trigger{{Path: "/a", Workflow: "w"}}}, nil, nil)
	assert.ErrorIs(t, err, ErrInvalidConfig)
}

func TestPresetsListed(t *testing.T) {
	assert.Equal(t, []string{"discord-interactions", "github", "slack-events", "standard-webhooks", "stripe"}, Presets())
}
