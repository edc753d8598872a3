package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// loadConns is the number of keep-alive connections of every load run.
const loadConns = 64

// load describes one bounded load run: requests first..first+count-1,
// each a POST of body(i) to path, over loadConns connections, stopping
// after count requests or maxDuration, whichever comes first.
type load struct {
	addr        string
	path        string
	first       int
	count       int
	maxDuration time.Duration
	body        func(buf []byte, i int) []byte
}

// loadResult contains the measurements of one load run.
type loadResult struct {
	start     time.Time
	elapsed   time.Duration
	done      int
	failures  int
	firstErr  error
	latencies []time.Duration // sorted
}

func (r loadResult) perSecond() float64 { return float64(r.done) / r.elapsed.Seconds() }

// percentile returns the p-th percentile (0 < p ≤ 100) of the latencies.
func (r loadResult) percentile(p float64) time.Duration {
	return percentile(r.latencies, p)
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// run sends the load. It writes HTTP/1.1 requests straight to each
// connection and reads the replies with http.ReadResponse. The load
// generator runs on a single core, where net/http's Transport would cost
// more CPU per request than the servers and hide their difference.
func (l load) run() loadResult {
	var next atomic.Int64
	next.Store(int64(l.first))
	end := int64(l.first + l.count)
	deadline := time.Now().Add(l.maxDuration)

	var (
		mu     sync.Mutex
		result loadResult
		wg     sync.WaitGroup
	)
	result.start = time.Now()
	for range loadConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat, fails, err := l.worker(&next, end, deadline)
			mu.Lock()
			defer mu.Unlock()
			result.latencies = append(result.latencies, lat...)
			result.failures += fails
			if err != nil && result.firstErr == nil {
				result.firstErr = err
			}
		}()
	}
	wg.Wait()
	result.elapsed = time.Since(result.start)
	result.done = len(result.latencies)
	slices.Sort(result.latencies)
	return result
}

// worker sends requests on one connection until the indexes run out or
// the deadline passes. A request without a 200 reply counts as a
// failure; an I/O error ends the worker.
func (l load) worker(next *atomic.Int64, end int64, deadline time.Time) ([]time.Duration, int, error) {
	conn, err := net.Dial("tcp", l.addr)
	if err != nil {
		return nil, 0, fmt.Errorf("dial %s: %w", l.addr, err)
	}
	defer conn.Close()
	br := bufio.NewReaderSize(conn, 16<<10)
	bw := bufio.NewWriterSize(conn, 16<<10)
	head := "POST " + l.path + " HTTP/1.1\r\nHost: " + l.addr + "\r\nContent-Type: application/json\r\nContent-Length: "

	var (
		lat   []time.Duration
		fails int
		body  []byte
	)
	for {
		i := next.Add(1) - 1
		if i >= end || time.Now().After(deadline) {
			return lat, fails, nil
		}
		body = l.body(body[:0], int(i))
		start := time.Now()
		_, _ = bw.WriteString(head)
		_, _ = bw.WriteString(strconv.Itoa(len(body)))
		_, _ = bw.WriteString("\r\n\r\n")
		_, _ = bw.Write(body)
		if err := bw.Flush(); err != nil {
			return lat, fails + 1, fmt.Errorf("send request: %w", err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return lat, fails + 1, fmt.Errorf("read response: %w", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			fails++
			continue
		}
		lat = append(lat, time.Since(start))
	}
}
