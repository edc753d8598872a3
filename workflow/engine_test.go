package workflow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/expr"
)

// newTestEngine returns an engine that is closed when the test ends.
func newTestEngine(t *testing.T, opts *Options) *Engine {
	t.Helper()
	e := New(opts)
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// eventLog records "start:ID" and "end:ID" events of Go components.
type eventLog struct {
	mu     sync.Mutex // guards events
	events []string
}

func (l *eventLog) add(event string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, event)
}

func (l *eventLog) index(t *testing.T, event string) int {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	i := slices.Index(l.events, event)
	require.GreaterOrEqual(t, i, 0, "event %q missing from %v", event, l.events)
	return i
}

// recorder returns a component that logs its start and end and returns
// map{"job": JobID, "input": input}.
func recorder(log *eventLog) Component {
	return componentFunc(func(ctx context.Context, call *Call) (any, error) {
		log.add("start:" + call.JobID)
		defer log.add("end:" + call.JobID)
		return map[string]any{"job": call.JobID, "input": call.Input}, nil
	})
}

// componentFunc adapts a function of a whole Call to Component.
type componentFunc func(ctx context.Context, call *Call) (any, error)

func (f componentFunc) Invoke(ctx context.Context, call *Call) (any, error) { return f(ctx, call) }

func TestRunDependencyOrder(t *testing.T) {
	log := &eventLog{}
	e := newTestEngine(t, nil)
	require.NoError(t, e.AddComponent("rec", recorder(log)))
	require.NoError(t, e.AddWorkflow(&Workflow{
		ID: "dag",
		Jobs: []Job{
			// Listed first, but waits for d through ${jobs.d...}.
			{ID: "e", Component: "rec", Input: "${jobs.d.output.job}"},
			{ID: "a", Component: "rec"},
			{ID: "b", Component: "rec"},
			{ID: "c", Component: "rec", DependsOn: []Dependency{{"a"}}},
			{ID: "d", Component: "rec", DependsOn: []Dependency{{"c"}, {"a", "b"}}},
		},
	}))

	run, err := e.Run(context.Background(), "dag", map[string]any{"x": 1})
	require.NoError(t, err)
	assert.Equal(t, StateCompleted, run.State)
	assert.Less(t, log.index(t, "end:a"), log.index(t, "start:c"))
	assert.Less(t, log.index(t, "end:c"), log.index(t, "start:d"))
	assert.Less(t, log.index(t, "end:d"), log.index(t, "start:e"))
	// e is the only job nothing depends on, so its output is the run's.
	assert.Equal(t, map[string]any{"job": "e", "input": "d"}, run.Output)
	for _, jr := range run.Jobs {
		assert.Equal(t, StateCompleted, jr.State, "job %s", jr.ID)
		assert.Equal(t, 1, jr.Attempts, "job %s", jr.ID)
	}
}

func TestRunOrGroupNeedsOneJob(t *testing.T) {
	release := make(chan struct{})
	dStarted := make(chan struct{})
	e := newTestEngine(t, nil)
	require.NoError(t, e.AddComponent("slow", Func(func(ctx context.Context, input any) (any, error) {
		select {
		case <-release:
			return "slow", nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})))
	require.NoError(t, e.AddComponent("fast", Func(func(ctx context.Context, input any) (any, error) {
		return "fast", nil
	})))
	require.NoError(t, e.AddComponent("d", Func(func(ctx context.Context, input any) (any, error) {
		close(dStarted)
		return "d", nil
	})))
	require.NoError(t, e.AddWorkflow(&Workflow{
		ID: "or",
		Jobs: []Job{
			{ID: "slow", Component: "slow"},
			{ID: "fast", Component: "fast"},
			{ID: "d", Component: "d", DependsOn: []Dependency{{"slow", "fast"}}},
		},
	}))

	run, err := e.Start(context.Background(), "or", nil)
	require.NoError(t, err)
	select {
	case <-dStarted:
	case <-time.After(10 * time.Second):
		t.Fatal("job d did not start while job slow was still running")
	}
	close(release)

	run, err = e.Wait(context.Background(), run.ID)
	require.NoError(t, err)
	assert.Equal(t, StateCompleted, run.State)
	assert.Equal(t, "d", run.Output, "the OR group counts as a dependency on both jobs")
}

func TestRunIndependentJobsInParallel(t *testing.T) {
	var started sync.WaitGroup
	started.Add(2)
	both := make(chan struct{})
	go func() {
		started.Wait()
		close(both)
	}()
	e := newTestEngine(t, nil)
	require.NoError(t, e.AddComponent("barrier", Func(func(ctx context.Context, input any) (any, error) {
		started.Done()
		select {
		case <-both:
			return input, nil
		case <-time.After(10 * time.Second):
			return nil, errors.New("the other job did not start alongside")
		}
	})))
	require.NoError(t, e.AddWorkflow(&Workflow{
		ID:   "parallel",
		Jobs: []Job{{ID: "a", Component: "barrier", Input: "A"}, {ID: "b", Component: "barrier", Input: "B"}},
	}))

	run, err := e.Run(context.Background(), "parallel", nil)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"a": "A", "b": "B"}, run.Output)
}

