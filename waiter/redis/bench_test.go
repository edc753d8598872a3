package redis_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tether-go/tether/internal/redistest"
	"github.com/tether-go/tether/waiter"
	redisw "github.com/tether-go/tether/waiter/redis"
)

// BenchmarkRedisDeliver measures delivery through Redis between two
// replicas. Each iteration is one callback: b.N waits are registered on
// replica A without timing, then 1 or 32 goroutines deliver the outcomes
// on replica B. It reports callbacks per second and the 50th and 99th
// percentile of the time from the start of Deliver to the return of Wait.
// The SameReplica cases wait and deliver on one replica.
func BenchmarkRedisDeliver(b *testing.B) {
	srv := redistest.Start(b, nil)
	for _, senders := range []int{1, 32} {
		b.Run(fmt.Sprintf("Replicas/Senders=%d", senders), func(b *testing.B) {
			opts := &redisw.Options{KeyPrefix: uniquePrefix()}
			a, replicaB := newWaiter(b, srv, opts), newWaiter(b, srv, opts)
			benchmarkDeliver(b, a, replicaB, senders)
		})
		b.Run(fmt.Sprintf("SameReplica/Senders=%d", senders), func(b *testing.B) {
			w := newWaiter(b, srv, &redisw.Options{KeyPrefix: uniquePrefix()})
			benchmarkDeliver(b, w, w, senders)
		})
	}
}

func benchmarkDeliver(b *testing.B, expecter, deliverer waiter.Waiter, senders int) {
	n := b.N
	ids := make([]string, n)
	pendings := make([]waiter.Pending, n)
	run := uniquePrefix()
	for i := range ids {
		ids[i] = fmt.Sprintf("%sbench-%d", run, i)
		p, err := expecter.Expect(context.Background(), ids[i])
		if err != nil {
			b.Fatal(err)
		}
		pendings[i] = p
	}

	sent := make([]time.Time, n)
	latency := make([]time.Duration, n)
	var woken sync.WaitGroup
	woken.Add(n)
	var sentMu sync.Mutex // guards sent, read by waits and written by senders
	for i, p := range pendings {
		go func() {
			defer woken.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if _, err := p.Wait(ctx); err != nil {
				b.Error(err)
				return
			}
			now := time.Now()
			sentMu.Lock()
			latency[i] = now.Sub(sent[i])
			sentMu.Unlock()
		}()
	}

	b.ResetTimer()
	start := time.Now()
	next := make(chan int)
	var senderGroup sync.WaitGroup
	for range senders {
		senderGroup.Add(1)
		go func() {
			defer senderGroup.Done()
			for i := range next {
				sentMu.Lock()
				sent[i] = time.Now()
				sentMu.Unlock()
				if _, err := deliverer.Deliver(context.Background(), ids[i], waiter.Outcome{Result: i}); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	senderGroup.Wait()
	woken.Wait()
	elapsed := time.Since(start)
	b.StopTimer()

	slices.Sort(latency)
	b.ReportMetric(float64(n)/elapsed.Seconds(), "callbacks/s")
	b.ReportMetric(float64(latency[n/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latency[n*99/100].Microseconds())/1000, "p99-ms")
}
