// Package workflow runs workflows: jobs that call components, ordered by
// their dependencies, with run state kept in a [Store].
//
// # Components
//
// A job calls a component by id. Components come in two kinds:
//
//   - Go components implement [Component], or are plain functions wrapped
//     in [Func], and are registered with [Engine.AddComponent]. Services
//     embed their own steps this way, and tests fake remote services.
//   - http-client components, configured with [HTTPClient] and
//     registered with [Engine.AddHTTPClient], send one HTTP request whose
//     body is JSON. With a [Completion] they then wait for the task they
//     started: for a callback delivered to the engine's [waiter.Waiter]
//     (usually by an http-callback listener), or by polling a status URL.
//
// Components must be added before the workflows that use them.
//
// # Workflows and jobs
//
// A [Workflow] lists [Job]s. A job starts when all of its dependencies
// are met and runs in parallel with every other job whose dependencies
// are met:
//
//   - Job.DependsOn is a list of [Dependency] groups. Every group must be
//     met (AND), and a group is met when any one of its jobs has
//     completed (OR): DependsOn: []Dependency{{"a"}, {"b", "c"}} waits for
//     a, and for b or c.
//   - A job whose Input or Output (or a recovery job's) refers to
//     ${jobs.X...} waits for job X as well, without listing it.
//
// AddWorkflow rejects unknown components and jobs, templates that do not
// compile and dependency cycles, with an error that wraps
// [ErrInvalidWorkflow] and names the field, for example
// `workflow "x": jobs[1].depends_on: unknown job "y"`.
//
// A workflow without jobs names a component instead; it runs as a single
// job with the component's id, whose input is the workflow input.
//
// # Templates and sources
//
// Every Input, Output, Body, header and URL is a template of package
// expr, compiled once when the workflow or component is added. The
// engine provides these sources:
//
//	input     the workflow input (workflow and job templates), or the
//	          job's input (component templates, job Output)
//	jobs      completed jobs: ${jobs.ID.output...}
//	output    the component's output (job Output), or the default output
//	          of the workflow (workflow Output)
//	response  the first HTTP response, decoded as JSON, or its text
//	result    the callback's result, or the polling result
//	context   run_id, workflow_id, job_id, and timestamp
//
// ${context.timestamp} is the time the job started, or the time the run
// was created in workflow templates. It is RFC 3339 text in UTC with
// milliseconds, such as "2026-01-02T03:04:05.000Z".
//
// Every other source, such as env or gateway:8090, comes from
// Options.Sources.
//
// The output of a workflow without an Output template is the output of
// the one job that no other job depends on; when several jobs end the
// graph, it is a map from their ids to their outputs.
//
// # Errors and recovery
//
// A job whose component fails is called again Retry.MaxRetryCount times,
// Retry.Delay apart. If it still fails, its OnError recovery jobs are
// tried in order, each with its own Retry, and the first one that
// completes takes the failed job's place: its output goes through the
// failed job's Output template. This recovery job repeats the call up to
// three times, five seconds apart, with the failed job's input:
//
//	workflow.Job{
//		ID:        "async-task",
//		Component: "async-service",
//		OnError: []workflow.Job{{
//			ID:        "retry",
//			Component: "async-service",
//			Retry:     workflow.Retry{MaxRetryCount: 3, Delay: 5 * time.Second},
//		}},
//	}
//
// A job that still fails fails its run and cancels the other jobs of the
// run. Errors name the job (`job generate: callback "run-123" not
// received within 5m0s`) and wrap the cause, so that errors.Is finds
// [ErrTimeout], [ErrCancelled], waiter.ErrRemoteFailed, and errors.As
// finds an [*HTTPError] for a response outside 200–299.
//
// # Runs
//
// [Engine.Start] creates a [Run] and returns at once; [Engine.Run] also
// waits for it to end. A run is pending, then processing, and ends
// completed (with Output), failed (with Error) or cancelled. The engine
// saves the record on every change of the run or of one of its jobs, so
// [Engine.Get] and [Engine.List] show progress. [Engine.Cancel] stops a
// run; [Engine.Shutdown] lets the runs in progress finish until its
// context ends and then cancels them.
//
// Timeouts, retry delays and polling intervals are measured on
// Options.Clock, so tests can drive them with a fake clock.
package workflow