func TestRunImplicitDependencyAndArithmetic(t *testing.T) {
	e := newTestEngine(t, nil)
	require.NoError(t, e.AddComponent("image-generator", Func(func(ctx context.Context, input any) (any, error) {
		return map[string]any{"task_id": "task-1", "url": "http://127.0.0.1/img.png", "width": 512}, nil
	})))
	var optimizerInput any
	require.NoError(t, e.AddComponent("image-optimizer", Func(func(ctx context.Context, input any) (any, error) {
		optimizerInput = input
		return map[string]any{"url": "http://127.0.0.1/small.png", "original_size": 1000, "compressed_size": 400}, nil
	})))
	require.NoError(t, e.AddWorkflow(&Workflow{
		ID:    "images",
		Title: "Image Generation and Optimization",
		Jobs: []Job{
			{
				ID:        "generate",
				Component: "image-generator",
				Input:     map[string]any{"prompt": "${input.prompt}"},
				Output:    map[string]any{"task_id": "${output.task_id}", "image_url": "${output.url}"},
			},
			{
				ID:        "optimize",
				Component: "image-optimizer",
				Input:     map[string]any{"url": "${jobs.generate.output.image_url}"},
				Output: map[string]any{
					"final_url":       "${output.url}",
					"original_size":   "${output.original_size}",
					"compressed_size": "${output.compressed_size}",
					"savings":         "${output.original_size - output.compressed_size}",
				},
			},
		},
	}))

	run, err := e.Run(context.Background(), "images", map[string]any{"prompt": "a cat"})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"url": "http://127.0.0.1/img.png"}, optimizerInput)
	out, ok := run.Output.(map[string]any)
	require.True(t, ok, "output %#v is not a map", run.Output)
	assert.EqualValues(t, 600, out["savings"])
	assert.Equal(t, "http://127.0.0.1/small.png", out["final_url"])
}

func TestRunSingleComponentWorkflow(t *testing.T) {
	e := newTestEngine(t, nil)
	require.NoError(t, e.AddComponent("echo", componentFunc(func(ctx context.Context, call *Call) (any, error) {
		return map[string]any{"input": call.Input, "job": call.JobID, "run": call.RunID}, nil
	})))
	require.NoError(t, e.AddWorkflow(&Workflow{
		ID:        "single",
		Component: "echo",
		Input:     map[string]any{"text": "${input.message}"},
		Output:    map[string]any{"echo": "${output.input.text}", "run_id": "${context.run_id}"},
	}))

	run, err := e.Run(context.Background(), "single", map[string]any{"message": "hi"})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"echo": "hi", "run_id": run.ID}, run.Output)
	require.Len(t, run.Jobs, 1)
	assert.Equal(t, "echo", run.Jobs[0].ID)
}

