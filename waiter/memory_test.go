package waiter_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tether-go/tether/clock"
	"github.com/tether-go/tether/waiter"
	"github.com/tether-go/tether/waiter/waitertest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestMemoryConformance(t *testing.T) {
	waitertest.Run(t, func(t *testing.T) waiter.Waiter {
		w := waiter.NewMemory(nil)
		t.Cleanup(func() { _ = w.Close() })
		return w
	})
}

// fakeClock is a manual clock: AfterFunc functions run, synchronously,
// when Advance moves the time past their deadline.
type fakeClock struct {
	mu     sync.Mutex // guards now and timers
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c  *fakeClock
	at time.Time
	f  func()
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	for i, other := range t.c.timers {
		if other == t {
			t.c.timers = append(t.c.timers[:i], t.c.timers[i+1:]...)
			return true
		}
	}
	return false
}

// Advance moves the time forward by d and runs the timers that are due,
// in deadline order.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	kept := c.timers[:0]
	for _, t := range c.timers {
		if !t.at.After(c.now) {
			due = append(due, t)
		} else {
			kept = append(kept, t)
		}
	}
	c.timers = kept
	c.mu.Unlock()
	sort.Slice(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, t := range due {
		t.f()
	}
}

func (c *fakeClock) pendingTimers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

var ctx = context.Background()

func TestMemoryEarlyOutcomeExpires(t *testing.T) {
	clk := newFakeClock()
	w := waiter.NewMemory(&waiter.MemoryOptions{Retention: time.Minute, Clock: clk})
	defer w.Close()

	d, err := w.Deliver(ctx, "a", waiter.Outcome{Result: 1})
	require.NoError(t, err)
	require.Equal(t, waiter.Stored, d)
	assert.Equal(t, 1, w.Stats().Stored)

	clk.Advance(time.Minute - time.Nanosecond)
	assert.Equal(t, 1, w.Stats().Stored, "kept until the end of retention")
	clk.Advance(time.Nanosecond)
	st := w.Stats()
	assert.Equal(t, 0, st.Stored, "dropped at the end of retention")
	assert.Equal(t, uint64(1), st.Expired)
	assert.Equal(t, 0, clk.pendingTimers(), "no timer left once nothing can expire")

	// After expiry the id is unknown again: a wait blocks.
	p, err := w.Expect(ctx, "a")
	require.NoError(t, err)
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	_, err = p.Wait(short)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestMemorySweeperFreesWithoutCalls(t *testing.T) {
	clk := newFakeClock()
	w := waiter.NewMemory(&waiter.MemoryOptions{
		Retention: time.Minute, DuplicateRetention: 2 * time.Minute, Clock: clk,
	})
	defer w.Close()
	for i := range 100 {
		_, err := w.Deliver(ctx, fmt.Sprint("early-", i), waiter.Outcome{})
		require.NoError(t, err)
	}
	p, err := w.Expect(ctx, "done")
	require.NoError(t, err)
	_, err = w.Deliver(ctx, "done", waiter.Outcome{})
	require.NoError(t, err)
	_, err = p.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, clk.pendingTimers(), "one timer for all deadlines")

	clk.Advance(time.Minute)
	clk.Advance(time.Minute)
	st := w.Stats()
	assert.Equal(t, 0, st.Stored)
	assert.Equal(t, 0, st.Remembered)
	assert.Equal(t, uint64(100), st.Expired)
	assert.Equal(t, 0, clk.pendingTimers())
}

func TestMemoryDuplicateWindow(t *testing.T) {
	clk := newFakeClock()
	w := waiter.NewMemory(&waiter.MemoryOptions{
		Retention: time.Hour, DuplicateRetention: time.Minute, Clock: clk,
	})
	defer w.Close()
	p, err := w.Expect(ctx, "x")
	require.NoError(t, err)
	_, err = w.Deliver(ctx, "x", waiter.Outcome{Result: 1})
	require.NoError(t, err)
	_, err = p.Wait(ctx)
	require.NoError(t, err)

	clk.Advance(59 * time.Second)
	d, err := w.Deliver(ctx, "x", waiter.Outcome{Result: 2})
	require.NoError(t, err)
	assert.Equal(t, waiter.Duplicate, d, "inside the duplicate window")

	clk.Advance(time.Second)
	d, err = w.Deliver(ctx, "x", waiter.Outcome{Result: 3})
	require.NoError(t, err)
	assert.Equal(t, waiter.Stored, d, "after the duplicate window")
}

