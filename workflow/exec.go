package workflow

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// jobResult is the result that a job's goroutine sends to its run's
// scheduler.
type jobResult struct {
	index  int
	output any
	err    error
}

// execute runs w for lr in its own goroutine and records the end state.
func (e *Engine) execute(ctx context.Context, lr *liveRun, w *compiledWorkflow, input any) {
	runID := lr.rec.ID
	defer func() {
		lr.stopWatch()
		e.runsMu.Lock()
		delete(e.live, runID)
		e.runsMu.Unlock()
		e.running.Done()
	}()
	log := e.log.With("run_id", runID, "workflow", w.id)

	lr.update(func(rec *Run) { rec.State = StateProcessing })
	output, err := e.executeJobs(ctx, lr, w, input, log)

	// Log before finish, because callers of Run and Wait may return as
	// soon as finish has run.
	switch cause := context.Cause(ctx); {
	case err == nil:
		log.Info("run completed")
		lr.finish(StateCompleted, output, nil)
	case cause != nil:
		log.Info("run cancelled", "reason", cause)
		lr.finish(StateCancelled, nil, cause)
	default:
		log.Warn("run failed", "error", err)
		lr.finish(StateFailed, nil, err)
	}
}

// executeJobs runs the jobs of w, each as soon as its dependencies are
// met, and returns the workflow's output. The first job that fails
// cancels the others and fails the run.
func (e *Engine) executeJobs(ctx context.Context, lr *liveRun, w *compiledWorkflow, rawInput any, log *slog.Logger) (any, error) {
	if ctx.Err() != nil {
		// Cancelled before it started.
		return nil, context.Cause(ctx)
	}
	runID := lr.rec.ID
	runContext := newContext(runID, w.id, "", lr.rec.CreatedAt)
	input, err := eval(w.input, newScope(e.sources, runContext).with("input", rawInput), rawInput)
	if err != nil {
		return nil, fmt.Errorf("evaluate workflow input: %w", err)
	}

	n := len(w.jobs)
	outputs := make([]any, n)
	done := make([]bool, n)
	started := make([]bool, n)
	results := make(chan jobResult, n)
	// jobsCtx ends the other jobs when one fails. A workflow of one job
	// has no other job to end, so its job runs under ctx itself, which
	// spares a context per run.
	jobsCtx, cancelJobs := ctx, context.CancelCauseFunc(func(error) {})
	if n > 1 {
		jobsCtx, cancelJobs = context.WithCancelCause(ctx)
	}
	defer cancelJobs(nil)

	running := 0
	launchReady := func() {
		for i, j := range w.jobs {
			if started[i] || !groupsMet(j.groups, done) {
				continue
			}
			started[i] = true
			running++
			jobs := jobsValue(w, outputs, done)
			go func() {
				out, err := e.runJob(jobsCtx, lr, w, i, input, jobs, log)
				results <- jobResult{index: i, output: out, err: err}
			}()
		}
	}

	var failure error
	launchReady()
	for running > 0 {
		r := <-results
		running--
		if r.err != nil {
			if failure == nil {
				failure = fmt.Errorf("job %s: %w", w.jobs[r.index].id, r.err)
				cancelJobs(fmt.Errorf("%w: job %s failed", ErrCancelled, w.jobs[r.index].id))
			}
			continue
		}
		outputs[r.index] = r.output
		done[r.index] = true
		if failure == nil {
			launchReady()
		}
	}
	if failure != nil {
		return nil, failure
	}

	defaultOutput := endOutput(w, outputs)
	s := newScope(e.sources, runContext).
		with("input", input).
		with("output", defaultOutput).
		with("jobs", jobsValue(w, outputs, done))
	output, err := eval(w.output, s, defaultOutput)
	if err != nil {
		return nil, fmt.Errorf("evaluate workflow output: %w", err)
	}
	return output, nil
}

// jobsValue returns the value of ${jobs}: for each completed job, a map
// with its output under "output".
func jobsValue(w *compiledWorkflow, outputs []any, done []bool) map[string]any {
	jobs := make(map[string]any)
	for i, j := range w.jobs {
		if done[i] {
			jobs[j.id] = map[string]any{"output": outputs[i]}
		}
	}
	return jobs
}

// endOutput returns the default output of a workflow: the output of its
// only end job, or a map from end job id to output.
func endOutput(w *compiledWorkflow, outputs []any) any {
	if len(w.ends) == 1 {
		return outputs[w.ends[0]]
	}
	m := make(map[string]any, len(w.ends))
	for _, i := range w.ends {
		m[w.jobs[i].id] = outputs[i]
	}
	return m
}

