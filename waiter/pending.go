package waiter

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// pendingState is the stage of a registration of [Memory].
type pendingState = uint32

const (
	stateWaiting  pendingState = iota // no outcome yet
	stateArrived                      // outcome set, Wait has not returned it
	stateReturned                     // Wait returned the outcome
	stateEnded                        // err set by Cancel, Close or the end of a Wait's context
)

// pending is the [Pending] of [Memory].
//
// Leaving stateWaiting happens under m.mu. Leaving stateArrived happens by
// compare-and-swap without the lock, so that a goroutine woken by Deliver
// does not queue on the mutex that Deliver holds.
type pending struct {
	m          *Memory
	id         string
	done       chan struct{} // closed when state leaves stateWaiting
	registered int64         // Memory.now at Expect, for the wait time in errors
	state      atomic.Uint32

	// outcome is written before state becomes stateArrived and cleared
	// by the Wait that returns it, so that a duplicate marker pointing at
	// this registration does not keep the outcome alive.
	outcome Outcome
	// err is written before state becomes stateEnded.
	err error
}

var _ Pending = (*pending)(nil)

// ID returns the id given to Expect. It is safe for concurrent use.
func (p *pending) ID() string { return p.id }

// Wait blocks until the outcome arrives, ctx ends, Cancel is called or the
// waiter is closed. When ctx ends first, the registration is withdrawn and
// the error names the id and the time waited since Expect. An outcome that
// arrives at the same moment as the end of ctx is returned, not dropped.
// Wait after an earlier Wait has returned the outcome fails with an error
// wrapping [ErrCancelled]. It is safe for concurrent use.
func (p *pending) Wait(ctx context.Context) (Outcome, error) {
	select {
	case <-p.done:
	default:
		if ctxDone := ctx.Done(); ctxDone == nil {
			<-p.done // ctx never ends, and a plain receive is cheaper than select
		} else {
			select {
			case <-p.done:
			case <-ctxDone:
				p.endWait(ctx.Err())
			}
		}
	}
	if p.state.CompareAndSwap(stateArrived, stateReturned) {
		o := p.outcome
		p.outcome = Outcome{}
		p.m.detach(p)
		return o, nil
	}
	if p.state.Load() == stateReturned {
		return Outcome{}, fmt.Errorf("wait for id %q: the outcome was already returned by an earlier Wait: %w",
			p.id, ErrCancelled)
	}
	return Outcome{}, p.err
}

// detach drops the duplicate marker's pointer to p, which has returned
// its outcome, so that p can be collected while the marker lives on. It
// skips the work when the lock is busy, because the marker also works with
// the pointer, at the cost of keeping p in memory until the marker expires.
func (m *Memory) detach(p *pending) {
	if !m.mu.TryLock() {
		return
	}
	defer m.mu.Unlock()
	if s, ok := m.slots[p.id]; ok && s.kind == slotDelivered && s.pending == p {
		s.pending = nil
		m.slots[p.id] = s
	}
}

// endWait withdraws a registration whose Wait context ended with cause,
// unless an outcome arrived first.
func (p *pending) endWait(cause error) {
	m := p.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if p.state.Load() != stateWaiting {
		return
	}
	waited := time.Duration(m.now() - p.registered).Round(time.Millisecond)
	p.end(fmt.Errorf("wait for id %q ended after %s: %w", p.id, waited, cause))
	m.withdrawLocked(p)
}

// Cancel withdraws the registration. A blocked Wait returns
// [ErrCancelled]. An outcome that arrived but was not yet returned by Wait
// is dropped, and its id stays marked as delivered. Cancel after Wait has
// returned does nothing. It is safe for concurrent use.
func (p *pending) Cancel() {
	err := fmt.Errorf("wait for id %q: %w", p.id, ErrCancelled)
	m := p.m
	m.mu.Lock()
	defer m.mu.Unlock()
	switch p.state.Load() {
	case stateWaiting:
		p.end(err)
		m.withdrawLocked(p)
	case stateArrived:
		p.err = err
		if p.state.CompareAndSwap(stateArrived, stateEnded) {
			p.outcome = Outcome{}
		}
	}
}

// holdsOutcome reports whether p received an outcome that Wait has not
// returned or Cancel dropped yet. p may be nil.
func (p *pending) holdsOutcome() bool {
	return p != nil && p.state.Load() == stateArrived
}

// arrive hands o to a waiting registration. The caller holds m.mu.
func (p *pending) arrive(o Outcome) {
	p.outcome = o
	p.state.Store(stateArrived)
	close(p.done)
}

// end finishes a waiting registration with err. The caller holds m.mu.
func (p *pending) end(err error) {
	p.err = err
	p.state.Store(stateEnded)
	close(p.done)
}
