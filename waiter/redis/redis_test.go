package redis_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tether-go/tether/internal/redistest"
	"github.com/tether-go/tether/waiter"
	redisw "github.com/tether-go/tether/waiter/redis"
	"github.com/tether-go/tether/waiter/waitertest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var ctx = context.Background()

var prefixSeq atomic.Uint64

// uniquePrefix returns a key prefix that no other waiter of this test
// binary uses, so that tests sharing a server do not see each other.
func uniquePrefix() string {
	return fmt.Sprintf("test%d-%d:", time.Now().UnixNano(), prefixSeq.Add(1))
}

func newClient(t testing.TB, srv *redistest.Server) *goredis.Client {
	client := goredis.NewClient(&goredis.Options{Addr: srv.Addr})
	t.Cleanup(func() { _ = client.Close() })
	return client
}

// newWaiter returns a waiter with its own client, closed when the test
// ends.
func newWaiter(t testing.TB, srv *redistest.Server, opts *redisw.Options) *redisw.Waiter {
	t.Helper()
	w, err := redisw.New(newClient(t, srv), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = w.Close() })
	return w
}

func TestRedisConformance(t *testing.T) {
	srv := redistest.Start(t, nil)
	waitertest.Run(t, func(t *testing.T) waiter.Waiter {
		return newWaiter(t, srv, &redisw.Options{KeyPrefix: uniquePrefix()})
	})
}

func TestRedisSharedConformance(t *testing.T) {
	srv := redistest.Start(t, nil)
	waitertest.RunShared(t, func(t *testing.T) (a, b waiter.Waiter) {
		opts := &redisw.Options{KeyPrefix: uniquePrefix()}
		return newWaiter(t, srv, opts), newWaiter(t, srv, opts)
	})
}

// expectAll registers ids on w and starts a Wait for each, bounded by
// timeout. The returned channel gets one result per id.
func expectAll(t *testing.T, w waiter.Waiter, ids []string, timeout time.Duration) <-chan idResult {
	t.Helper()
	results := make(chan idResult, len(ids))
	for _, id := range ids {
		p, err := w.Expect(ctx, id)
		require.NoError(t, err, "expect %s", id)
		go func() {
			waitCtx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			o, err := p.Wait(waitCtx)
			results <- idResult{id: id, outcome: o, err: err}
		}()
	}
	return results
}

type idResult struct {
	id      string
	outcome waiter.Outcome
	err     error
}

// checkResumedOnce reads n results and checks that every id resumed once,
// with its own outcome.
func checkResumedOnce(t *testing.T, results <-chan idResult, ids []string) {
	t.Helper()
	seen := make(map[string]int, len(ids))
	for range ids {
		r := <-results
		if !assert.NoError(t, r.err, "wait %s", r.id) {
			continue
		}
		seen[r.id]++
		assert.Equal(t, r.id, r.outcome.Result, "outcome of %s", r.id)
	}
	for _, id := range ids {
		assert.Equal(t, 1, seen[id], "resumptions of %s", id)
	}
}

func makeIDs(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%04d", prefix, i)
	}
	return ids
}

// deliverAll delivers the outcome {Result: id} for every id on w from
// several goroutines and checks what Deliver reported.
func deliverAll(t *testing.T, w waiter.Waiter, ids []string, want waiter.Delivery) {
	t.Helper()
	var wg sync.WaitGroup
	next := make(chan string)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				d, err := w.Deliver(ctx, id, waiter.Outcome{Result: id})
				assert.NoError(t, err, "deliver %s", id)
				assert.Equal(t, want, d, "delivery of %s", id)
			}
		}()
	}
	for _, id := range ids {
		next <- id
	}
	close(next)
	wg.Wait()
}

func TestRedisThousandWaitsAcrossReplicas(t *testing.T) {
	srv := redistest.Start(t, nil)
	opts := &redisw.Options{KeyPrefix: uniquePrefix()}
	a, b := newWaiter(t, srv, opts), newWaiter(t, srv, opts)
	ids := makeIDs("late", 1000)

	results := expectAll(t, a, ids, 20*time.Second)
	deliverAll(t, b, ids, waiter.Delivered)
	checkResumedOnce(t, results, ids)
	deliverAll(t, a, ids, waiter.Duplicate)
}

func TestRedisThousandDeliveriesBeforeWaits(t *testing.T) {
	srv := redistest.Start(t, nil)
	opts := &redisw.Options{KeyPrefix: uniquePrefix()}
	a, b := newWaiter(t, srv, opts), newWaiter(t, srv, opts)
	ids := makeIDs("early", 1000)

	deliverAll(t, b, ids, waiter.Stored)
	results := expectAll(t, a, ids, 20*time.Second)
	checkResumedOnce(t, results, ids)
	deliverAll(t, b, ids, waiter.Duplicate)
}

