package workflow

import "time"

// Observer receives an engine's events, for metrics such as those of
// package metrics. Every field may be nil, and a nil *Observer in
// Options observes nothing at no cost. The functions are called
// synchronously from the run's goroutines, so they must be fast and
// safe for concurrent use.
type Observer struct {
	// WaitStarted is called when a job of an http-client component
	// starts waiting for its callback, after the response to its
	// request.
	WaitStarted func(workflowID, componentID string)
	// WaitEnded is called when that wait ends, with its duration on the
	// engine's clock and one of the WaitResult constants. Every
	// WaitStarted is followed by exactly one WaitEnded.
	WaitEnded func(workflowID, componentID string, d time.Duration, result WaitResult)
	// RunEnded is called once for each run that ends in this engine,
	// with its end state and its duration from creation on the engine's
	// clock, before Run and Wait return the run.
	RunEnded func(workflowID string, state State, d time.Duration)
}

// WaitResult is the way a wait for a callback ended, as reported to
// Observer.WaitEnded.
type WaitResult string

// Results reported to Observer.WaitEnded.
const (
	// WaitReceived means a successful outcome arrived.
	WaitReceived WaitResult = "received"
	// WaitRemoteFailed means an outcome arrived whose status marked the
	// remote task as failed.
	WaitRemoteFailed WaitResult = "failed"
	// WaitTimeout means Completion.Timeout passed first.
	WaitTimeout WaitResult = "timeout"
	// WaitCancelled means the run was cancelled or the waiter closed
	// first.
	WaitCancelled WaitResult = "cancelled"
)

func (e *Engine) observeWaitStarted(workflowID, componentID string) {
	if e.observer != nil && e.observer.WaitStarted != nil {
		e.observer.WaitStarted(workflowID, componentID)
	}
}

func (e *Engine) observeWaitEnded(workflowID, componentID string, start time.Time, result WaitResult) {
	if e.observer != nil && e.observer.WaitEnded != nil {
		e.observer.WaitEnded(workflowID, componentID, e.clock.Now().Sub(start), result)
	}
}

func (e *Engine) observeRunEnded(workflowID string, state State, created time.Time) {
	if e.observer != nil && e.observer.RunEnded != nil {
		e.observer.RunEnded(workflowID, state, e.clock.Now().Sub(created))
	}
}
