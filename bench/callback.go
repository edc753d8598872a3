package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-go/tether/waiter"
)

// callbackID is the id of the i-th callback of a run.
func callbackID(i int) string { return "cb-" + strconv.Itoa(i) }

// serverReport is the JSON line a callback server child writes at the
// end.
type serverReport struct {
	Delivered  int64  `json:"delivered"`
	PeakRSSKiB int64  `json:"peak_rss_kib"`
	BaseRSSKiB int64  `json:"base_rss_kib"`
	LastWakeNS int64  `json:"last_wake_ns"`
	P50NS      int64  `json:"p50_ns"`
	P99NS      int64  `json:"p99_ns"`
	Woken      int    `json:"woken"`
	Error      string `json:"error,omitempty"`
}

// serveCallbacks is the child side of the intake and delivery scenarios.
// It registers n ids, "cb-0" to "cb-(n-1)", with impl ("floor" or
// "tether"). With goroutines set, each id gets a goroutine that waits
// for its callback and records the callback-to-wake latency. Without,
// the registrations are only kept, as a server with n jobs waiting would
// keep them. The child reports when its standard input closes, after
// every goroutine has woken or 60 seconds have passed.
func serveCallbacks(impl string, n int, goroutines bool) error {
	_, baseRSS := memoryStatus()
	report := serverReport{BaseRSSKiB: baseRSS}
	wakes := make([]int64, n)     // Unix ns of each wake
	latencies := make([]int64, n) // ns from sending to wake
	var woken atomic.Int64
	allWoken := make(chan struct{})
	wake := func(i int, sentAt string) {
		now := time.Now().UnixNano()
		sent, _ := strconv.ParseInt(sentAt, 10, 64)
		wakes[i], latencies[i] = now, now-sent
		if woken.Add(1) == int64(n) {
			close(allWoken)
		}
	}

	var (
		addr      string
		delivered func() int64
		stop      func()
	)
	switch impl {
	case "floor":
		f := &floor{}
		for i := range n {
			ch := f.expect(callbackID(i))
			if goroutines {
				go func() { wake(i, (<-ch).SentAt) }()
			}
		}
		srv, a, err := startFloor(f)
		if err != nil {
			return err
		}
		addr, delivered, stop = a, f.delivered.Load, func() { shutdown(srv) }
	case "tether":
		w := waiter.NewMemory(&waiter.MemoryOptions{MaxStored: n + 1000})
		ctx := context.Background()
		pending := make([]waiter.Pending, n)
		for i := range n {
			p, err := w.Expect(ctx, callbackID(i))
			if err != nil {
				return fmt.Errorf("expect %s: %w", callbackID(i), err)
			}
			pending[i] = p
			if goroutines {
				go func() {
					o, err := p.Wait(ctx)
					if err != nil {
						return
					}
					result, _ := o.Result.(map[string]any)
					sentAt, _ := result["sent_at"].(string)
					wake(i, sentAt)
				}()
			}
		}
		l, a, err := startTether(w)
		if err != nil {
			return err
		}
		addr = a
		delivered = func() int64 { return int64(w.Stats().Delivered) }
		stop = func() { shutdown(l); _ = w.Close() }
	default:
		return fmt.Errorf("unknown implementation %q", impl)
	}

	stopProfile, err := startCPUProfile(fmt.Sprintf("callbacks-%s-%d-%d", impl, n, os.Getpid()))
	if err != nil {
		return err
	}
	childIO{}.ready(addr)
	stdinClosed := make(chan struct{})
	go func() { waitForStdinClose(); close(stdinClosed) }()
	if goroutines {
		select {
		case <-allWoken:
		case <-time.After(60 * time.Second):
			report.Error = "not every waiter woke within 60s"
		}
	}
	<-stdinClosed
	stopProfile()
	stop()

	report.Delivered = delivered()
	_, report.PeakRSSKiB = memoryStatus()
	if goroutines {
		report.Woken = int(woken.Load())
		var lat []time.Duration
		for i := range n {
			if wakes[i] != 0 {
				report.LastWakeNS = max(report.LastWakeNS, wakes[i])
				lat = append(lat, time.Duration(latencies[i]))
			}
		}
		slices.Sort(lat)
		report.P50NS = int64(percentile(lat, 50))
		report.P99NS = int64(percentile(lat, 99))
	}
	childIO{}.result(report)
	return nil
}