// TestRedisRestartMidRun stops and restarts Redis while 300 waits are
// pending on A. Outcomes are delivered on B before, during and after the
// restart. A delivery that fails while Redis is down is retried, as a
// callback sender retries after an error reply. Every wait must resume
// exactly once.
func TestRedisRestartMidRun(t *testing.T) {
	srv := redistest.Start(t, nil)
	// The default lease outlasts the outage, so no registration expires.
	opts := &redisw.Options{KeyPrefix: uniquePrefix()}
	a, b := newWaiter(t, srv, opts), newWaiter(t, srv, opts)
	ids := makeIDs("restart", 300)
	before, during, after := ids[:100], ids[100:200], ids[200:]

	results := expectAll(t, a, ids, 30*time.Second)
	deliverAll(t, b, before, waiter.Delivered)

	srv.Stop()
	var retries atomic.Int64
	duringDone := make(chan struct{})
	go func() {
		defer close(duringDone)
		var wg sync.WaitGroup
		for _, id := range during {
			wg.Add(1)
			go func() {
				defer wg.Done()
				deliverWithRetry(t, b, id, &retries)
			}()
		}
		wg.Wait()
	}()
	// Longer than the retries of go-redis (3 by default, at most 512ms
	// apart), so that some Deliver calls fail.
	time.Sleep(1500 * time.Millisecond)
	require.NoError(t, srv.StartAgain())
	<-duringDone
	assert.Positive(t, retries.Load(), "some deliveries failed while Redis was down")

	// go-redis reports dial errors for about a second after a failed
	// dial, so deliveries right after the restart may need a retry too.
	require.NoError(t, srv.Restart())
	for _, id := range after {
		deliverWithRetry(t, b, id, &retries)
	}
	checkResumedOnce(t, results, ids)

	// The replicas keep working after the restarts.
	late := makeIDs("after-restart", 10)
	results = expectAll(t, a, late, 10*time.Second)
	deliverAll(t, b, late, waiter.Delivered)
	checkResumedOnce(t, results, late)
}

// TestRedisOutageLongerThanLease lets the registrations expire while
// Redis is down. Deliveries during the outage may then find no
// registration and store the outcome, and the renew pass sets the
// registrations again and claims those outcomes.
func TestRedisOutageLongerThanLease(t *testing.T) {
	srv := redistest.Start(t, nil)
	opts := &redisw.Options{KeyPrefix: uniquePrefix(), Lease: 300 * time.Millisecond}
	a, b := newWaiter(t, srv, opts), newWaiter(t, srv, opts)
	ids := makeIDs("outage", 50)
	results := expectAll(t, a, ids, 20*time.Second)

	srv.Stop()
	time.Sleep(time.Second)
	require.NoError(t, srv.StartAgain())
	var retries atomic.Int64
	for _, id := range ids {
		deliverWithRetryAny(t, b, id, &retries)
	}
	checkResumedOnce(t, results, ids)
}

