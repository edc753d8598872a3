package waitertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/waiter"
)

// waitTimeout bounds every Wait that the suite expects to succeed, so a
// broken backend fails the test instead of hanging it.
const waitTimeout = 10 * time.Second

// Run runs the suite. newWaiter is called once per subtest and returns a
// fresh waiter. It should close the waiter in t.Cleanup and ignore
// [waiter.ErrClosed], because some subtests close it themselves. Ids are
// unique per subtest, so waiters may share one store.
func Run(t *testing.T, newWaiter func(t *testing.T) waiter.Waiter) {
	t.Helper()
	tests := []struct {
		name string
		run  func(*testing.T, waiter.Waiter)
	}{
		{"EarlyOutcome", testEarlyOutcome},
		{"LateOutcome", testLateOutcome},
		{"DuplicateAfterDelivery", testDuplicateAfterDelivery},
		{"DuplicateOfStored", testDuplicateOfStored},
		{"OutOfOrder", testOutOfOrder},
		{"Concurrent", testConcurrent},
		{"ExpectTwice", testExpectTwice},
		{"ExpectAgainAfterWait", testExpectAgainAfterWait},
		{"ExpectAgainAfterCancel", testExpectAgainAfterCancel},
		{"CancelThenDeliver", testCancelThenDeliver},
		{"CancelWakesWait", testCancelWakesWait},
		{"CancelAfterArrival", testCancelAfterArrival},
		{"ContextDeadline", testContextDeadline},
		{"ContextEndedBeforeWait", testContextEndedBeforeWait},
		{"DeliverRacesContext", testDeliverRacesContext},
		{"CloseWhileWaiting", testCloseWhileWaiting},
		{"EmptyID", testEmptyID},
		{"OutcomeRoundTrip", testOutcomeRoundTrip},
		{"FailedOutcomeError", testFailedOutcomeError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, newWaiter(t))
		})
	}
}

// RunShared runs the checks for backends shared between processes. newPair
// returns two waiters on the same store, standing for two replicas: waits
// are registered on a and outcomes delivered on b.
func RunShared(t *testing.T, newPair func(t *testing.T) (a, b waiter.Waiter)) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, a, b waiter.Waiter)
	}{
		{"LateOutcome", testSharedLate},
		{"EarlyOutcome", testSharedEarly},
		{"ExpectTwice", testSharedExpectTwice},
		{"DuplicateAcross", testSharedDuplicate},
		{"Concurrent", testSharedConcurrent},
		{"CancelThenDeliver", testSharedCancelThenDeliver},
		{"ExpectAgainAfterWait", testSharedExpectAgain},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newPair(t)
			tc.run(t, a, b)
		})
	}
}

var idCounter atomic.Uint64

// newID returns an id unique to this process run and subtest.
func newID(t *testing.T, name string) string {
	return fmt.Sprintf("%s/%s-%d-%d", t.Name(), name, time.Now().UnixNano(), idCounter.Add(1))
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

func result(v any) waiter.Outcome { return waiter.Outcome{Result: v} }

// assertSameJSON checks that got and want encode to the same JSON, which
// is the equality a backend storing outcomes as JSON can keep.
func assertSameJSON(t *testing.T, want, got waiter.Outcome) {
	t.Helper()
	wantJSON, err := json.Marshal(want)
	require.NoError(t, err)
	gotJSON, err := json.Marshal(got)
	require.NoError(t, err)
	assert.JSONEq(t, string(wantJSON), string(gotJSON))
}

func deliver(t *testing.T, w waiter.Waiter, id string, o waiter.Outcome, want waiter.Delivery) {
	t.Helper()
	d, err := w.Deliver(context.Background(), id, o)
	require.NoError(t, err, "deliver %q", id)
	assert.Equal(t, want, d, "delivery of %q", id)
}

func expect(t *testing.T, w waiter.Waiter, id string) waiter.Pending {
	t.Helper()
	p, err := w.Expect(context.Background(), id)
	require.NoError(t, err, "expect %q", id)
	require.Equal(t, id, p.ID())
	return p
}

func waitFor(t *testing.T, p waiter.Pending, want waiter.Outcome) {
	t.Helper()
	got, err := p.Wait(waitCtx(t))
	require.NoError(t, err, "wait %q", p.ID())
	assertSameJSON(t, want, got)
}

// waitAsync starts Wait in a goroutine and returns its results.
func waitAsync(p waiter.Pending, ctx context.Context) <-chan waitResult {
	ch := make(chan waitResult, 1)
	go func() {
		o, err := p.Wait(ctx)
		ch <- waitResult{o, err}
	}()
	return ch
}

type waitResult struct {
	outcome waiter.Outcome
	err     error
}

func receive(t *testing.T, ch <-chan waitResult) waitResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(waitTimeout):
		require.FailNow(t, "Wait did not return")
		return waitResult{}
	}
}

