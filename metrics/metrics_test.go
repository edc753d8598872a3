package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	_ "github.com/tether-go/tether/driver/local"
	"github.com/tether-go/tether/gateway"
	"github.com/tether-go/tether/listener"
	"github.com/tether-go/tether/metrics"
	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/verify"
	"github.com/tether-go/tether/waiter"
	"github.com/tether-go/tether/workflow"
)

// stack is an engine and a callback listener wired to one collector, as
// a Go service would build them.
type stack struct {
	m      *metrics.Metrics
	reg    *prometheus.Registry
	clock  *tethertest.Clock
	waiter *waiter.Memory
	engine *workflow.Engine
	cb     *listener.CallbackListener
	api    *httptest.Server
}

func newStack(t *testing.T) *stack {
	t.Helper()
	s := &stack{reg: prometheus.NewRegistry(), clock: tethertest.NewClock()}
	var err error
	s.m, err = metrics.New(&metrics.Options{Registerer: s.reg})
	require.NoError(t, err)

	s.waiter = waiter.NewMemory(&waiter.MemoryOptions{Clock: s.clock})
	t.Cleanup(func() { _ = s.waiter.Close() })
	require.NoError(t, s.m.WatchWaiter(s.waiter))

	s.engine = workflow.New(&workflow.Options{Waiter: s.waiter, Clock: s.clock, Observer: s.m.WorkflowObserver()})
	t.Cleanup(func() { _ = s.engine.Close() })

	s.api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(s.api.Close)
	require.NoError(t, s.engine.AddHTTPClient("gen", &workflow.HTTPClient{
		Endpoint:   s.api.URL,
		Body:       map[string]any{"task_id": "${context.run_id}"},
		Completion: &workflow.Completion{Type: workflow.CompletionCallback, WaitFor: "${context.run_id}", Timeout: 5 * time.Minute},
	}))
	require.NoError(t, s.engine.AddWorkflow(&workflow.Workflow{ID: "gen", Component: "gen"}))

	s.cb, err = listener.NewCallback(listener.CallbackConfig{Callbacks: []listener.Callback{{
		Path:        "/done",
		IdentifyBy:  "${body.task_id}",
		Status:      "${body.status}",
		SuccessWhen: []string{"completed"},
		FailWhen:    []string{"failed"},
		Verify: verify.VerifierFunc(func(r *http.Request, _ []byte) error {
			if r.Header.Get("X-Token") != "secret" {
				return errors.New("wrong token")
			}
			return nil
		}),
	}}}, s.waiter, &listener.Options{Observer: s.m.ListenerObserver()})
	require.NoError(t, err)
	return s
}

func (s *stack) post(t *testing.T, body, token string) int {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/done", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Token", token)
	w := httptest.NewRecorder()
	s.cb.ServeHTTP(w, r)
	return w.Code
}

func (s *stack) waitForCallback(t *testing.T) {
	t.Helper()
	// The completion timeout is armed right before the job waits.
	s.clock.WaitForTimer(t, 5*time.Minute)
}

func TestCallbackMetrics(t *testing.T) {
	s := newStack(t)
	run, err := s.engine.Start(context.Background(), "gen", nil)
	require.NoError(t, err)
	s.waitForCallback(t)
	assert.Contains(t, scrape(t, s.m), `tether_pending_waits{component="gen",workflow="gen"} 1`)

	s.clock.Advance(30 * time.Second)
	body := `{"task_id": "` + run.ID + `", "status": "completed"}`
	assert.Equal(t, http.StatusOK, s.post(t, body, "secret"))
	assert.Equal(t, http.StatusOK, s.post(t, body, "secret"))
	assert.Equal(t, http.StatusOK, s.post(t, `{"task_id": "other", "status": "completed"}`, "secret"))
	assert.Equal(t, http.StatusUnauthorized, s.post(t, body, "wrong"))
	_, err = s.engine.Wait(context.Background(), run.ID)
	require.NoError(t, err)

	expected := `
# HELP tether_callbacks_total Callbacks received, by endpoint path and result (delivered, stored, duplicate, ignored, rejected).
# TYPE tether_callbacks_total counter
tether_callbacks_total{path="/done",result="delivered"} 1
tether_callbacks_total{path="/done",result="duplicate"} 1
tether_callbacks_total{path="/done",result="rejected"} 1
tether_callbacks_total{path="/done",result="stored"} 1
# HELP tether_signature_failures_total Requests rejected because their signature or token did not verify.
# TYPE tether_signature_failures_total counter
tether_signature_failures_total{listener="http-callback",path="/done"} 1
# HELP tether_runs_total Workflow runs that ended, by end state.
# TYPE tether_runs_total counter
tether_runs_total{state="completed",workflow="gen"} 1
# HELP tether_pending_waits Jobs waiting for a callback now.
# TYPE tether_pending_waits gauge
tether_pending_waits{component="gen",workflow="gen"} 0
# HELP tether_waiter_stored_outcomes Callback outcomes that arrived before their job waited, kept until it does.
# TYPE tether_waiter_stored_outcomes gauge
tether_waiter_stored_outcomes 1
`
	require.NoError(t, testutil.GatherAndCompare(s.reg, strings.NewReader(expected),
		"tether_callbacks_total", "tether_signature_failures_total", "tether_runs_total",
		"tether_pending_waits", "tether_waiter_stored_outcomes"))

	out := scrape(t, s.m)
	assert.Contains(t, out, `tether_wait_duration_seconds_sum{component="gen",result="received",workflow="gen"} 30`)
	assert.Contains(t, out, `tether_wait_duration_seconds_bucket{component="gen",result="received",workflow="gen",le="30"} 1`)
	assert.Contains(t, out, `tether_wait_duration_seconds_bucket{component="gen",result="received",workflow="gen",le="15"} 0`)
}

