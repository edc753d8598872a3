package tethertest

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/tether-go/tether/clock"
)

// Epoch is the time a new Clock starts at: a fixed instant, so that
// ${context.timestamp} and stored times are the same on every run.
var Epoch = time.Date(2026, time.January, 2, 3, 4, 5, 0, time.UTC)

// Clock is a fake [clock.Clock] whose time moves only when Advance is
// called. Timeouts, retry delays and polling intervals of a project
// built with it therefore fire when the test advances the clock, without sleeping.
//
// Code under test arms its timers in its own goroutines, so a test that
// advances the clock too early advances past nothing. Call
// WaitForTimer first: it returns once a timer of the given duration is
// armed. All methods are safe for concurrent use.
type Clock struct {
	mu     sync.Mutex // guards now, timers and armed
	now    time.Time
	timers []*fakeTimer
	// armed is closed and replaced whenever a timer is armed, to wake
	// WaitForTimer.
	armed chan struct{}
}

type fakeTimer struct {
	clock *Clock
	at    time.Time
	d     time.Duration
	f     func()
	done  bool // fired or stopped; guarded by clock.mu
}

var _ clock.Clock = (*Clock)(nil)

// NewClock returns a fake clock set to Epoch.
func NewClock() *Clock {
	return &Clock{now: Epoch, armed: make(chan struct{})}
}

// Now returns the fake time. It is safe for concurrent use.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc arms a timer that calls f in its own goroutine once Advance
// has moved the time d past now. A d of zero or less fires at the next
// Advance, even Advance(0). It is safe for concurrent use.
func (c *Clock) AfterFunc(d time.Duration, f func()) clock.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{clock: c, at: c.now.Add(d), d: d, f: f}
	c.timers = append(c.timers, t)
	close(c.armed)
	c.armed = make(chan struct{})
	return t
}

// Stop disarms the timer. It returns false when the timer has already
// fired or been stopped.
func (t *fakeTimer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	if t.done {
		return false
	}
	t.done = true
	return true
}

// Advance moves the time forward by d and starts, each in its own
// goroutine, the functions of the timers that are then due. It returns
// without waiting for them. A negative d is treated as zero. It is safe
// for concurrent use.
func (c *Clock) Advance(d time.Duration) {
	if d < 0 {
		d = 0
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	live := c.timers[:0]
	for _, t := range c.timers {
		switch {
		case t.done:
		case !t.at.After(c.now):
			t.done = true
			due = append(due, t)
		default:
			live = append(live, t)
		}
	}
	clear(c.timers[len(live):])
	c.timers = live
	c.mu.Unlock()

	sort.SliceStable(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, t := range due {
		go t.f()
	}
}

// Timers returns the durations of the armed timers, in the order they
// were armed. A test can print it to see what the code under test
// waits for. It is safe for concurrent use.
func (c *Clock) Timers() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	for _, t := range c.timers {
		if !t.done {
			out = append(out, t.d)
		}
	}
	return out
}

// BlockUntilTimer waits until a timer armed with duration d is pending,
// or ctx ends, when it returns ctx's error. It is safe for concurrent
// use.
func (c *Clock) BlockUntilTimer(ctx context.Context, d time.Duration) error {
	for {
		c.mu.Lock()
		armed := c.armed
		for _, t := range c.timers {
			if !t.done && t.d == d {
				c.mu.Unlock()
				return nil
			}
		}
		c.mu.Unlock()
		select {
		case <-armed:
		case <-ctx.Done():
			return fmt.Errorf("wait for a %s timer: %w (armed: %v)", d, ctx.Err(), c.Timers())
		}
	}
}

// WaitForTimer waits until a timer armed with duration d is pending,
// such as the 5s timeout of a job that now waits for its callback. It
// fails the test after DefaultTimeout of real time, listing the timers
// that are armed.
func (c *Clock) WaitForTimer(t testing.TB, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	if err := c.BlockUntilTimer(ctx, d); err != nil {
		t.Fatalf("tethertest: %v", err)
	}
}

// AdvanceTimer waits until a timer of duration d is armed, as
// WaitForTimer does, and then advances the clock by d, so that it
// fires. It is the one-line way to make a timeout happen.
func (c *Clock) AdvanceTimer(t testing.TB, d time.Duration) {
	t.Helper()
	c.WaitForTimer(t, d)
	c.Advance(d)
}