func TestRunContextSource(t *testing.T) {
	clk := newFakeClock()
	e := newTestEngine(t, &Options{Clock: clk})
	require.NoError(t, e.AddComponent("echo", Func(func(ctx context.Context, input any) (any, error) { return input, nil })))
	require.NoError(t, e.AddWorkflow(&Workflow{
		ID: "ctx",
		Jobs: []Job{{ID: "only", Component: "echo", Input: map[string]any{
			"run":      "${context.run_id}",
			"workflow": "${context.workflow_id}",
			"job":      "${context.job_id}",
			"time":     "${context.timestamp}",
		}}},
	}))

	run, err := e.Run(context.Background(), "ctx", nil)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{
		"run": run.ID, "workflow": "ctx", "job": "only", "time": "2026-01-02T03:04:05.000Z",
	}, run.Output)
}

func TestRunJobFailureFailsRun(t *testing.T) {
	e := newTestEngine(t, nil)
	boom := errors.New("boom")
	require.NoError(t, e.AddComponent("fail", Func(func(ctx context.Context, input any) (any, error) { return nil, boom })))
	require.NoError(t, e.AddComponent("wait", Func(func(ctx context.Context, input any) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})))
	require.NoError(t, e.AddComponent("never", Func(func(ctx context.Context, input any) (any, error) { return "never", nil })))
	require.NoError(t, e.AddWorkflow(&Workflow{
		ID: "failing",
		Jobs: []Job{
			{ID: "bad", Component: "fail"},
			{ID: "waiting", Component: "wait"},
			{ID: "after", Component: "never", DependsOn: []Dependency{{"bad"}}},
		},
	}))

	run, err := e.Run(context.Background(), "failing", nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, boom)
	assert.EqualError(t, err, "job bad: boom")
	assert.Equal(t, StateFailed, run.State)
	assert.Equal(t, "job bad: boom", run.Error)
	assert.Equal(t, StateFailed, run.Jobs[0].State)
	assert.Equal(t, StateCancelled, run.Jobs[1].State)
	assert.Equal(t, StatePending, run.Jobs[2].State)
}

// flaky returns a component that fails its first failures calls and
// counts all calls.
func flaky(failures int, calls *int, mu *sync.Mutex) Component {
	return componentFunc(func(ctx context.Context, call *Call) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		*calls++
		if *calls <= failures {
			return nil, fmt.Errorf("call %d failed", *calls)
		}
		return map[string]any{"value": "ok", "attempt": call.Attempt, "input": call.Input}, nil
	})
}

func TestOnErrorRetryRecovers(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	e := newTestEngine(t, nil)
	require.NoError(t, e.AddComponent("async-service", flaky(2, &calls, &mu)))
	require.NoError(t, e.AddComponent("rec", recorder(&eventLog{})))
	require.NoError(t, e.AddWorkflow(&Workflow{
		ID: "recover",
		Jobs: []Job{
			{
				ID:        "async-task",
				Component: "async-service",
				Input:     "${input.n}",
				Output:    map[string]any{"value": "${output.value}", "attempt": "${output.attempt}"},
				OnError: []Job{{
					ID:        "retry",
					Component: "async-service",
					Input:     "${input}",
					Retry:     Retry{MaxRetryCount: 3, Delay: time.Millisecond},
				}},
			},
			{ID: "next", Component: "rec", Input: "${jobs.async-task.output.value}"},
		},
	}))

	run, err := e.Run(context.Background(), "recover", map[string]any{"n": 7})
	require.NoError(t, err)
	assert.Equal(t, StateCompleted, run.State)
	task := run.Jobs[0]
	assert.Equal(t, StateCompleted, task.State)
	assert.Equal(t, "retry", task.RecoveredBy)
	assert.Equal(t, 3, task.Attempts)
	assert.EqualValues(t, map[string]any{"value": "ok", "attempt": int64(3)}, task.Output)
	assert.Equal(t, map[string]any{"job": "next", "input": "ok"}, run.Output)
	assert.Equal(t, 3, calls)
}

