package redis

import (
	"context"
	"fmt"
	"time"

	"github.com/tether-go/tether/waiter"
)

// pendingState is the stage of a registration of [Waiter].
type pendingState uint8

const (
	stateWaiting  pendingState = iota // no outcome yet
	stateArrived                      // outcome claimed, Wait has not returned it
	stateReturned                     // Wait returned the outcome
	stateEnded                        // err set by Cancel, Close or the end of a Wait's context
)

// pending is the [waiter.Pending] of [Waiter].
type pending struct {
	w          *Waiter
	id         string
	token      string        // value of the registration key while p holds it
	done       chan struct{} // closed when state leaves stateWaiting
	registered time.Time

	// Guarded by w.mu.
	confirmed  bool // the Expect script has run, so the renew pass may act on p
	lostLogged bool // the loss of the registration to another token was logged
	state      pendingState
	outcome    waiter.Outcome
	err        error
}

var _ waiter.Pending = (*pending)(nil)

// ID returns the id given to Expect. It is safe for concurrent use.
func (p *pending) ID() string { return p.id }

// Wait blocks until the outcome arrives, ctx ends, Cancel is called or the
// waiter is closed. When Wait returns, the registration is removed from
// Redis, and so is the outcome it returns. When ctx ends first, the error names the id and the time waited
// since Expect. An outcome that arrives at the same moment as the end of
// ctx is returned, not dropped. Wait after an earlier Wait has returned the
// outcome fails with an error wrapping [waiter.ErrCancelled]. It is safe
// for concurrent use.
func (p *pending) Wait(ctx context.Context) (waiter.Outcome, error) {
	select {
	case <-p.done:
	default:
		select {
		case <-p.done:
		case <-ctx.Done():
		}
	}

	w := p.w
	w.mu.Lock()
	switch p.state {
	case stateWaiting:
		waited := time.Since(p.registered).Round(time.Millisecond)
		p.end(fmt.Errorf("wait for id %q ended after %s: %w", p.id, waited, ctx.Err()))
		w.finishLocked(p, false)
		return waiter.Outcome{}, p.err
	case stateArrived:
		o := p.outcome
		p.outcome = waiter.Outcome{}
		p.state = stateReturned
		w.finishLocked(p, true)
		return o, nil
	case stateReturned:
		w.mu.Unlock()
		return waiter.Outcome{}, fmt.Errorf("wait for id %q: the outcome was already returned by an earlier Wait: %w",
			p.id, waiter.ErrCancelled)
	default:
		w.mu.Unlock()
		return waiter.Outcome{}, p.err
	}
}

// Cancel withdraws the registration and removes it from Redis. A blocked
// Wait returns [waiter.ErrCancelled]. An outcome that arrived but was not
// yet returned by Wait is dropped, and its id stays marked as delivered.
// An outcome that was delivered but had not yet reached this replica stays
// in Redis for the next Expect.
// Cancel after Wait has returned does nothing. Cancel may block for up to
// two seconds when Redis cannot be reached. It is safe for concurrent use.
func (p *pending) Cancel() {
	err := fmt.Errorf("wait for id %q: %w", p.id, waiter.ErrCancelled)
	w := p.w
	w.mu.Lock()
	switch p.state {
	case stateWaiting:
		p.end(err)
		w.finishLocked(p, false)
	case stateArrived:
		p.outcome = waiter.Outcome{}
		p.err = err
		p.state = stateEnded
		w.finishLocked(p, true)
	default:
		w.mu.Unlock()
	}
}

// end finishes a waiting registration with err. The caller holds w.mu.
func (p *pending) end(err error) {
	p.err = err
	p.state = stateEnded
	close(p.done)
}

// finishLocked removes the ended registration p locally, unlocks w.mu,
// and ends p's registration in Redis unless Close has done so. consumed
// reports whether p received its outcome, which is then deleted.
func (w *Waiter) finishLocked(p *pending, consumed bool) {
	if w.pending[p.id] == p {
		delete(w.pending, p.id)
	}
	closed := w.closed
	w.mu.Unlock()
	if !closed {
		w.finish(finishCall{id: p.id, token: p.token, consumed: consumed})
	}
}
