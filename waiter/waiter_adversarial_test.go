package waiter_test

import (
	"context"
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

// Many copies of each outcome race with the registration: exactly one
// copy is accepted and exactly one Wait returns it.
func TestAdversarialMemoryDuplicateStorm(t *testing.T) {
	w := waiter.NewMemory(nil)
	defer w.Close()

	const ids, copies = 200, 5
	var accepted, duplicates, received atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < ids; i++ {
		id := fmt.Sprint("storm-", i)
		wg.Add(1 + copies)
		go func() {
			defer wg.Done()
			p, err := w.Expect(ctx, id)
			if !assert.NoError(t, err) {
				return
			}
			waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			o, err := p.Wait(waitCtx)
			if assert.NoError(t, err) {
				assert.Equal(t, id, o.Result)
				received.Add(1)
			}
		}()
		for c := 0; c < copies; c++ {
			go func() {
				defer wg.Done()
				d, err := w.Deliver(ctx, id, waiter.Outcome{Result: id})
				if !assert.NoError(t, err) {
					return
				}
				switch d {
				case waiter.Delivered, waiter.Stored:
					accepted.Add(1)
				case waiter.Duplicate:
					duplicates.Add(1)
				}
			}()
		}
	}
	wg.Wait()

	assert.Equal(t, int64(ids), accepted.Load())
	assert.Equal(t, int64(ids*(copies-1)), duplicates.Load())
	assert.Equal(t, int64(ids), received.Load())
	st := w.Stats()
	assert.Zero(t, st.Pending)
	assert.Zero(t, st.Stored)
	assert.Equal(t, ids, st.Remembered)
}

// Close in the middle of waits and deliveries ends every Wait, with
// the outcome or with ErrClosed, and later calls fail with ErrClosed.
func TestAdversarialMemoryCloseDuringStorm(t *testing.T) {
	w := waiter.NewMemory(nil)
	const ids = 200
	var wg sync.WaitGroup
	var ended atomic.Int64
	ready := make(chan struct{}, ids)
	for i := 0; i < ids; i++ {
		id := fmt.Sprint("close-", i)
		wg.Add(2)
		go func() {
			defer wg.Done()
			p, err := w.Expect(ctx, id)
			ready <- struct{}{}
			if err != nil {
				assert.ErrorIs(t, err, waiter.ErrClosed)
				ended.Add(1)
				return
			}
			_, err = p.Wait(ctx) // no deadline: only the outcome or Close ends it
			if err != nil {
				assert.ErrorIs(t, err, waiter.ErrClosed)
			}
			ended.Add(1)
		}()
		go func() {
			defer wg.Done()
			_, err := w.Deliver(ctx, id, waiter.Outcome{})
			if err != nil {
				assert.ErrorIs(t, err, waiter.ErrClosed)
			}
		}()
	}
	for i := 0; i < ids/2; i++ {
		<-ready
	}
	require.NoError(t, w.Close())

	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a Wait did not end after Close")
	}
	assert.Equal(t, int64(ids), ended.Load())
	_, err := w.Deliver(ctx, "late", waiter.Outcome{})
	assert.ErrorIs(t, err, waiter.ErrClosed)
	_, err = w.Expect(ctx, "late")
	assert.ErrorIs(t, err, waiter.ErrClosed)
	assert.ErrorIs(t, w.Close(), waiter.ErrClosed)
}