// deliverWithRetryAny is deliverWithRetry accepting any delivery result.
func deliverWithRetryAny(t *testing.T, w waiter.Waiter, id string, retries *atomic.Int64) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := w.Deliver(ctx, id, waiter.Outcome{Result: id})
		if err == nil || time.Now().After(deadline) {
			assert.NoError(t, err, "deliver %s", id)
			return
		}
		retries.Add(1)
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRedisWhileDown checks that calls fail with the address, instead of
// hanging, while Redis is down, and that Close still ends the waits.
func TestRedisWhileDown(t *testing.T) {
	srv := redistest.Start(t, nil)
	w := newWaiter(t, srv, &redisw.Options{KeyPrefix: uniquePrefix()})
	p, err := w.Expect(ctx, "kept-waiting")
	require.NoError(t, err)
	results := make(chan error, 1)
	go func() {
		_, err := p.Wait(ctx)
		results <- err
	}()

	srv.Stop()
	short, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_, err = w.Expect(short, "new")
	require.Error(t, err)
	assert.Contains(t, err.Error(), srv.Addr, "error names the address")
	_, err = w.Deliver(short, "new", waiter.Outcome{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), srv.Addr, "error names the address")

	start := time.Now()
	require.NoError(t, w.Close())
	assert.Less(t, time.Since(start), 5*time.Second, "Close does not hang")
	select {
	case err := <-results:
		assert.ErrorIs(t, err, waiter.ErrClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not end after Close")
	}
}

// deliverWithRetry delivers until Deliver succeeds. A retry after a lost
// reply may report Duplicate, which a sender also treats as success.
func deliverWithRetry(t *testing.T, w waiter.Waiter, id string, retries *atomic.Int64) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, err := w.Deliver(ctx, id, waiter.Outcome{Result: id})
		if err == nil {
			assert.NotEqual(t, waiter.Stored, d, "delivery of %s finds its registration", id)
			return
		}
		if time.Now().After(deadline) {
			assert.NoError(t, err, "deliver %s", id)
			return
		}
		retries.Add(1)
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRedisOutcomeSurvivesCrashedReplica registers an id the way a
// replica does and lets that replica vanish: the outcome delivered to it
// stays in Redis, and a replacement Expect gets it once the lease ends.
func TestRedisOutcomeSurvivesCrashedReplica(t *testing.T) {
	srv := redistest.Start(t, nil)
	prefix := uniquePrefix()
	client := newClient(t, srv)
	b := newWaiter(t, srv, &redisw.Options{KeyPrefix: prefix})

	require.NoError(t, client.Set(ctx, prefix+"reg:job-1", "crashed-replica:1", 300*time.Millisecond).Err())
	d, err := b.Deliver(ctx, "job-1", waiter.Outcome{Result: "kept"})
	require.NoError(t, err)
	assert.Equal(t, waiter.Delivered, d, "the crashed replica's registration counts")

	_, err = b.Expect(ctx, "job-1")
	require.ErrorIs(t, err, waiter.ErrAlreadyWaiting, "before the lease ends")

	require.Eventually(t, func() bool {
		p, err := b.Expect(ctx, "job-1")
		if err != nil {
			return false
		}
		o, err := p.Wait(ctx)
		return assert.NoError(t, err) && assert.Equal(t, "kept", o.Result)
	}, 5*time.Second, 50*time.Millisecond)
}

// TestRedisRenewClaimsMissedOutcome writes an outcome without publishing
// its id, as if the notification was lost, and checks that the renew pass
// claims it.
func TestRedisRenewClaimsMissedOutcome(t *testing.T) {
	srv := redistest.Start(t, nil)
	prefix := uniquePrefix()
	client := newClient(t, srv)
	a := newWaiter(t, srv, &redisw.Options{KeyPrefix: prefix, Lease: 150 * time.Millisecond})

	p, err := a.Expect(ctx, "job-2")
	require.NoError(t, err)
	raw, err := json.Marshal(waiter.Outcome{Result: "found"})
	require.NoError(t, err)
	require.NoError(t, client.Set(ctx, prefix+"out:job-2", raw, time.Minute).Err())

	waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	o, err := p.Wait(waitCtx)
	require.NoError(t, err)
	assert.Equal(t, "found", o.Result)
}

func TestRedisLeaseRenewedWhileWaiting(t *testing.T) {
	srv := redistest.Start(t, nil)
	opts := &redisw.Options{KeyPrefix: uniquePrefix(), Lease: 90 * time.Millisecond}
	a, b := newWaiter(t, srv, opts), newWaiter(t, srv, opts)

	_, err := a.Expect(ctx, "job-3")
	require.NoError(t, err)
	time.Sleep(400 * time.Millisecond) // more than four leases
	_, err = b.Expect(ctx, "job-3")
	require.ErrorIs(t, err, waiter.ErrAlreadyWaiting, "the lease was renewed")

	require.NoError(t, a.Close())
	p, err := b.Expect(ctx, "job-3")
	require.NoError(t, err, "Close releases the registration at once")
	p.Cancel()
}

func TestRedisCloseKeepsArrivedOutcome(t *testing.T) {
	srv := redistest.Start(t, nil)
	w := newWaiter(t, srv, &redisw.Options{KeyPrefix: uniquePrefix()})
	_, err := w.Deliver(ctx, "job-4", waiter.Outcome{Result: "x"})
	require.NoError(t, err)
	p, err := w.Expect(ctx, "job-4")
	require.NoError(t, err)
	require.NoError(t, w.Close())
	o, err := p.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, "x", o.Result)
}

func TestRedisKeyPrefixIsolates(t *testing.T) {
	srv := redistest.Start(t, nil)
	a := newWaiter(t, srv, &redisw.Options{KeyPrefix: uniquePrefix()})
	b := newWaiter(t, srv, &redisw.Options{KeyPrefix: uniquePrefix()})

	_, err := a.Deliver(ctx, "shared-id", waiter.Outcome{Result: "a"})
	require.NoError(t, err)
	p, err := b.Expect(ctx, "shared-id")
	require.NoError(t, err)
	d, err := b.Deliver(ctx, "shared-id", waiter.Outcome{Result: "b"})
	require.NoError(t, err)
	assert.Equal(t, waiter.Delivered, d)
	o, err := p.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, "b", o.Result, "each prefix has its own outcomes")
}