func TestMemoryFull(t *testing.T) {
	clk := newFakeClock()
	w := waiter.NewMemory(&waiter.MemoryOptions{MaxStored: 2, Retention: time.Minute, Clock: clk})
	defer w.Close()
	for _, id := range []string{"a", "b"} {
		_, err := w.Deliver(ctx, id, waiter.Outcome{})
		require.NoError(t, err)
	}
	_, err := w.Deliver(ctx, "c", waiter.Outcome{})
	require.ErrorIs(t, err, waiter.ErrFull)
	assert.Contains(t, err.Error(), `"c"`, "error names the id")
	assert.Contains(t, err.Error(), "MaxStored", "error names the option")

	// A waiting id still receives its outcome when the store is full.
	p, err := w.Expect(ctx, "d")
	require.NoError(t, err)
	d, err := w.Deliver(ctx, "d", waiter.Outcome{})
	require.NoError(t, err)
	assert.Equal(t, waiter.Delivered, d)
	p.Cancel()

	// Consuming a stored outcome frees room, and so does expiry.
	p, err = w.Expect(ctx, "a")
	require.NoError(t, err)
	_, err = p.Wait(ctx)
	require.NoError(t, err)
	_, err = w.Deliver(ctx, "c", waiter.Outcome{})
	require.NoError(t, err)
	_, err = w.Deliver(ctx, "e", waiter.Outcome{})
	require.ErrorIs(t, err, waiter.ErrFull)
	clk.Advance(time.Minute)
	_, err = w.Deliver(ctx, "e", waiter.Outcome{})
	assert.NoError(t, err)
}

// Early outcomes are bounded in bytes too: an outcome that would take the
// total over MaxStoredBytes is rejected, and taking or expiring a stored
// outcome gives its bytes back. Delivery to a waiting id is not counted.
func TestMemoryFullBytes(t *testing.T) {
	clk := newFakeClock()
	w := waiter.NewMemory(&waiter.MemoryOptions{MaxStoredBytes: 3000, Retention: time.Minute, Clock: clk})
	defer w.Close()
	big := waiter.Outcome{Result: strings.Repeat("x", 1000)}
	for _, id := range []string{"a", "b"} {
		d, err := w.Deliver(ctx, id, big)
		require.NoError(t, err)
		assert.Equal(t, waiter.Stored, d)
	}
	stored := w.Stats().StoredBytes
	assert.Greater(t, stored, int64(2000))
	assert.Less(t, stored, int64(2100))

	_, err := w.Deliver(ctx, "c", big)
	require.ErrorIs(t, err, waiter.ErrFull)
	assert.Contains(t, err.Error(), `"c"`, "error names the id")
	assert.Contains(t, err.Error(), "MaxStoredBytes", "error names the option")
	d, err := w.Deliver(ctx, "a", big)
	require.NoError(t, err, "a duplicate is not measured")
	assert.Equal(t, waiter.Duplicate, d)
	d, err = w.Deliver(ctx, "small", waiter.Outcome{Result: "ok"})
	require.NoError(t, err, "a small outcome still fits")
	assert.Equal(t, waiter.Stored, d)

	p, err := w.Expect(ctx, "waiting")
	require.NoError(t, err)
	d, err = w.Deliver(ctx, "waiting", waiter.Outcome{Result: strings.Repeat("y", 10_000)})
	require.NoError(t, err, "a waiting id receives its outcome whatever its size")
	assert.Equal(t, waiter.Delivered, d)
	p.Cancel()

	p, err = w.Expect(ctx, "a")
	require.NoError(t, err)
	_, err = p.Wait(ctx)
	require.NoError(t, err)
	_, err = w.Deliver(ctx, "c", big)
	require.NoError(t, err, "taking a stored outcome frees its bytes")

	clk.Advance(time.Minute)
	assert.Zero(t, w.Stats().StoredBytes, "expiry frees the bytes")
	assert.Zero(t, w.Stats().Stored)
	_, err = w.Deliver(ctx, "e", big)
	assert.NoError(t, err)

	_, err = w.Deliver(ctx, "huge", waiter.Outcome{Result: strings.Repeat("z", 5000)})
	assert.ErrorIs(t, err, waiter.ErrFull, "an outcome larger than the budget is rejected")
}

func TestMemoryMaxRemembered(t *testing.T) {
	w := waiter.NewMemory(&waiter.MemoryOptions{MaxRemembered: 3})
	defer w.Close()
	for i := range 5 {
		id := fmt.Sprint("id-", i)
		p, err := w.Expect(ctx, id)
		require.NoError(t, err)
		_, err = w.Deliver(ctx, id, waiter.Outcome{})
		require.NoError(t, err)
		_, err = p.Wait(ctx)
		require.NoError(t, err)
	}
	assert.Equal(t, 3, w.Stats().Remembered)
	d, err := w.Deliver(ctx, "id-0", waiter.Outcome{})
	require.NoError(t, err)
	assert.Equal(t, waiter.Stored, d, "the oldest marker was forgotten")
	d, err = w.Deliver(ctx, "id-4", waiter.Outcome{})
	require.NoError(t, err)
	assert.Equal(t, waiter.Duplicate, d, "the newest marker is kept")
}

