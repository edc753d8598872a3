package metrics_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tether-go/tether/listener"
	"github.com/tether-go/tether/metrics"
	"github.com/tether-go/tether/waiter"
)

// duplicateWaiter reports every outcome as a duplicate, so that the
// benchmarks measure the listener and the observer, not a waiter.
type duplicateWaiter struct{}

func (duplicateWaiter) Expect(context.Context, string) (waiter.Pending, error) {
	return nil, waiter.ErrClosed
}

func (duplicateWaiter) Deliver(context.Context, string, waiter.Outcome) (waiter.Delivery, error) {
	return waiter.Duplicate, nil
}

func (duplicateWaiter) Close() error { return nil }

func benchmarkCallback(b *testing.B, obs *listener.Observer) {
	cb, err := listener.NewCallback(listener.CallbackConfig{Callbacks: []listener.Callback{{
		Path: "/done", IdentifyBy: "${body.id}", Status: "${body.status}",
	}}}, duplicateWaiter{}, &listener.Options{Observer: obs})
	if err != nil {
		b.Fatal(err)
	}
	body := `{"id": "task-1", "status": "completed"}`
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/done", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		cb.ServeHTTP(httptest.NewRecorder(), r)
	}
}

// BenchmarkCallbackNoObserver is the cost of one callback without
// metrics, the baseline for BenchmarkCallbackMetrics.
func BenchmarkCallbackNoObserver(b *testing.B) { benchmarkCallback(b, nil) }

// BenchmarkCallbackMetrics is the cost of one callback counted by the
// collector.
func BenchmarkCallbackMetrics(b *testing.B) {
	m, err := metrics.New(&metrics.Options{Registerer: prometheus.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	benchmarkCallback(b, m.ListenerObserver())
}