func TestOnErrorAllFail(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	e := newTestEngine(t, nil)
	require.NoError(t, e.AddComponent("async-service", flaky(100, &calls, &mu)))
	require.NoError(t, e.AddWorkflow(&Workflow{
		ID: "unrecoverable",
		Jobs: []Job{{
			ID:        "async-task",
			Component: "async-service",
			OnError: []Job{{
				ID:        "retry",
				Component: "async-service",
				Retry:     Retry{MaxRetryCount: 3, Delay: time.Millisecond},
			}},
		}},
	}))

	run, err := e.Run(context.Background(), "unrecoverable", nil)
	require.Error(t, err)
	assert.Equal(t, StateFailed, run.State)
	assert.Equal(t, "job async-task: call 1 failed; recovery job retry: call 5 failed", err.Error())
	assert.Equal(t, 5, run.Jobs[0].Attempts)
	assert.Equal(t, 5, calls)
}

func TestRetryWaitsDelayOnClock(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	clk := newFakeClock()
	e := newTestEngine(t, &Options{Clock: clk})
	require.NoError(t, e.AddComponent("flaky", flaky(1, &calls, &mu)))
	require.NoError(t, e.AddWorkflow(&Workflow{
		ID:   "retry",
		Jobs: []Job{{ID: "j", Component: "flaky", Retry: Retry{MaxRetryCount: 1, Delay: 5 * time.Second}}},
	}))

	run, err := e.Start(context.Background(), "retry", nil)
	require.NoError(t, err)
	clk.WaitForTimer(t, 5*time.Second)
	mu.Lock()
	assert.Equal(t, 1, calls, "the retry must wait for the delay")
	mu.Unlock()
	clk.Advance(5 * time.Second)

	run, err = e.Wait(context.Background(), run.ID)
	require.NoError(t, err)
	assert.Equal(t, StateCompleted, run.State)
	assert.Equal(t, 2, run.Jobs[0].Attempts)
}

