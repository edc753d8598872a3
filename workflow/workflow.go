package workflow

import "time"

// Workflow describes one workflow: jobs that call components, joined into
// a directed acyclic graph by their dependencies. The zero values of the
// optional fields select the defaults documented on each field.
type Workflow struct {
	// ID names the workflow in Start, Run and the run records. It must
	// be unique within an engine and must not be empty.
	ID string
	// Title is a short human-readable name, listed by Engine.Workflows.
	Title string
	// Description explains what the workflow does, listed by
	// Engine.Workflows.
	Description string
	// Input is a template over the run's input (${input}), ${context}
	// and the engine's sources. Its value becomes ${input} for every job.
	// Nil passes the run's input through unchanged.
	Input any
	// Output is a template over ${input} (the workflow input after the
	// Input template), ${jobs}, ${context} and ${output}, where ${output}
	// is the default output: the output of the only job that no other
	// job depends on, or a map from job id to output when several jobs
	// end the graph. Nil makes the default output the run's output.
	Output any
	// Component is the id of the component that a workflow without Jobs
	// runs as its single, implicit job (with id Component). It is
	// ignored when Jobs is not empty.
	Component string
	// Jobs are the workflow's steps. Jobs without dependencies between
	// them run in parallel.
	Jobs []Job
}

// Job is one step of a workflow: it renders its input, calls a component
// and renders its output.
type Job struct {
	// ID names the job within its workflow, for DependsOn and for
	// ${jobs.ID.output}. IDs must be unique within the workflow and made
	// of letters, digits and "_", with single "-" between them. An empty
	// ID defaults to "job-N" where N is the job's index (for a recovery
	// job in OnError: "JOB.on_error[N]").
	ID string
	// Component is the id of the component the job calls. Required.
	Component string
	// Input is a template over the workflow's ${input}, ${jobs},
	// ${context} and the engine's sources. Nil means ${input}.
	Input any
	// Output is a template over the component's ${output}, the job's
	// ${input}, ${jobs} and ${context}. Nil keeps the component's output.
	Output any
	// DependsOn lists the job's dependencies. All of them must be met
	// before the job starts (AND), and each one is met as soon as any of
	// its job ids has completed (OR). A job that refers to ${jobs.X...}
	// in Input or Output also waits for job X, without being listed here.
	DependsOn []Dependency
	// OnError lists recovery jobs, tried in order when this job fails
	// after its own retries. The first recovery job that completes takes
	// the failed job's place: its output goes through this job's Output
	// template as if the component had returned it, and jobs that depend
	// on this job continue. When every recovery job fails too, the job
	// and its run fail. In a recovery job's templates, ${input} is this
	// job's rendered input, and Input defaults to it, so an entry with
	// only Component and Retry is a plain retry. Recovery jobs may not
	// have DependsOn or OnError; their ${jobs.ID} references count as
	// dependencies of this job.
	OnError []Job
	// Retry repeats the job's component call when it fails, before
	// OnError is consulted. The zero value means no retry.
	Retry Retry
}

// Dependency is one entry of Job.DependsOn: a group of job ids of which
// any one is enough. A group of a single id is a plain dependency.
type Dependency []string

// Retry is the policy for repeating a failed component call.
type Retry struct {
	// MaxRetryCount is the number of calls made after the first one
	// failed. Zero means no retry; negative values are invalid.
	MaxRetryCount int
	// Delay is the wait before each repeated call, measured on the
	// engine's clock.
	Delay time.Duration
}
