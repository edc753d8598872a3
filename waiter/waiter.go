package waiter

import (
	"context"
	"errors"
	"fmt"
)

// Sentinel errors, usable with errors.Is.
var (
	// ErrAlreadyWaiting is returned by Expect when the id is already
	// being waited on. The first registration is left untouched.
	ErrAlreadyWaiting = errors.New("waiter: id is already being waited on")
	// ErrFull is returned by Deliver when an early outcome cannot be kept
	// because the store of early outcomes is at its limit.
	ErrFull = errors.New("waiter: too many undelivered outcomes")
	// ErrClosed is returned by every method after Close, and by Wait
	// when the waiter is closed while waiting.
	ErrClosed = errors.New("waiter: closed")
	// ErrCancelled is returned by Wait after Cancel.
	ErrCancelled = errors.New("waiter: wait cancelled")
	// ErrRemoteFailed is wrapped by the error of a failed [Outcome].
	ErrRemoteFailed = errors.New("remote task failed")
	// ErrInvalidID is returned for an empty id.
	ErrInvalidID = errors.New("waiter: empty id")
)

// Outcome is what a callback reports for one id: a result, or a failure
// with the status and payload that explain it. An Outcome must survive a
// JSON round trip, because shared waiters store it outside the process.
type Outcome struct {
	// Result is the mapped result of a successful callback.
	Result any `json:"result,omitempty"`
	// Failed reports that the callback's status matched a failure value.
	Failed bool `json:"failed,omitempty"`
	// Status is the status value the callback carried, if any.
	Status string `json:"status,omitempty"`
	// Payload is the callback's payload, kept so that a failure can say
	// why the remote task failed.
	Payload any `json:"payload,omitempty"`
}

// Err returns nil for a successful outcome and a *RemoteError for a
// failed one.
func (o Outcome) Err() error {
	if !o.Failed {
		return nil
	}
	return &RemoteError{Status: o.Status, Payload: o.Payload}
}

// RemoteError reports a callback whose status marked the remote task as
// failed. It wraps [ErrRemoteFailed].
type RemoteError struct {
	// Status is the status value of the callback, such as "failed".
	Status string
	// Payload is the callback's payload.
	Payload any
}

func (e *RemoteError) Error() string {
	if e.Payload == nil {
		return fmt.Sprintf("remote task failed with status %q", e.Status)
	}
	return fmt.Sprintf("remote task failed with status %q: %s", e.Status, compact(e.Payload))
}

// Unwrap returns [ErrRemoteFailed].
func (e *RemoteError) Unwrap() error { return ErrRemoteFailed }

// Delivery tells what Deliver did with an outcome.
type Delivery int

const (
	// Delivered means a registered wait received the outcome.
	Delivered Delivery = iota + 1
	// Stored means nobody waited yet; the outcome is kept until a wait is
	// registered for the id or the retention period ends.
	Stored
	// Duplicate means an outcome for the id was already delivered or
	// stored; this one was dropped.
	Duplicate
)

func (d Delivery) String() string {
	switch d {
	case Delivered:
		return "delivered"
	case Stored:
		return "stored"
	case Duplicate:
		return "duplicate"
	}
	return fmt.Sprintf("Delivery(%d)", int(d))
}

// Waiter matches outcomes to the code that waits for them, by id.
//
// The contract, which every implementation must meet and which the
// waitertest suite checks:
//
//   - Expect registers interest in an id before the caller sends the
//     request that will cause the outcome, so that an outcome arriving
//     before Wait is called, or before Expect returns to a racing
//     goroutine, is never lost.
//   - An outcome delivered before anyone expects its id is stored for a
//     bounded time and count, and resolves the next Expect for that id.
//   - Each outcome is handed to at most one wait, exactly once. A second
//     outcome for the same id is reported as [Duplicate] and dropped.
//   - Expect on an id with a live registration fails with
//     [ErrAlreadyWaiting]. A registration is live from Expect until Wait
//     has returned or Cancel has been called. After that, a new Expect
//     for the same id is allowed, so a retried job can reuse its id, and
//     it clears the duplicate marker of the earlier outcome.
//   - Every Wait ends: with the outcome, when its context ends, after
//     Cancel, or with [ErrClosed] when the waiter is closed.
//   - Cancel withdraws a registration. An outcome delivered after Cancel
//     finds no registration, so Deliver stores it and reports [Stored],
//     and the next Expect for the id receives it. An outcome that had
//     already reached the registration before Cancel is dropped and its
//     id is remembered as delivered.
//
// All methods are safe for concurrent use.
type Waiter interface {
	// Expect registers interest in id and returns the registration. The
	// caller must call Wait or Cancel on it.
	Expect(ctx context.Context, id string) (Pending, error)
	// Deliver hands an outcome for id to its registration, or stores it
	// when there is none yet.
	Deliver(ctx context.Context, id string, o Outcome) (Delivery, error)
	// Close releases the waiter. Pending waits end with [ErrClosed].
	Close() error
}

// Pending is one registration made by [Waiter.Expect].
type Pending interface {
	// ID returns the id the registration waits for.
	ID() string
	// Wait blocks until the outcome arrives, ctx ends, or Cancel is
	// called. It returns ctx.Err() (wrapped) when ctx ends first. Wait
	// may be called once.
	Wait(ctx context.Context) (Outcome, error)
	// Cancel withdraws the registration. It is safe to call at any time,
	// more than once, and after Wait has returned.
	Cancel()
}
