package tethertest

import (
	"context"
	"testing"
	"time"

	"github.com/tether-go/tether/workflow"
)

// Runs waits for the runs of a workflow.Engine and checks their state,
// for services that build the engine in Go instead of with compose.
// Project offers the same helpers for its own engine. Like t.Fatal, its
// methods must be called from the goroutine running the test.
type Runs struct {
	t       testing.TB
	engine  *workflow.Engine
	clock   *Clock
	timeout time.Duration
}

// NewRuns returns helpers for the runs of e that report to t and wait
// for at most DefaultTimeout of real time. clock, when not nil, is the
// fake clock the engine runs on, whose armed timers a failure lists.
func NewRuns(t testing.TB, e *workflow.Engine, clock *Clock) *Runs {
	return &Runs{t: t, engine: e, clock: clock, timeout: DefaultTimeout}
}

// Get returns the stored record of a run.
func (r *Runs) Get(runID string) *workflow.Run {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	run, err := r.engine.Get(ctx, runID)
	if err != nil {
		r.t.Fatalf("tethertest: get run %s: %v", runID, err)
	}
	return run
}

// WaitState waits until the run is in state want and returns its
// record. It fails the test at once when the run ends in another state,
// and after the timeout when the run stays elsewhere.
func (r *Runs) WaitState(runID string, want workflow.State) *workflow.Run {
	r.t.Helper()
	return r.waitRun(runID, string(want), func(run *workflow.Run) bool { return run.State == want })
}

// WaitDone waits until the run has ended (completed, failed or
// cancelled) and returns its record.
func (r *Runs) WaitDone(runID string) *workflow.Run {
	r.t.Helper()
	return r.waitRun(runID, "an end state", func(run *workflow.Run) bool { return run.State.Done() })
}

// WaitJobState waits until the job jobID of the run is in state want.
func (r *Runs) WaitJobState(runID, jobID string, want workflow.State) *workflow.Run {
	r.t.Helper()
	what := "job " + jobID + " " + string(want)
	return r.waitRun(runID, what, func(run *workflow.Run) bool {
		for _, j := range run.Jobs {
			if j.ID == jobID {
				return j.State == want
			}
		}
		return false
	})
}

// RequireCompleted waits until the run ends, fails the test unless it
// completed, and returns its output.
func (r *Runs) RequireCompleted(runID string) any {
	r.t.Helper()
	run := r.WaitState(runID, workflow.StateCompleted)
	return run.Output
}

// RequireFailed waits until the run ends, fails the test unless it
// failed, and returns its error message.
func (r *Runs) RequireFailed(runID string) string {
	r.t.Helper()
	run := r.WaitState(runID, workflow.StateFailed)
	return run.Error
}

func (r *Runs) waitRun(runID, what string, ok func(*workflow.Run) bool) *workflow.Run {
	r.t.Helper()
	deadline := time.Now().Add(r.timeout)
	for {
		run := r.Get(runID)
		if ok(run) {
			return run
		}
		if run.State.Done() {
			r.t.Fatalf("tethertest: run %s ended %s, not %s: %s%s", runID, run.State, what, run.Error, jobSummary(run))
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("tethertest: run %s did not reach %s within %s; it is %s%s%s",
				runID, what, r.timeout, run.State, jobSummary(run), r.clockSummary())
		}
		time.Sleep(pollInterval)
	}
}

func (r *Runs) clockSummary() string {
	if r.clock == nil {
		return ""
	}
	return "; fake clock timers armed: " + formatDurations(r.clock.Timers()) + " (advance the clock?)"
}

func jobSummary(run *workflow.Run) string {
	s := ""
	for _, j := range run.Jobs {
		s += "\n\tjob " + j.ID + ": " + string(j.State)
		if j.Error != "" {
			s += ": " + j.Error
		}
	}
	return s
}

func formatDurations(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	s := ""
	for i, d := range ds {
		if i > 0 {
			s += ", "
		}
		s += d.String()
	}
	return s
}