// assertBlocked checks that no result arrives within a short time.
func assertBlocked(t *testing.T, ch <-chan waitResult) {
	t.Helper()
	select {
	case r := <-ch:
		assert.Fail(t, "Wait returned early", "outcome %+v, error %v", r.outcome, r.err)
	case <-time.After(20 * time.Millisecond):
	}
}

func testEarlyOutcome(t *testing.T, w waiter.Waiter) {
	id := newID(t, "early")
	want := result(map[string]any{"url": "https://example.com/a.png"})
	deliver(t, w, id, want, waiter.Stored)
	waitFor(t, expect(t, w, id), want)
}

func testLateOutcome(t *testing.T, w waiter.Waiter) {
	id := newID(t, "late")
	p := expect(t, w, id)
	ch := waitAsync(p, waitCtx(t))
	assertBlocked(t, ch)
	want := result("done")
	deliver(t, w, id, want, waiter.Delivered)
	r := receive(t, ch)
	require.NoError(t, r.err)
	assertSameJSON(t, want, r.outcome)
}

func testDuplicateAfterDelivery(t *testing.T, w waiter.Waiter) {
	id := newID(t, "dup")
	p := expect(t, w, id)
	deliver(t, w, id, result(1), waiter.Delivered)
	deliver(t, w, id, result(2), waiter.Duplicate)
	waitFor(t, p, result(1))
	deliver(t, w, id, result(3), waiter.Duplicate)
}

func testDuplicateOfStored(t *testing.T, w waiter.Waiter) {
	id := newID(t, "dup-stored")
	deliver(t, w, id, result("first"), waiter.Stored)
	deliver(t, w, id, result("second"), waiter.Duplicate)
	waitFor(t, expect(t, w, id), result("first"))
	deliver(t, w, id, result("third"), waiter.Duplicate)
}

func testOutOfOrder(t *testing.T, w waiter.Waiter) {
	const n = 10
	ids := make([]string, n)
	chans := make([]<-chan waitResult, n)
	for i := range ids {
		ids[i] = newID(t, fmt.Sprint("order", i))
		chans[i] = waitAsync(expect(t, w, ids[i]), waitCtx(t))
	}
	for i := n - 1; i >= 0; i-- {
		deliver(t, w, ids[i], result(i), waiter.Delivered)
	}
	for i, ch := range chans {
		r := receive(t, ch)
		require.NoError(t, r.err, "wait %d", i)
		assertSameJSON(t, result(i), r.outcome)
	}
}

// testConcurrent runs 1,000 ids in parallel. Half are delivered before
// Expect and half after, and each outcome is sent twice at once: every
// Wait must return its own outcome, and exactly one of the two sends per
// id must be accepted.
func testConcurrent(t *testing.T, w waiter.Waiter) {
	runConcurrent(t, w, w, 1000)
}

// concurrentCounts are the totals of runConcurrent.
type concurrentCounts struct {
	accepted, duplicates, resumed atomic.Int64
}

func runConcurrent(t *testing.T, expecter, deliverer waiter.Waiter, n int) {
	t.Helper()
	prefix := newID(t, "c")
	var counts concurrentCounts
	var wg sync.WaitGroup
	errs := make(chan error, 4*n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("%s-%d", prefix, i)
			if err := runOneConcurrent(expecter, deliverer, id, i, &counts); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)

	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Equal(t, int64(n), counts.resumed.Load(), "resumed waits")
	assert.Equal(t, int64(n), counts.accepted.Load(), "accepted deliveries")
	assert.Equal(t, int64(n), counts.duplicates.Load(), "duplicate deliveries")
}

