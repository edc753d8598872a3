package listener

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tether-go/tether/clock"
	"github.com/tether-go/tether/waiter"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeWaiter is a waiter.Waiter built from Func fields. DeliverFunc nil
// records the delivery and reports waiter.Stored.
type fakeWaiter struct {
	DeliverFunc func(ctx context.Context, id string, o waiter.Outcome) (waiter.Delivery, error)

	mu        sync.Mutex // guards delivered
	delivered []delivery
}

type delivery struct {
	id      string
	outcome waiter.Outcome
}

func (f *fakeWaiter) Expect(ctx context.Context, id string) (waiter.Pending, error) {
	return nil, waiter.ErrClosed
}

func (f *fakeWaiter) Deliver(ctx context.Context, id string, o waiter.Outcome) (waiter.Delivery, error) {
	if f.DeliverFunc != nil {
		return f.DeliverFunc(ctx, id, o)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delivered = append(f.delivered, delivery{id: id, outcome: o})
	return waiter.Stored, nil
}

func (f *fakeWaiter) Close() error { return nil }

func (f *fakeWaiter) deliveries() []delivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]delivery(nil), f.delivered...)
}

var _ waiter.Waiter = (*fakeWaiter)(nil)

// recordingStarter is a Starter that records each input and returns
// run ids "run-1", "run-2", ... StartFunc, when set, decides instead.
type recordingStarter struct {
	StartFunc func(ctx context.Context, workflowID string, input any) (RunInfo, error)

	mu     sync.Mutex // guards inputs
	inputs []any
}

func (s *recordingStarter) StartRun(ctx context.Context, workflowID string, input any) (RunInfo, error) {
	if s.StartFunc != nil {
		return s.StartFunc(ctx, workflowID, input)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inputs = append(s.inputs, input)
	return RunInfo{ID: "run-" + itoa(len(s.inputs)), Status: "pending"}, nil
}

func (s *recordingStarter) started() []any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]any(nil), s.inputs...)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// fakeClock is a clock.Clock whose time moves only through Advance.
type fakeClock struct {
	mu  sync.Mutex // guards now
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// AfterFunc never calls f; the listener schedules nothing on its clock.
func (c *fakeClock) AfterFunc(d time.Duration, f func()) clock.Timer { return stoppedTimer{} }

type stoppedTimer struct{}

func (stoppedTimer) Stop() bool { return false }

// send runs one request through h and returns the recorded reply.
func send(t testing.TB, h http.Handler, method, target string, header http.Header, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	r := httptest.NewRequest(method, target, reader)
	for name, values := range header {
		r.Header[name] = values
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func postJSON(t testing.TB, h http.Handler, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	return send(t, h, http.MethodPost, target, http.Header{"Content-Type": {"application/json"}}, []byte(body))
}

// decodeReply decodes a JSON reply body into any.
func decodeReply(t testing.TB, w *httptest.ResponseRecorder) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v), "reply body: %s", w.Body.String())
	return v
}

func gzipBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(data)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func newTestTrigger(t testing.TB, tr Trigger, s Starter) *TriggerListener {
	t.Helper()
	l, err := NewTrigger(TriggerConfig{Triggers: []Trigger{tr}}, s, nil)
	require.NoError(t, err)
	return l
}

func newTestCallback(t testing.TB, cb Callback, w waiter.Waiter) *CallbackListener {
	t.Helper()
	l, err := NewCallback(CallbackConfig{Callbacks: []Callback{cb}}, w, nil)
	require.NoError(t, err)
	return l
}

func newRecorderServe(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}
