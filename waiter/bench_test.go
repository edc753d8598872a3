package waiter_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/tether-go/tether/waiter"
)

// BenchmarkMemoryPendingBytes registers 100,000 waits and reports the heap
// bytes that the waiter holds per registration. The ids are allocated
// before the first measurement, so only the waiter's own cost is counted.
func BenchmarkMemoryPendingBytes(b *testing.B) {
	const n = 100_000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("callback-%08d", i)
	}
	pendings := make([]waiter.Pending, n)
	var perWait float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		w := waiter.NewMemory(nil)
		for i, id := range ids {
			p, err := w.Expect(context.Background(), id)
			if err != nil {
				b.Fatal(err)
			}
			pendings[i] = p
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perWait = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(w)
		_ = w.Close()
		clear(pendings)
	}
	b.ReportMetric(perWait, "B/wait")
}

// BenchmarkMemoryRememberedBytes delivers to 100,000 waits, returns every
// outcome, and reports the heap bytes per id that the waiter keeps to
// detect duplicates.
func BenchmarkMemoryRememberedBytes(b *testing.B) {
	const n = 100_000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("callback-%08d", i)
	}
	ctx := context.Background()
	var perID float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		w := waiter.NewMemory(nil)
		for _, id := range ids {
			p, err := w.Expect(ctx, id)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := w.Deliver(ctx, id, waiter.Outcome{Result: "done"}); err != nil {
				b.Fatal(err)
			}
			if _, err := p.Wait(ctx); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perID = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(w)
		_ = w.Close()
	}
	b.ReportMetric(perID, "B/id")
}

// deliverBackend is one way to wake waiting goroutines: expect registers
// an id and returns a function that blocks until deliver is called for it.
type deliverBackend struct {
	expect  func(id string) (wait func())
	deliver func(id string)
}

// benchmarkDeliverWaiting parks 10,000 goroutines, each waiting for its
// own id, and measures the time from the first delivery until every
// goroutine has resumed. Setting the waits up is not timed.
func benchmarkDeliverWaiting(b *testing.B, newBackend func() deliverBackend) {
	const n = 10_000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("callback-%08d", i)
	}
	for b.Loop() {
		b.StopTimer()
		be := newBackend()
		var ready, resumed sync.WaitGroup
		ready.Add(n)
		resumed.Add(n)
		for _, id := range ids {
			wait := be.expect(id)
			go func() {
				ready.Done()
				wait()
				resumed.Done()
			}()
		}
		ready.Wait()
		b.StartTimer()
		for _, id := range ids {
			be.deliver(id)
		}
		resumed.Wait()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/delivery")
}

func BenchmarkDeliverWaiting(b *testing.B) {
	b.Run("Memory", func(b *testing.B) {
		benchmarkDeliverWaiting(b, func() deliverBackend {
			w := waiter.NewMemory(nil)
			ctx := context.Background()
			return deliverBackend{
				expect: func(id string) func() {
					p, err := w.Expect(ctx, id)
					if err != nil {
						b.Fatal(err)
					}
					return func() {
						if _, err := p.Wait(ctx); err != nil {
							b.Error(err)
						}
					}
				},
				deliver: func(id string) {
					if _, err := w.Deliver(ctx, id, waiter.Outcome{Result: id}); err != nil {
						b.Fatal(err)
					}
				},
			}
		})
	})

	// SyncMapFloor is the least work a waiter can do: a sync.Map from id
	// to a buffered channel, with no duplicate check, early outcomes or
	// expiry.
	b.Run("SyncMapFloor", func(b *testing.B) {
		benchmarkDeliverWaiting(b, func() deliverBackend {
			var m sync.Map
			return deliverBackend{
				expect: func(id string) func() {
					ch := make(chan waiter.Outcome, 1)
					m.Store(id, ch)
					return func() { <-ch }
				},
				deliver: func(id string) {
					ch, ok := m.LoadAndDelete(id)
					if !ok {
						b.Fatalf("no wait registered for id %s", id)
					}
					ch.(chan waiter.Outcome) <- waiter.Outcome{Result: id}
				},
			}
		})
	})
}