// runOneConcurrent sends the outcome for id twice at once, before Expect
// when i is even and after it when i is odd, and waits for it.
func runOneConcurrent(expecter, deliverer waiter.Waiter, id string, i int, counts *concurrentCounts) error {
	want := result(map[string]any{"i": i})
	var sends sync.WaitGroup
	sendErrs := make(chan error, 2)
	sendTwice := func() {
		for range 2 {
			sends.Add(1)
			go func() {
				defer sends.Done()
				d, err := deliverer.Deliver(context.Background(), id, want)
				switch {
				case err != nil:
					sendErrs <- fmt.Errorf("deliver %s: %w", id, err)
				case d == waiter.Duplicate:
					counts.duplicates.Add(1)
				default:
					counts.accepted.Add(1)
				}
			}()
		}
	}

	if i%2 == 0 {
		sendTwice()
		sends.Wait()
	}
	p, err := expecter.Expect(context.Background(), id)
	if err != nil {
		sends.Wait()
		return fmt.Errorf("expect %s: %w", id, err)
	}
	if i%2 == 1 {
		sendTwice()
	}

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	got, err := p.Wait(ctx)
	sends.Wait()
	close(sendErrs)
	if sendErr := <-sendErrs; sendErr != nil {
		return sendErr
	}
	if err != nil {
		return fmt.Errorf("wait %s: %w", id, err)
	}
	counts.resumed.Add(1)
	if m, ok := got.Result.(map[string]any); !ok || fmt.Sprint(m["i"]) != fmt.Sprint(i) {
		return fmt.Errorf("wait %s: got outcome %+v, expected the outcome of this id", id, got)
	}
	return nil
}

func testExpectTwice(t *testing.T, w waiter.Waiter) {
	id := newID(t, "twice")
	p := expect(t, w, id)
	_, err := w.Expect(context.Background(), id)
	require.ErrorIs(t, err, waiter.ErrAlreadyWaiting)
	assert.Contains(t, err.Error(), id, "error names the id")
	deliver(t, w, id, result("ok"), waiter.Delivered)
	waitFor(t, p, result("ok"))
}

func testExpectAgainAfterWait(t *testing.T, w waiter.Waiter) {
	id := newID(t, "retry")
	p := expect(t, w, id)
	deliver(t, w, id, result(1), waiter.Delivered)
	waitFor(t, p, result(1))

	// A retried job reuses its id: the new wait gets the new outcome.
	p = expect(t, w, id)
	deliver(t, w, id, result(2), waiter.Delivered)
	waitFor(t, p, result(2))
}

func testExpectAgainAfterCancel(t *testing.T, w waiter.Waiter) {
	id := newID(t, "cancel-retry")
	expect(t, w, id).Cancel()
	p := expect(t, w, id)
	deliver(t, w, id, result("ok"), waiter.Delivered)
	waitFor(t, p, result("ok"))
}

// testCancelThenDeliver checks that an outcome arriving after Cancel is
// stored for the next Expect.
func testCancelThenDeliver(t *testing.T, w waiter.Waiter) {
	id := newID(t, "cancel-deliver")
	p := expect(t, w, id)
	p.Cancel()
	p.Cancel() // a second Cancel does nothing
	_, err := p.Wait(waitCtx(t))
	require.ErrorIs(t, err, waiter.ErrCancelled)
	deliver(t, w, id, result("late"), waiter.Stored)
	waitFor(t, expect(t, w, id), result("late"))
}

func testCancelWakesWait(t *testing.T, w waiter.Waiter) {
	id := newID(t, "cancel-wake")
	p := expect(t, w, id)
	ch := waitAsync(p, waitCtx(t))
	assertBlocked(t, ch)
	p.Cancel()
	r := receive(t, ch)
	require.ErrorIs(t, r.err, waiter.ErrCancelled)
}

// testCancelAfterArrival checks that Cancel drops an outcome that reached
// the registration and that its id then counts as delivered.
func testCancelAfterArrival(t *testing.T, w waiter.Waiter) {
	id := newID(t, "cancel-arrived")
	p := expect(t, w, id)
	deliver(t, w, id, result("x"), waiter.Delivered)
	time.Sleep(20 * time.Millisecond) // let a shared backend hand it over
	p.Cancel()
	_, err := p.Wait(waitCtx(t))
	require.ErrorIs(t, err, waiter.ErrCancelled)
	deliver(t, w, id, result("y"), waiter.Duplicate)
}

