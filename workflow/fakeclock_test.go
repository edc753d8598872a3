package workflow

import (
	"sync"
	"testing"
	"time"

	"github.com/tether-go/tether/clock"
)

// fakeClock is a clock.Clock whose time moves only with Advance.
type fakeClock struct {
	mu     sync.Mutex // guards now, timers and added
	now    time.Time
	timers []*fakeTimer
	added  chan struct{} // closed and replaced when a timer is added
}

type fakeTimer struct {
	clock *fakeClock
	at    time.Time
	d     time.Duration
	f     func()
	done  bool // fired or stopped
}

var _ clock.Clock = (*fakeClock)(nil)

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), added: make(chan struct{})}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{clock: c, at: c.now.Add(d), d: d, f: f}
	c.timers = append(c.timers, t)
	close(c.added)
	c.added = make(chan struct{})
	return t
}

func (t *fakeTimer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	if t.done {
		return false
	}
	t.done = true
	return true
}

// Advance moves the time forward by d and fires the timers that are due.
func (c *fakeClock) Advance(d time.Duration) {
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
	c.timers = live
	c.mu.Unlock()

	for _, t := range due {
		go t.f()
	}
}

// WaitForTimer blocks until a timer of duration d is pending, and fails
// the test after 10 seconds of real time.
func (c *fakeClock) WaitForTimer(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		c.mu.Lock()
		added := c.added
		for _, timer := range c.timers {
			if !timer.done && timer.d == d {
				c.mu.Unlock()
				return
			}
		}
		c.mu.Unlock()
		select {
		case <-added:
		case <-deadline:
			t.Fatalf("no timer of %s was scheduled within 10s", d)
		}
	}
}
