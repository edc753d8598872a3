package workflow

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// SharedStore is a [Store] that several engines share, typically one
// engine per replica of a service. Besides the records, it carries cancel
// requests to the engine that executes a run and notifies other engines
// when a run ends. When Options.Store implements SharedStore, [Engine.Cancel]
// cancels a run that another engine executes, and [Engine.Wait] waits for
// such a run without polling. Wait and Cancel still read the record every
// 10 seconds in case a notification was lost. Implementations must be
// safe for concurrent use.
type SharedStore interface {
	Store
	// RequestCancel sends a cancel request for the run with runID to
	// every engine that shares the store. The engine that executes the
	// run cancels it, and the others ignore the request. The request must
	// also reach an engine whose connection to the store was down when
	// it was sent, once the connection is back.
	RequestCancel(ctx context.Context, runID string) error
	// WatchCancel arranges for cancel to be called once when a cancel
	// request for runID arrives, until stop is called. The engine calls
	// it before it first saves a run. cancel must not block.
	WatchCancel(runID string, cancel func()) (stop func())
	// WatchEnd returns a channel that is closed after a later Save has
	// stored the run with runID in an end state. It may also be closed
	// without such a save, for example after a lost connection, so the
	// caller reads the record again. stop releases the watch.
	WatchEnd(runID string) (ended <-chan struct{}, stop func())
}

// Bounds on waiting for a run that another engine executes.
const (
	// sharedRecheck is how often Wait and Cancel read the record of a
	// run in a SharedStore again, in case a notification of its end was
	// lost.
	sharedRecheck = 10 * time.Second
	// remoteCancelTimeout bounds how long Cancel waits for another
	// engine to record the end of a run after requesting its cancel.
	remoteCancelTimeout = 30 * time.Second
)

// errStillProcessing is the cause when a remote cancel was not followed by
// the run's end within remoteCancelTimeout.
var errStillProcessing = errors.New("no engine recorded the run's end")

// watchCancel registers lr for cancel requests sent through a
// SharedStore. It is a no-op for other stores.
func (e *Engine) watchCancel(lr *liveRun) {
	ss, ok := e.store.(SharedStore)
	if !ok {
		return
	}
	id := lr.rec.ID
	lr.unwatch = ss.WatchCancel(id, func() {
		e.log.Info("run cancel requested by another engine", "run_id", id, "workflow", lr.workflowID())
		lr.cancel(cancelledError("cancel requested by another engine", nil))
	})
}

// cancelShared requests the cancel of a run that another engine executes
// and waits until the run's end is stored.
func (e *Engine) cancelShared(ctx context.Context, ss SharedStore, runID string) error {
	if err := ss.RequestCancel(ctx, runID); err != nil {
		return fmt.Errorf("cancel run %s: %w", runID, err)
	}
	e.log.Info("run cancel requested through the shared store", "run_id", runID)

	ctx, release := withTimeout(ctx, e.clock, remoteCancelTimeout, errStillProcessing)
	defer release()
	if _, err := e.waitShared(ctx, ss, runID); err != nil {
		if errors.Is(context.Cause(ctx), errStillProcessing) {
			// NOTE: a run whose engine stopped without recording its end
			// stays processing in the store, because nothing else marks
			// it cancelled.
			return fmt.Errorf("cancel run %s: %w within %s of the cancel request; the engine executing it may have stopped", runID, errStillProcessing, remoteCancelTimeout)
		}
		return fmt.Errorf("cancel run %s: %w", runID, context.Cause(ctx))
	}
	return nil
}

// waitShared waits until the stored run with runID has ended and returns
// its record. The error is ctx's cause when ctx ends first, or the error
// of Store.Get.
func (e *Engine) waitShared(ctx context.Context, ss SharedStore, runID string) (*Run, error) {
	for {
		// Watch before reading, so that an end saved in between closes
		// the channel.
		ended, stop := ss.WatchEnd(runID)
		rec, err := ss.Get(ctx, runID)
		if err != nil {
			stop()
			return nil, err
		}
		if rec.State.Done() {
			stop()
			return rec, nil
		}
		err = waitEnded(ctx, e, ended)
		stop()
		if err != nil {
			return nil, err
		}
	}
}

// waitEnded waits until ended is closed, sharedRecheck has passed on the
// engine's clock, or ctx ends, when it returns ctx's cause.
func waitEnded(ctx context.Context, e *Engine, ended <-chan struct{}) error {
	recheck := make(chan struct{})
	t := e.clock.AfterFunc(sharedRecheck, func() { close(recheck) })
	defer t.Stop()
	select {
	case <-ended:
		return nil
	case <-recheck:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