// Cancel racing with Deliver never loses the outcome silently: either
// the Wait returns it, or Deliver stored it for the next Expect, or it
// reached the registration before Cancel and its id is remembered.
func TestAdversarialMemoryCancelRace(t *testing.T) {
	w := waiter.NewMemory(nil)
	defer w.Close()
	for i := 0; i < 300; i++ {
		id := fmt.Sprint("cancel-", i)
		p, err := w.Expect(ctx, id)
		require.NoError(t, err)
		var d waiter.Delivery
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			d, err = w.Deliver(ctx, id, waiter.Outcome{Result: i})
		}()
		go func() {
			defer wg.Done()
			p.Cancel()
		}()
		wg.Wait()
		require.NoError(t, err)

		switch d {
		case waiter.Stored:
			again, err := w.Expect(ctx, id)
			require.NoError(t, err)
			o, err := again.Wait(ctx)
			require.NoError(t, err)
			assert.Equal(t, i, o.Result)
		case waiter.Delivered:
			again, err := w.Deliver(ctx, id, waiter.Outcome{})
			require.NoError(t, err)
			assert.Equal(t, waiter.Duplicate, again, "the id stays remembered")
		default:
			t.Fatalf("delivery %v", d)
		}
		_, err = p.Wait(ctx)
		assert.True(t, errors.Is(err, waiter.ErrCancelled), "Wait after Cancel: %v", err)
	}
}

// An id whose outcome arrived but was not yet returned by Wait is still
// registered, so a second Expect fails, even when the MaxRemembered
// bound drops older duplicate markers.
func TestAdversarialMemoryEvictedLiveMarker(t *testing.T) {
	w := waiter.NewMemory(&waiter.MemoryOptions{MaxRemembered: 1})
	defer w.Close()
	first, err := w.Expect(ctx, "a")
	require.NoError(t, err)
	_, err = w.Deliver(ctx, "a", waiter.Outcome{Result: "a"})
	require.NoError(t, err)

	other, err := w.Expect(ctx, "b")
	require.NoError(t, err)
	_, err = w.Deliver(ctx, "b", waiter.Outcome{})
	require.NoError(t, err)
	_, err = other.Wait(ctx)
	require.NoError(t, err)

	_, err = w.Expect(ctx, "a")
	assert.ErrorIs(t, err, waiter.ErrAlreadyWaiting)
	o, err := first.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, "a", o.Result)
}

// A duplicate marker whose outcome Wait has not returned yet outlives
// DuplicateRetention, because its registration is still live.
func TestAdversarialMemoryExpiredLiveMarker(t *testing.T) {
	clk := newFakeClock()
	w := waiter.NewMemory(&waiter.MemoryOptions{Retention: time.Minute, Clock: clk})
	defer w.Close()
	first, err := w.Expect(ctx, "a")
	require.NoError(t, err)
	_, err = w.Deliver(ctx, "a", waiter.Outcome{Result: "a"})
	require.NoError(t, err)

	clk.Advance(2 * time.Minute)
	_, err = w.Expect(ctx, "a")
	assert.ErrorIs(t, err, waiter.ErrAlreadyWaiting)
	d, err := w.Deliver(ctx, "a", waiter.Outcome{})
	require.NoError(t, err)
	assert.Equal(t, waiter.Duplicate, d)

	o, err := first.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, "a", o.Result)
	clk.Advance(2 * time.Minute)
	assert.Zero(t, w.Stats().Remembered, "the marker expires once the outcome was returned")
}

// Ids of odd shapes are plain map keys: no id is special except "".
func TestAdversarialMemoryOddIDs(t *testing.T) {
	w := waiter.NewMemory(nil)
	defer w.Close()
	ids := []string{" ", "\x00", "a\x00b", "${env.SECRET}", "\xff\xfe", string(make([]byte, 1<<20))}
	for _, id := range ids {
		d, err := w.Deliver(ctx, id, waiter.Outcome{Result: len(id)})
		require.NoError(t, err)
		assert.Equal(t, waiter.Stored, d)
	}
	for _, id := range ids {
		p, err := w.Expect(ctx, id)
		require.NoError(t, err)
		o, err := p.Wait(ctx)
		require.NoError(t, err)
		assert.Equal(t, len(id), o.Result)
	}
	_, err := w.Deliver(ctx, "", waiter.Outcome{})
	assert.ErrorIs(t, err, waiter.ErrInvalidID)
	_, err = w.Expect(ctx, "")
	assert.ErrorIs(t, err, waiter.ErrInvalidID)
}