func TestAddWorkflowErrors(t *testing.T) {
	tests := []struct {
		name string
		w    Workflow
		want string
	}{
		{
			name: "unknown dependency",
			w:    Workflow{ID: "x", Jobs: []Job{{ID: "a", Component: "c"}, {ID: "b", Component: "c", DependsOn: []Dependency{{"y"}}}}},
			want: `workflow "x": jobs[1].depends_on: unknown job "y"`,
		},
		{
			name: "unknown job in or group",
			w:    Workflow{ID: "x", Jobs: []Job{{ID: "a", Component: "c"}, {ID: "b", Component: "c", DependsOn: []Dependency{{"a", "y"}}}}},
			want: `workflow "x": jobs[1].depends_on: unknown job "y"`,
		},
		{
			name: "empty group",
			w:    Workflow{ID: "x", Jobs: []Job{{ID: "a", Component: "c", DependsOn: []Dependency{{}}}}},
			want: `workflow "x": jobs[0].depends_on[0]: empty group; list at least one job id`,
		},
		{
			name: "self dependency",
			w:    Workflow{ID: "x", Jobs: []Job{{ID: "a", Component: "c", DependsOn: []Dependency{{"a"}}}}},
			want: `workflow "x": jobs[0].depends_on: job "a" depends on itself`,
		},
		{
			name: "cycle",
			w: Workflow{ID: "x", Jobs: []Job{
				{ID: "a", Component: "c", DependsOn: []Dependency{{"b"}}},
				{ID: "b", Component: "c", DependsOn: []Dependency{{"a"}}},
			}},
			want: `workflow "x": jobs[0].depends_on: dependency cycle a -> b -> a; a ${jobs.ID} reference also counts as a dependency`,
		},
		{
			name: "cycle through reference",
			w: Workflow{ID: "x", Jobs: []Job{
				{ID: "start", Component: "c"},
				{ID: "a", Component: "c", Input: "${jobs.b.output}", DependsOn: []Dependency{{"start"}}},
				{ID: "b", Component: "c", Output: map[string]any{"v": "${jobs.a.output}"}},
			}},
			want: `workflow "x": jobs[1].depends_on: dependency cycle a -> b -> a; a ${jobs.ID} reference also counts as a dependency`,
		},
		{
			name: "cycle in or group",
			w: Workflow{ID: "x", Jobs: []Job{
				{ID: "a", Component: "c", DependsOn: []Dependency{{"b", "c"}}},
				{ID: "b", Component: "c", DependsOn: []Dependency{{"a"}}},
				{ID: "c", Component: "c", DependsOn: []Dependency{{"a"}}},
			}},
			want: `workflow "x": jobs[0].depends_on: dependency cycle a -> b -> a; a ${jobs.ID} reference also counts as a dependency`,
		},
		{
			name: "unknown component",
			w:    Workflow{ID: "x", Jobs: []Job{{ID: "a", Component: "nope"}}},
			want: `workflow "x": jobs[0].component: unknown component "nope"; add it before the workflow`,
		},
		{
			name: "missing component",
			w:    Workflow{ID: "x", Jobs: []Job{{ID: "a"}}},
			want: `workflow "x": jobs[0].component: missing; name a component`,
		},
		{
			name: "unknown single component",
			w:    Workflow{ID: "x", Component: "nope"},
			want: `workflow "x": component: unknown component "nope"; add it before the workflow`,
		},
		{
			name: "no jobs",
			w:    Workflow{ID: "x"},
			want: `workflow "x": jobs: missing; list jobs or name a component`,
		},
		{
			name: "duplicate job",
			w:    Workflow{ID: "x", Jobs: []Job{{ID: "a", Component: "c"}, {ID: "a", Component: "c"}}},
			want: `workflow "x": jobs[1].id: duplicate job id "a" (also jobs[0])`,
		},
		{
			name: "invalid job id",
			w:    Workflow{ID: "x", Jobs: []Job{{ID: "my.job", Component: "c"}}},
			want: `workflow "x": jobs[0].id: "my.job" is not a valid job id; use letters, digits, "_" and "-" between them`,
		},
		{
			name: "unknown job in template",
			w:    Workflow{ID: "x", Jobs: []Job{{ID: "a", Component: "c", Input: map[string]any{"u": "${jobs.zz.output}"}}}},
			want: `workflow "x": jobs[0].input: unknown job "zz" in ${jobs.zz...}`,
		},
		{
			name: "own output",
			w:    Workflow{ID: "x", Jobs: []Job{{ID: "a", Component: "c", Output: "${jobs.a.output}"}}},
			want: `workflow "x": jobs[0].output: job "a" refers to its own output`,
		},
		{
			name: "unknown job in workflow output",
			w:    Workflow{ID: "x", Output: "${jobs.q.output}", Jobs: []Job{{ID: "a", Component: "c"}}},
			want: `workflow "x": output: unknown job "q" in ${jobs.q...}`,
		},
		{
			name: "negative retry",
			w:    Workflow{ID: "x", Jobs: []Job{{ID: "a", Component: "c", Retry: Retry{MaxRetryCount: -1}}}},
			want: `workflow "x": jobs[0].retry.max_retry_count: -1 is negative`,
		},
		{
			name: "recovery job with depends_on",
			w: Workflow{ID: "x", Jobs: []Job{{ID: "a", Component: "c", OnError: []Job{
				{Component: "c", DependsOn: []Dependency{{"a"}}},
			}}}},
			want: `workflow "x": jobs[0].on_error[0].depends_on: not allowed in a recovery job`,
		},
		{
			name: "recovery job with unknown component",
			w:    Workflow{ID: "x", Jobs: []Job{{ID: "a", Component: "c", OnError: []Job{{Component: "nope"}}}}},
			want: `workflow "x": jobs[0].on_error[0].component: unknown component "nope"; add it before the workflow`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEngine(t, nil)
			require.NoError(t, e.AddComponent("c", Func(func(ctx context.Context, input any) (any, error) { return nil, nil })))
			err := e.AddWorkflow(&tt.w)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidWorkflow)
			assert.EqualError(t, err, tt.want)
		})
	}
}