// runJob runs job i of w: it renders the input, calls the component with
// retries and recovery jobs, renders the output and records each step.
func (e *Engine) runJob(ctx context.Context, lr *liveRun, w *compiledWorkflow, i int, input any, jobs map[string]any, log *slog.Logger) (any, error) {
	j := w.jobs[i]
	log = log.With("job", j.id)
	startedAt := e.clock.Now().UTC()
	lr.update(func(rec *Run) {
		rec.Jobs[i].State = StateProcessing
		rec.Jobs[i].StartedAt = &startedAt
	})
	log.Debug("job started", "component", j.componentID)

	result := &jobOutcome{}
	output, err := e.runJobSteps(ctx, lr.rec.ID, w, j, input, jobs, startedAt, result, log)

	endedAt := e.clock.Now().UTC()
	state := StateCompleted
	switch {
	case err != nil && ctx.Err() != nil:
		state = StateCancelled
		err = context.Cause(ctx)
	case err != nil:
		state = StateFailed
	}
	lr.update(func(rec *Run) {
		jr := &rec.Jobs[i]
		jr.State = state
		jr.Output = output
		jr.Attempts = result.attempts
		jr.RecoveredBy = result.recoveredBy
		jr.EndedAt = &endedAt
		if err != nil {
			jr.Error = err.Error()
		}
	})
	switch state {
	case StateCompleted:
		log.Debug("job completed", "attempts", result.attempts)
	case StateFailed:
		log.Warn("job failed", "attempts", result.attempts, "error", err)
	}
	return output, err
}

// jobOutcome collects the counters of one job for its record.
type jobOutcome struct {
	attempts    int
	recoveredBy string
}

func (e *Engine) runJobSteps(ctx context.Context, runID string, w *compiledWorkflow, j *compiledJob, input any, jobs map[string]any, startedAt time.Time, result *jobOutcome, log *slog.Logger) (any, error) {
	jobContext := newContext(runID, w.id, j.id, startedAt)
	s := newScope(e.sources, jobContext).with("input", input).with("jobs", jobs)
	jobInput, err := eval(j.input, s, input)
	if err != nil {
		return nil, fmt.Errorf("evaluate input: %w", err)
	}

	call := Call{Input: jobInput, RunID: runID, WorkflowID: w.id, JobID: j.id, Timestamp: startedAt}
	out, err := e.callWithRetry(ctx, j, call, result, log)
	if err != nil && ctx.Err() == nil && len(j.onError) > 0 {
		out, err = e.recover(ctx, j, call, jobs, err, result, log)
	}
	if err != nil {
		return nil, err
	}

	s = newScope(e.sources, jobContext).with("input", jobInput).with("jobs", jobs).with("output", out)
	output, err := eval(j.output, s, out)
	if err != nil {
		return nil, fmt.Errorf("evaluate output: %w", err)
	}
	return output, nil
}

// callWithRetry calls the step's component, and again up to
// step.retry.MaxRetryCount times after step.retry.Delay while it fails.
func (e *Engine) callWithRetry(ctx context.Context, step *compiledJob, call Call, result *jobOutcome, log *slog.Logger) (any, error) {
	call.JobID = step.id
	for retry := 0; ; retry++ {
		result.attempts++
		call.Attempt = result.attempts
		out, err := step.component.Invoke(ctx, &call)
		if err == nil {
			return out, nil
		}
		if ctx.Err() != nil || retry >= step.retry.MaxRetryCount {
			return nil, err
		}
		log.Warn("component call failed, retrying",
			"step", step.id, "component", step.componentID, "attempt", call.Attempt,
			"retries_left", step.retry.MaxRetryCount-retry, "delay", step.retry.Delay, "error", err)
		if err := sleep(ctx, e.clock, step.retry.Delay); err != nil {
			return nil, err
		}
	}
}

// recover tries the recovery jobs of j in order after j failed with
// failure. The output of the first one that completes replaces the
// component's output of j.
func (e *Engine) recover(ctx context.Context, j *compiledJob, call Call, jobs map[string]any, failure error, result *jobOutcome, log *slog.Logger) (any, error) {
	err := failure
	for _, rj := range j.onError {
		log.Info("job failed, starting recovery job", "step", rj.id, "component", rj.componentID, "error", err)
		rcontext := newContext(call.RunID, call.WorkflowID, rj.id, call.Timestamp)
		s := newScope(e.sources, rcontext).with("input", call.Input).with("jobs", jobs)
		rinput, ierr := eval(rj.input, s, call.Input)
		if ierr != nil {
			err = fmt.Errorf("%w; recovery job %s: evaluate input: %w", err, rj.id, ierr)
			continue
		}

		rcall := call
		rcall.Input = rinput
		out, rerr := e.callWithRetry(ctx, rj, rcall, result, log)
		if rerr == nil {
			s = newScope(e.sources, rcontext).with("input", rinput).with("jobs", jobs).with("output", out)
			out, rerr = eval(rj.output, s, out)
			if rerr == nil {
				result.recoveredBy = rj.id
				log.Info("job recovered", "step", rj.id)
				return out, nil
			}
			rerr = fmt.Errorf("evaluate output: %w", rerr)
		}
		if ctx.Err() != nil {
			return nil, rerr
		}
		err = fmt.Errorf("%w; recovery job %s: %w", err, rj.id, rerr)
	}
	return nil, err
}

// cloneRun returns a copy of rec whose Jobs slice and times are its own.
// Input and output values are shared, because the engine never changes
// them after setting them.
func cloneRun(rec *Run) *Run {
	c := *rec
	c.Jobs = make([]JobRun, len(rec.Jobs))
	for i, jr := range rec.Jobs {
		if jr.StartedAt != nil {
			t := *jr.StartedAt
			jr.StartedAt = &t
		}
		if jr.EndedAt != nil {
			t := *jr.EndedAt
			jr.EndedAt = &t
		}
		c.Jobs[i] = jr
	}
	return &c
}
