package tethertest

import (
	"context"
	"fmt"
	"sync"

	"github.com/tether-go/tether/waiter"
)

// watchedWaiter wraps a waiter and records which ids have a live
// registration, so that a test can wait until a job waits for its
// callback before it sends one.
type watchedWaiter struct {
	waiter.Waiter

	mu     sync.Mutex      // guards live and changed
	live   map[string]int  // live registrations by id
	inWait map[string]bool // ids whose Wait has been called
	// changed is closed and replaced on every Expect and every end of a
	// registration.
	changed chan struct{}
}

var _ waiter.Waiter = (*watchedWaiter)(nil)

func newWatchedWaiter(w waiter.Waiter) *watchedWaiter {
	return &watchedWaiter{Waiter: w, live: map[string]int{}, inWait: map[string]bool{}, changed: make(chan struct{})}
}

func (w *watchedWaiter) Expect(ctx context.Context, id string) (waiter.Pending, error) {
	p, err := w.Waiter.Expect(ctx, id)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	w.live[id]++
	w.notifyLocked()
	w.mu.Unlock()
	return &watchedPending{Pending: p, w: w}, nil
}

func (w *watchedWaiter) notifyLocked() {
	close(w.changed)
	w.changed = make(chan struct{})
}

func (w *watchedWaiter) end(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.live[id]--
	if w.live[id] <= 0 {
		delete(w.live, id)
	}
	w.notifyLocked()
}

// waitFor blocks until cond, evaluated under mu, is true or ctx ends.
func (w *watchedWaiter) waitFor(ctx context.Context, what string, cond func() bool) error {
	for {
		w.mu.Lock()
		ok := cond()
		changed := w.changed
		w.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("wait until %s: %w", what, ctx.Err())
		}
	}
}

// waiting returns the ids with a live registration.
func (w *watchedWaiter) waiting() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	ids := make([]string, 0, len(w.live))
	for id := range w.live {
		ids = append(ids, id)
	}
	return ids
}

type watchedPending struct {
	waiter.Pending
	w    *watchedWaiter
	once sync.Once
}

func (p *watchedPending) Wait(ctx context.Context) (waiter.Outcome, error) {
	defer p.release()
	p.w.mu.Lock()
	p.w.inWait[p.Pending.ID()] = true
	p.w.notifyLocked()
	p.w.mu.Unlock()
	return p.Pending.Wait(ctx)
}

func (p *watchedPending) Cancel() {
	p.Pending.Cancel()
	p.release()
}

func (p *watchedPending) release() {
	p.once.Do(func() { p.w.end(p.Pending.ID()) })
}

// Stats returns the counts of the wrapped waiter when it reports them,
// so that metrics and tests can read them through the wrapper.
func (w *watchedWaiter) Stats() waiter.Stats {
	if s, ok := w.Waiter.(interface{ Stats() waiter.Stats }); ok {
		return s.Stats()
	}
	return waiter.Stats{}
}
