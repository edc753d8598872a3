package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tether-go/tether/waiter"
)

// serveOne posts one callback for id to h through ServeHTTP.
func serveOne(b *testing.B, h http.Handler, id string) {
	body := appendCallback(nil, id, time.Now().UnixNano())
	req := httptest.NewRequest(http.MethodPost, callbackPath, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
}

// BenchmarkIntakeFloor measures the floor's handler on one callback
// whose id has a registration, without the network.
func BenchmarkIntakeFloor(b *testing.B) {
	f := &floor{}
	mux := http.NewServeMux()
	mux.Handle("POST "+callbackPath, f)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		b.StopTimer()
		id := callbackID(i)
		f.expect(id)
		i++
		b.StartTimer()
		serveOne(b, mux, id)
	}
}

// BenchmarkIntakeTether measures tether's callback listener on the same
// callback, delivered to a registration in a waiter.Memory.
func BenchmarkIntakeTether(b *testing.B) {
	w := waiter.NewMemory(nil)
	b.Cleanup(func() { _ = w.Close() })
	l, _, err := startTether(w)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { shutdown(l) })
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		b.StopTimer()
		id := callbackID(i)
		if _, err := w.Expect(ctx, id); err != nil {
			b.Fatal(err)
		}
		i++
		b.StartTimer()
		serveOne(b, l, id)
	}
}

// BenchmarkWaitingRunBytes measures the memory that one workflow run
// waiting for its callback holds: an http-client job with callback
// completion, against an API replaced by an in-memory RoundTripper. Each iteration starts
// 2,000 runs, measures, then delivers their callbacks and waits for
// them to complete.
func BenchmarkWaitingRunBytes(b *testing.B) {
	const runs = 2000
	w := waiter.NewMemory(nil)
	b.Cleanup(func() { _ = w.Close() })
	e, err := newScaleEngine(w, runs)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = e.Close() })

	ctx := context.Background()
	var heap, stack int64
	ids := make([]string, runs)
	for b.Loop() {
		b.StopTimer()
		heap0, stack0, _ := memorySnapshot()
		b.StartTimer()
		for i := range runs {
			run, err := e.Start(ctx, "generate", nil)
			if err != nil {
				b.Fatal(err)
			}
			ids[i] = run.ID
		}
		if err := waitForPending(w, runs, 30*time.Second); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		heap1, stack1, _ := memorySnapshot()
		heap += heap1 - heap0
		stack += stack1 - stack0

		for _, id := range ids {
			if _, err := w.Deliver(ctx, id, waiter.Outcome{Result: map[string]any{"url": "u"}}); err != nil {
				b.Fatal(err)
			}
		}
		for _, id := range ids {
			if _, err := e.Wait(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(heap)/float64(b.N*runs), "heap-B/run")
	b.ReportMetric(float64(stack)/float64(b.N*runs), "stack-B/run")
}