func TestMemoryStats(t *testing.T) {
	w := waiter.NewMemory(nil)
	defer w.Close()
	p, err := w.Expect(ctx, "waiting")
	require.NoError(t, err)
	_, err = w.Deliver(ctx, "early", waiter.Outcome{})
	require.NoError(t, err)
	_, err = w.Deliver(ctx, "early", waiter.Outcome{})
	require.NoError(t, err)
	st := w.Stats()
	assert.Equal(t, 1, st.Pending)
	assert.Equal(t, 1, st.Stored)
	assert.Equal(t, uint64(1), st.Duplicates)
	assert.Equal(t, uint64(0), st.Delivered)

	_, err = w.Deliver(ctx, "waiting", waiter.Outcome{})
	require.NoError(t, err)
	_, err = p.Wait(ctx)
	require.NoError(t, err)
	st = w.Stats()
	assert.Equal(t, 0, st.Pending)
	assert.Equal(t, 1, st.Remembered)
	assert.Equal(t, uint64(1), st.Delivered)
}

// TestMemoryQueueCompaction consumes many early outcomes at once, which
// leaves stale expiry items behind, and checks that expiry still works.
func TestMemoryQueueCompaction(t *testing.T) {
	clk := newFakeClock()
	w := waiter.NewMemory(&waiter.MemoryOptions{Retention: time.Minute, Clock: clk})
	defer w.Close()
	for i := range 5000 {
		id := fmt.Sprint(i)
		_, err := w.Deliver(ctx, id, waiter.Outcome{})
		require.NoError(t, err)
		p, err := w.Expect(ctx, id)
		require.NoError(t, err)
		_, err = p.Wait(ctx)
		require.NoError(t, err)
	}
	_, err := w.Deliver(ctx, "last", waiter.Outcome{})
	require.NoError(t, err)
	clk.Advance(time.Minute)
	st := w.Stats()
	assert.Equal(t, 0, st.Stored)
	assert.Equal(t, uint64(1), st.Expired)
	assert.Equal(t, 0, st.Remembered)
}

func TestMemoryWaitErrorNamesTime(t *testing.T) {
	w := waiter.NewMemory(nil)
	defer w.Close()
	p, err := w.Expect(ctx, "job-7")
	require.NoError(t, err)
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = p.Wait(short)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Regexp(t, `wait for id "job-7" ended after \d+ms: context deadline exceeded`, err.Error())

	_, again := p.Wait(ctx)
	assert.Equal(t, err, again, "a second Wait returns the first result")
}

func TestMemoryCancelledContext(t *testing.T) {
	w := waiter.NewMemory(nil)
	defer w.Close()
	done, cancel := context.WithCancel(ctx)
	cancel()
	_, err := w.Expect(done, "a")
	assert.ErrorIs(t, err, context.Canceled)
	_, err = w.Deliver(done, "a", waiter.Outcome{})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestMemoryCloseKeepsArrivedOutcome(t *testing.T) {
	w := waiter.NewMemory(nil)
	p, err := w.Expect(ctx, "a")
	require.NoError(t, err)
	_, err = w.Deliver(ctx, "a", waiter.Outcome{Result: "kept"})
	require.NoError(t, err)
	require.NoError(t, w.Close())
	o, err := p.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, "kept", o.Result)
	assert.Equal(t, waiter.Stats{Delivered: 1}, w.Stats(), "counters outlive Close")
}

func TestMemoryCloseStopsSweeper(t *testing.T) {
	clk := newFakeClock()
	w := waiter.NewMemory(&waiter.MemoryOptions{Clock: clk})
	_, err := w.Deliver(ctx, "a", waiter.Outcome{})
	require.NoError(t, err)
	require.Equal(t, 1, clk.pendingTimers())
	require.NoError(t, w.Close())
	assert.Equal(t, 0, clk.pendingTimers())
}

func TestRemoteErrorMessage(t *testing.T) {
	err := waiter.Outcome{Failed: true, Status: "failed"}.Err()
	assert.EqualError(t, err, `remote task failed with status "failed"`)
	assert.True(t, errors.Is(err, waiter.ErrRemoteFailed))
	assert.NoError(t, waiter.Outcome{Result: 1}.Err())
}

func TestDeliveryString(t *testing.T) {
	assert.Equal(t, "delivered", waiter.Delivered.String())
	assert.Equal(t, "stored", waiter.Stored.String())
	assert.Equal(t, "duplicate", waiter.Duplicate.String())
	assert.Equal(t, "Delivery(9)", waiter.Delivery(9).String())
}