// callbackLoad returns a load of callbacks for ids first..first+count-1.
func callbackLoad(addr string, first, count int, maxDuration time.Duration) load {
	return load{
		addr:        addr,
		path:        callbackPath,
		first:       first,
		count:       count,
		maxDuration: maxDuration,
		body: func(buf []byte, i int) []byte {
			return appendCallback(buf, callbackID(i), time.Now().UnixNano())
		},
	}
}

// intakeRound measures one implementation's intake: warm callbacks
// first, then count measured ones.
func intakeRound(impl string, warm, count int) (loadResult, error) {
	c, err := startChild("callbacks", "-impl", impl, "-n", strconv.Itoa(warm+count), "-cpu", "0")
	if err != nil {
		return loadResult{}, err
	}
	if r := callbackLoad(c.addr, 0, warm, 10*time.Second).run(); r.firstErr != nil {
		c.kill()
		return loadResult{}, fmt.Errorf("warm up %s: %w", impl, r.firstErr)
	}
	r := callbackLoad(c.addr, warm, count, 20*time.Second).run()
	var report serverReport
	if err := c.finish(&report, 20*time.Second); err != nil {
		return r, fmt.Errorf("%s server: %w", impl, err)
	}
	if r.firstErr != nil {
		return r, fmt.Errorf("load %s: %w", impl, r.firstErr)
	}
	if r.failures > 0 || report.Delivered != int64(r.done+warm) {
		return r, fmt.Errorf("load %s: %d failures, %d of %d delivered", impl, r.failures, report.Delivered, r.done+warm)
	}
	return r, nil
}

// deliveryResult is one implementation's delivery measurement.
type deliveryResult struct {
	total      time.Duration // first callback sent to last waiter woken
	p99        time.Duration
	peakRSSKiB int64
}

// deliveryRound registers n waiting goroutines in a child and sends one
// callback to each.
func deliveryRound(impl string, n int) (deliveryResult, error) {
	c, err := startChild("callbacks", "-impl", impl, "-n", strconv.Itoa(n), "-goroutines", "-cpu", "0")
	if err != nil {
		return deliveryResult{}, err
	}
	r := callbackLoad(c.addr, 0, n, 30*time.Second).run()
	var report serverReport
	err = c.finish(&report, 30*time.Second)
	switch {
	case err != nil:
		return deliveryResult{}, fmt.Errorf("%s server: %w", impl, err)
	case r.firstErr != nil:
		return deliveryResult{}, fmt.Errorf("load %s: %w", impl, r.firstErr)
	case report.Error != "" || report.Woken != n:
		return deliveryResult{}, fmt.Errorf("%s: %d of %d waiters woke: %s", impl, report.Woken, n, report.Error)
	}
	return deliveryResult{
		total:      time.Duration(report.LastWakeNS - r.start.UnixNano()),
		p99:        time.Duration(report.P99NS),
		peakRSSKiB: report.PeakRSSKiB,
	}, nil
}

var errNoCPUs = errors.New("fewer than 2 CPUs: server and load generator share them")

// pinLoadGenerator pins this process, the load generator, to CPU 1 so
// that the server children can have CPU 0. It returns a function that
// undoes it.
func pinLoadGenerator(notes *[]string) func() {
	if numCPU() < 2 {
		*notes = append(*notes, errNoCPUs.Error())
		return func() {}
	}
	if err := pinProcess(1); err != nil {
		*notes = append(*notes, "not pinned: "+err.Error())
		return func() {}
	}
	var once sync.Once
	return func() { once.Do(func() { _ = pinProcess() }) }
}