func TestAddWorkflowOrGroupBreaksCycle(t *testing.T) {
	e := newTestEngine(t, nil)
	require.NoError(t, e.AddComponent("c", Func(func(ctx context.Context, input any) (any, error) { return "v", nil })))
	require.NoError(t, e.AddWorkflow(&Workflow{ID: "x", Jobs: []Job{
		{ID: "a", Component: "c", DependsOn: []Dependency{{"b", "c"}}},
		{ID: "b", Component: "c", DependsOn: []Dependency{{"a"}}},
		{ID: "c", Component: "c"},
	}}))

	run, err := e.Run(context.Background(), "x", nil)
	require.NoError(t, err)
	assert.Equal(t, StateCompleted, run.State)
}

func TestAddWorkflowTemplateError(t *testing.T) {
	e := newTestEngine(t, nil)
	require.NoError(t, e.AddComponent("c", Func(func(ctx context.Context, input any) (any, error) { return nil, nil })))
	err := e.AddWorkflow(&Workflow{ID: "x", Jobs: []Job{{ID: "a", Component: "c", Input: "${input.a"}}})
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrInvalidWorkflow)
	assert.ErrorIs(t, err, expr.ErrSyntax)
	assert.Contains(t, err.Error(), `workflow "x": jobs[0].input: `)
}

func TestAddWorkflowDuplicateID(t *testing.T) {
	e := newTestEngine(t, nil)
	require.NoError(t, e.AddComponent("c", Func(func(ctx context.Context, input any) (any, error) { return nil, nil })))
	require.NoError(t, e.AddWorkflow(&Workflow{ID: "x", Component: "c"}))
	err := e.AddWorkflow(&Workflow{ID: "x", Component: "c"})
	assert.ErrorIs(t, err, ErrInvalidWorkflow)
	assert.EqualError(t, err, `workflow "x": id already added`)
}

func TestWorkflowsListing(t *testing.T) {
	e := newTestEngine(t, nil)
	require.NoError(t, e.AddComponent("c", Func(func(ctx context.Context, input any) (any, error) { return nil, nil })))
	require.NoError(t, e.AddWorkflow(&Workflow{ID: "b", Title: "B", Description: "second", Component: "c"}))
	require.NoError(t, e.AddWorkflow(&Workflow{ID: "a", Title: "A", Component: "c"}))
	assert.Equal(t, []WorkflowInfo{{ID: "b", Title: "B", Description: "second"}, {ID: "a", Title: "A"}}, e.Workflows())
}

func TestStartUnknownWorkflow(t *testing.T) {
	e := newTestEngine(t, nil)
	_, err := e.Start(context.Background(), "nope", nil)
	assert.ErrorIs(t, err, ErrUnknownWorkflow)
	_, err = e.Get(context.Background(), "nope")
	assert.ErrorIs(t, err, ErrUnknownRun)
	assert.ErrorIs(t, e.Cancel(context.Background(), "nope"), ErrUnknownRun)
	_, err = e.Wait(context.Background(), "nope")
	assert.ErrorIs(t, err, ErrUnknownRun)
}

// blockingEngine returns an engine with a workflow "block" whose only job
// blocks until release is closed or its context ends.
func blockingEngine(t *testing.T, release chan struct{}, started chan string) *Engine {
	t.Helper()
	e := newTestEngine(t, nil)
	require.NoError(t, e.AddComponent("block", componentFunc(func(ctx context.Context, call *Call) (any, error) {
		started <- call.RunID
		select {
		case <-release:
			return "released", nil
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	})))
	require.NoError(t, e.AddWorkflow(&Workflow{ID: "block", Component: "block"}))
	return e
}

func TestCancelRun(t *testing.T) {
	started := make(chan string, 1)
	e := blockingEngine(t, make(chan struct{}), started)
	run, err := e.Start(context.Background(), "block", nil)
	require.NoError(t, err)
	<-started

	require.NoError(t, e.Cancel(context.Background(), run.ID))
	stored, err := e.Get(context.Background(), run.ID)
	require.NoError(t, err)
	assert.Equal(t, StateCancelled, stored.State, "Cancel returns after the end state is saved")

	run, err = e.Wait(context.Background(), run.ID)
	assert.ErrorIs(t, err, ErrCancelled)
	assert.Equal(t, StateCancelled, run.State)
	assert.Equal(t, StateCancelled, run.Jobs[0].State)
	assert.Equal(t, "run cancelled", run.Error)
	assert.NoError(t, e.Cancel(context.Background(), run.ID), "cancelling an ended run does nothing")
}

func TestRunContextEndCancels(t *testing.T) {
	started := make(chan string, 1)
	e := blockingEngine(t, make(chan struct{}), started)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	run, err := e.Run(ctx, "block", nil)
	assert.ErrorIs(t, err, ErrCancelled)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, StateCancelled, run.State)
}