func testContextDeadline(t *testing.T, w waiter.Waiter) {
	id := newID(t, "deadline")
	p := expect(t, w, id)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := p.Wait(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), id, "error names the id")

	// The registration was withdrawn: the id can be expected again and
	// the outcome reaches the new wait.
	p = expect(t, w, id)
	deliver(t, w, id, result("ok"), waiter.Delivered)
	waitFor(t, p, result("ok"))
}

func testContextEndedBeforeWait(t *testing.T, w waiter.Waiter) {
	id := newID(t, "ended")
	p := expect(t, w, id)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.Wait(ctx)
	require.ErrorIs(t, err, context.Canceled)

	// An outcome that already arrived wins over an ended context.
	id = newID(t, "arrived")
	deliver(t, w, id, result("here"), waiter.Stored)
	p = expect(t, w, id)
	time.Sleep(20 * time.Millisecond)
	got, err := p.Wait(ctx)
	require.NoError(t, err)
	assertSameJSON(t, result("here"), got)
}

// testDeliverRacesContext ends a Wait's context while the outcome is
// being delivered, many times. Whichever wins, the outcome is not lost:
// either Wait returns it, or the next Expect for the id does.
func testDeliverRacesContext(t *testing.T, w waiter.Waiter) {
	for i := range 100 {
		id := newID(t, fmt.Sprint("race", i))
		p := expect(t, w, id)
		ctx, cancel := context.WithCancel(context.Background())
		delivered := make(chan error, 1)
		go func() {
			_, err := w.Deliver(context.Background(), id, result(i))
			delivered <- err
		}()
		go cancel()
		got, err := p.Wait(ctx)
		require.NoError(t, <-delivered)
		if err != nil {
			require.ErrorIs(t, err, context.Canceled)
			got, err = expect(t, w, id).Wait(waitCtx(t))
			require.NoError(t, err, "the next Expect gets the outcome of %s", id)
		}
		assertSameJSON(t, result(i), got)
	}
}

func testCloseWhileWaiting(t *testing.T, w waiter.Waiter) {
	id := newID(t, "close")
	p := expect(t, w, id)
	ch := waitAsync(p, waitCtx(t))
	assertBlocked(t, ch)
	require.NoError(t, w.Close())
	r := receive(t, ch)
	require.ErrorIs(t, r.err, waiter.ErrClosed)

	_, err := w.Expect(context.Background(), newID(t, "after"))
	assert.ErrorIs(t, err, waiter.ErrClosed, "Expect after Close")
	_, err = w.Deliver(context.Background(), id, result(1))
	assert.ErrorIs(t, err, waiter.ErrClosed, "Deliver after Close")
	assert.ErrorIs(t, w.Close(), waiter.ErrClosed, "second Close")
	p.Cancel() // does nothing after Close
}

func testEmptyID(t *testing.T, w waiter.Waiter) {
	_, err := w.Expect(context.Background(), "")
	assert.ErrorIs(t, err, waiter.ErrInvalidID, "Expect")
	_, err = w.Deliver(context.Background(), "", result(1))
	assert.ErrorIs(t, err, waiter.ErrInvalidID, "Deliver")
}

// roundTripCases are outcomes whose JSON form a backend must keep,
// including an integer above 2^53 that float64 cannot hold.
var roundTripCases = []struct {
	name    string
	outcome waiter.Outcome
}{
	{"Numbers", waiter.Outcome{Result: map[string]any{
		"int": 42, "negative": -7, "float": 3.25, "zero": 0,
		"big": int64(12345678901234567), "exp": 1e-9,
	}}},
	{"Nested", waiter.Outcome{Result: map[string]any{
		"image": map[string]any{"url": "https://example.com/x.png", "size": []any{640, 480}},
		"tags":  []any{"a", map[string]any{"b": nil}, true},
		"text":  "línea\n\"quoted\" ✓",
	}}},
	{"Scalar", waiter.Outcome{Result: "plain"}},
	{"Empty", waiter.Outcome{}},
	{"Failure", waiter.Outcome{Failed: true, Status: "failed", Payload: map[string]any{
		"status": "failed", "error": map[string]any{"code": 507, "message": "out of memory"},
	}}},
	{"FailureWithoutPayload", waiter.Outcome{Failed: true, Status: "timeout"}},
}