func TestRedisMaxStored(t *testing.T) {
	srv := redistest.Start(t, nil)
	opts := &redisw.Options{KeyPrefix: uniquePrefix(), MaxStored: 2}
	a, b := newWaiter(t, srv, opts), newWaiter(t, srv, opts)
	_, err := a.Deliver(ctx, "s1", waiter.Outcome{})
	require.NoError(t, err)
	_, err = b.Deliver(ctx, "s2", waiter.Outcome{})
	require.NoError(t, err)
	_, err = a.Deliver(ctx, "s3", waiter.Outcome{})
	require.ErrorIs(t, err, waiter.ErrFull, "the count spans replicas")

	p, err := b.Expect(ctx, "s1")
	require.NoError(t, err)
	_, err = p.Wait(ctx)
	require.NoError(t, err)
	_, err = a.Deliver(ctx, "s3", waiter.Outcome{})
	assert.NoError(t, err, "a claimed outcome frees room")
}

func TestRedisRetention(t *testing.T) {
	srv := redistest.Start(t, nil)
	w := newWaiter(t, srv, &redisw.Options{
		KeyPrefix: uniquePrefix(), Retention: 100 * time.Millisecond, DuplicateRetention: 100 * time.Millisecond,
	})
	_, err := w.Deliver(ctx, "old", waiter.Outcome{Result: 1})
	require.NoError(t, err)
	time.Sleep(250 * time.Millisecond)

	p, err := w.Expect(ctx, "old")
	require.NoError(t, err)
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = p.Wait(short)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the outcome expired")
}

func TestRedisStats(t *testing.T) {
	srv := redistest.Start(t, nil)
	w := newWaiter(t, srv, &redisw.Options{KeyPrefix: uniquePrefix()})
	p, err := w.Expect(ctx, "s")
	require.NoError(t, err)
	assert.Equal(t, 1, w.Stats().Pending)
	_, err = w.Deliver(ctx, "s", waiter.Outcome{})
	require.NoError(t, err)
	_, err = p.Wait(ctx)
	require.NoError(t, err)
	_, err = w.Deliver(ctx, "s", waiter.Outcome{})
	require.NoError(t, err)
	st := w.Stats()
	assert.Equal(t, 0, st.Pending)
	assert.Equal(t, uint64(1), st.Delivered)
	assert.Equal(t, uint64(1), st.Duplicates)
}

func TestOpen(t *testing.T) {
	srv := redistest.Start(t, nil)
	w, err := redisw.Open(ctx, srv.URL, &redisw.Options{KeyPrefix: uniquePrefix()})
	require.NoError(t, err)
	_, err = w.Deliver(ctx, "x", waiter.Outcome{})
	assert.NoError(t, err)
	assert.NoError(t, w.Close())
	assert.ErrorIs(t, w.Close(), waiter.ErrClosed)
}

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func TestOpenUnreachable(t *testing.T) {
	addr := closedPort(t)
	_, err := redisw.Open(ctx, "redis://:s3cr3t-pw@"+addr+"/0", &redisw.Options{PingTimeout: time.Second})
	require.Error(t, err)
	assert.Contains(t, err.Error(), addr, "error names the address")
	assert.Contains(t, err.Error(), "check that Redis runs there")
	assert.NotContains(t, err.Error(), "s3cr3t-pw")
}

func TestNewUnreachable(t *testing.T) {
	addr := closedPort(t)
	client := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1})
	defer client.Close()
	_, err := redisw.New(client, &redisw.Options{PingTimeout: 500 * time.Millisecond})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ping redis at "+addr)
}

func TestOpenInvalidURL(t *testing.T) {
	tests := []struct {
		url  string
		want string
	}{
		{"http://127.0.0.1:6379", `unsupported scheme "http"`},
		{"redis://", "the host is missing"},
		{"redis://:pw@127.0.0.1:1/notanumber", "invalid database number"},
		{"unix://", "the socket path is missing"},
		{"redis://user:pw@127.0.0.1:1/0?unknown_param=1", "unknown_param"},
		{"redis://%zz", "invalid URL escape"},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			_, err := redisw.Open(ctx, tc.url, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), ":pw@", "the password is redacted")
		})
	}
}

func TestNewInvalidOptions(t *testing.T) {
	tests := []struct {
		opts redisw.Options
		want string
	}{
		{redisw.Options{Retention: -time.Second}, "Retention=-1s"},
		{redisw.Options{DuplicateRetention: -time.Second}, "DuplicateRetention=-1s"},
		{redisw.Options{Lease: -time.Second}, "Lease=-1s"},
		{redisw.Options{Lease: time.Millisecond}, "Lease=1ms"},
		{redisw.Options{PingTimeout: -time.Second}, "PingTimeout=-1s"},
		{redisw.Options{MaxStored: -1}, "MaxStored=-1"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			client := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"})
			defer client.Close()
			_, err := redisw.New(client, &tc.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