func TestShutdownLetsRunsFinish(t *testing.T) {
	release := make(chan struct{})
	started := make(chan string, 1)
	e := blockingEngine(t, release, started)
	run, err := e.Start(context.Background(), "block", nil)
	require.NoError(t, err)
	<-started

	shutdown := make(chan error, 1)
	go func() { shutdown <- e.Shutdown(context.Background()) }()
	require.Eventually(t, func() bool {
		_, err := e.Start(context.Background(), "block", nil)
		return errors.Is(err, ErrClosed)
	}, 10*time.Second, time.Millisecond)
	close(release)
	require.NoError(t, <-shutdown)

	run, err = e.Get(context.Background(), run.ID)
	require.NoError(t, err)
	assert.Equal(t, StateCompleted, run.State)
	assert.Equal(t, "released", run.Output)
}

func TestShutdownDeadlineCancelsRuns(t *testing.T) {
	started := make(chan string, 1)
	e := blockingEngine(t, make(chan struct{}), started)
	run, err := e.Start(context.Background(), "block", nil)
	require.NoError(t, err)
	<-started

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = e.Shutdown(ctx)
	assert.ErrorIs(t, err, context.Canceled)

	run, err = e.Get(context.Background(), run.ID)
	require.NoError(t, err)
	assert.Equal(t, StateCancelled, run.State)
	assert.Equal(t, "run cancelled: engine shut down", run.Error)
}

func TestCloseTwice(t *testing.T) {
	e := New(nil)
	require.NoError(t, e.Close())
	assert.ErrorIs(t, e.Close(), ErrClosed)
	_, err := e.Start(context.Background(), "x", nil)
	assert.Error(t, err)
}

func TestRunRecordProgress(t *testing.T) {
	release := make(chan struct{})
	started := make(chan string, 1)
	e := blockingEngine(t, release, started)
	run, err := e.Start(context.Background(), "block", map[string]any{"n": 1})
	require.NoError(t, err)
	assert.Contains(t, []State{StatePending, StateProcessing}, run.State)
	assert.Len(t, run.ID, 26)
	<-started

	stored, err := e.Get(context.Background(), run.ID)
	require.NoError(t, err)
	assert.Equal(t, StateProcessing, stored.State)
	assert.Equal(t, StateProcessing, stored.Jobs[0].State)
	assert.NotNil(t, stored.Jobs[0].StartedAt)
	close(release)

	_, err = e.Wait(context.Background(), run.ID)
	require.NoError(t, err)
	list, err := e.List(context.Background(), Query{WorkflowID: "block", State: StateCompleted})
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, run.ID, list[0].ID)
	assert.Equal(t, map[string]any{"n": float64(1)}, list[0].Input, "the memory store keeps JSON")
}

func TestRunOutputNotJSON(t *testing.T) {
	e := newTestEngine(t, nil)
	require.NoError(t, e.AddComponent("chan", Func(func(ctx context.Context, input any) (any, error) {
		return make(chan int), nil
	})))
	require.NoError(t, e.AddWorkflow(&Workflow{ID: "bad", Component: "chan"}))

	run, err := e.Run(context.Background(), "bad", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "save run record: ")
	assert.Equal(t, StateFailed, run.State)

	stored, err := e.Get(context.Background(), run.ID)
	require.NoError(t, err)
	assert.Equal(t, StateFailed, stored.State, "the stored run must reach an end state")
}

func TestCloseAfterShutdown(t *testing.T) {
	e := New(nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = e.Shutdown(ctx)
	require.NoError(t, e.Close())
	assert.ErrorIs(t, e.Close(), ErrClosed)
}