func TestTimeoutMetrics(t *testing.T) {
	s := newStack(t)
	run, err := s.engine.Start(context.Background(), "gen", nil)
	require.NoError(t, err)
	s.waitForCallback(t)

	s.clock.Advance(5 * time.Minute)
	rec, err := s.engine.Wait(context.Background(), run.ID)

	// Wait after the run has ended wraps only the stored message, so
	// the check reads the message instead of using errors.Is.
	require.ErrorContains(t, err, "not received within 5m0s")
	require.Equal(t, workflow.StateFailed, rec.State)
	out := scrape(t, s.m)
	assert.Contains(t, out, `tether_wait_timeouts_total{component="gen",workflow="gen"} 1`)
	assert.Contains(t, out, `tether_runs_total{state="failed",workflow="gen"} 1`)
	assert.Contains(t, out, `tether_run_duration_seconds_sum{state="failed",workflow="gen"} 300`)
	assert.Contains(t, out, `tether_pending_waits{component="gen",workflow="gen"} 0`)
}

func TestTriggerMetrics(t *testing.T) {
	m, err := metrics.New(nil)
	require.NoError(t, err)
	starter := listener.StarterFunc(func(ctx context.Context, workflowID string, input any) (listener.RunInfo, error) {
		return listener.RunInfo{ID: "run-1", Status: "pending"}, nil
	})
	tr, err := listener.NewTrigger(listener.TriggerConfig{Triggers: []listener.Trigger{{Path: "/hook", Workflow: "w"}}},
		starter, &listener.Options{Observer: m.ListenerObserver()})
	require.NoError(t, err)

	for range 3 {
		w := httptest.NewRecorder()
		tr.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(`{}`)))
		require.Equal(t, http.StatusOK, w.Code)
	}

	assert.Contains(t, scrape(t, m), `tether_trigger_runs_total{path="/hook",result="started"} 3`)
}

func TestTunnelMetrics(t *testing.T) {
	m, err := metrics.New(nil)
	require.NoError(t, err)
	cfg, err := gateway.ParseConfig(map[string]any{"type": "local", "port": 8090})
	require.NoError(t, err)
	g, err := gateway.New(cfg, &gateway.Options{OnTunnel: m.ObserveTunnel})
	require.NoError(t, err)

	require.NoError(t, g.Start(context.Background()))
	_, err = g.Endpoint(context.Background(), 8090)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return strings.Contains(scrape(t, m), `tether_tunnel_up{driver="local",port="8090"} 1`)
	}, 5*time.Second, time.Millisecond)
	require.NoError(t, g.Close())

	require.Eventually(t, func() bool {
		return strings.Contains(scrape(t, m), `tether_tunnel_up{driver="local",port="8090"} 0`)
	}, 5*time.Second, time.Millisecond)
}

func TestNewTwiceOnOneRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	_, err := metrics.New(&metrics.Options{Registerer: reg})
	require.NoError(t, err)

	_, err = metrics.New(&metrics.Options{Registerer: reg})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "register tether metrics")

	_, err = metrics.New(&metrics.Options{Registerer: reg, Namespace: "other"})
	assert.NoError(t, err)
}

func TestHandlerWithoutGatherer(t *testing.T) {
	m, err := metrics.New(&metrics.Options{Registerer: registererOnly{prometheus.NewRegistry()}})
	require.NoError(t, err)

	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))

	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.Contains(t, w.Body.String(), "no gatherer")
}

// registererOnly hides the Gatherer side of a registry.
type registererOnly struct{ prometheus.Registerer }

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(data)
}