func testOutcomeRoundTrip(t *testing.T, w waiter.Waiter) {
	for _, tc := range roundTripCases {
		t.Run(tc.name+"/Early", func(t *testing.T) {
			id := newID(t, "rt")
			deliver(t, w, id, tc.outcome, waiter.Stored)
			waitFor(t, expect(t, w, id), tc.outcome)
		})
		t.Run(tc.name+"/Late", func(t *testing.T) {
			id := newID(t, "rt")
			p := expect(t, w, id)
			deliver(t, w, id, tc.outcome, waiter.Delivered)
			waitFor(t, p, tc.outcome)
		})
	}
}

func testFailedOutcomeError(t *testing.T, w waiter.Waiter) {
	id := newID(t, "failed")
	sent := waiter.Outcome{Failed: true, Status: "error", Payload: map[string]any{"reason": "quota exceeded"}}
	deliver(t, w, id, sent, waiter.Stored)
	got, err := expect(t, w, id).Wait(waitCtx(t))
	require.NoError(t, err, "a failed outcome is still an outcome")
	require.True(t, got.Failed)

	remoteErr := got.Err()
	require.ErrorIs(t, remoteErr, waiter.ErrRemoteFailed)
	var re *waiter.RemoteError
	require.True(t, errors.As(remoteErr, &re))
	assert.Equal(t, "error", re.Status)
	assert.Contains(t, remoteErr.Error(), "quota exceeded", "error carries the payload")
}

func testSharedLate(t *testing.T, a, b waiter.Waiter) {
	id := newID(t, "late")
	p := expect(t, a, id)
	ch := waitAsync(p, waitCtx(t))
	deliver(t, b, id, result("from b"), waiter.Delivered)
	r := receive(t, ch)
	require.NoError(t, r.err)
	assertSameJSON(t, result("from b"), r.outcome)
}

func testSharedEarly(t *testing.T, a, b waiter.Waiter) {
	id := newID(t, "early")
	deliver(t, b, id, result("stored on b"), waiter.Stored)
	waitFor(t, expect(t, a, id), result("stored on b"))
	deliver(t, a, id, result("again"), waiter.Duplicate)
}

func testSharedExpectTwice(t *testing.T, a, b waiter.Waiter) {
	id := newID(t, "twice")
	p := expect(t, a, id)
	_, err := b.Expect(context.Background(), id)
	require.ErrorIs(t, err, waiter.ErrAlreadyWaiting)
	deliver(t, b, id, result("ok"), waiter.Delivered)
	waitFor(t, p, result("ok"))
}

func testSharedDuplicate(t *testing.T, a, b waiter.Waiter) {
	const n = 100
	prefix := newID(t, "dup")
	var accepted atomic.Int64
	var wg sync.WaitGroup
	for i := range n {
		id := fmt.Sprintf("%s-%d", prefix, i)
		for _, w := range []waiter.Waiter{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d, err := w.Deliver(context.Background(), id, result(i))
				assert.NoError(t, err)
				if d != waiter.Duplicate {
					accepted.Add(1)
				}
			}()
		}
	}
	wg.Wait()
	assert.Equal(t, int64(n), accepted.Load(), "one accepted delivery per id")
}

func testSharedConcurrent(t *testing.T, a, b waiter.Waiter) {
	runConcurrent(t, a, b, 1000)
}

func testSharedCancelThenDeliver(t *testing.T, a, b waiter.Waiter) {
	id := newID(t, "cancel")
	expect(t, a, id).Cancel()
	deliver(t, b, id, result("kept"), waiter.Stored)
	waitFor(t, expect(t, b, id), result("kept"))
}

func testSharedExpectAgain(t *testing.T, a, b waiter.Waiter) {
	id := newID(t, "again")
	p := expect(t, a, id)
	deliver(t, b, id, result(1), waiter.Delivered)
	waitFor(t, p, result(1))
	p = expect(t, b, id)
	deliver(t, a, id, result(2), waiter.Delivered)
	waitFor(t, p, result(2))
}
