package workflow

import (
	"context"
	"time"
)

// State is the state of a run or of one job in a run.
type State string

// States of runs and jobs. A run moves from pending to processing and
// ends in completed, failed or cancelled; it never leaves an end state.
const (
	// StatePending means the run or job has not started yet.
	StatePending State = "pending"
	// StateProcessing means the run or job is executing or waiting for a
	// callback.
	StateProcessing State = "processing"
	// StateCompleted means the run or job ended with an output.
	StateCompleted State = "completed"
	// StateFailed means the run or job ended with an error.
	StateFailed State = "failed"
	// StateCancelled means the run or job was stopped before it ended.
	StateCancelled State = "cancelled"
)

// Done reports whether s is an end state: completed, failed or cancelled.
func (s State) Done() bool {
	return s == StateCompleted || s == StateFailed || s == StateCancelled
}

// Run is the record of one execution of a workflow. It is stored as JSON,
// so every field survives a round trip through encoding/json (numbers in
// Input and Output come back as float64 or json.Number, depending on the
// store).
type Run struct {
	// ID identifies the run: 26 random characters from the base32
	// alphabet, safe in URLs.
	ID string `json:"id"`
	// WorkflowID is the id of the workflow the run executes.
	WorkflowID string `json:"workflow_id"`
	// State is the run's state.
	State State `json:"state"`
	// Input is the input the run was started with.
	Input any `json:"input,omitempty"`
	// Output is the workflow's output, set when State is completed.
	Output any `json:"output,omitempty"`
	// Error describes why the run failed or was cancelled.
	Error string `json:"error,omitempty"`
	// ErrorKind classifies Error, so that the error that Get's callers
	// rebuild from a stored record still matches the package's
	// sentinels: "timeout" (ErrTimeout), "remote_failed"
	// (waiter.ErrRemoteFailed), "http" (an *HTTPError) or "cancelled"
	// (ErrCancelled). Empty for other errors.
	ErrorKind string `json:"error_kind,omitempty"`
	// Jobs lists the state of each job, in the workflow's order.
	Jobs []JobRun `json:"jobs"`
	// CreatedAt is the time Start accepted the run.
	CreatedAt time.Time `json:"created_at"`
	// UpdatedAt is the time of the last change to the record.
	UpdatedAt time.Time `json:"updated_at"`
}

// JobRun is the state of one job within a run.
type JobRun struct {
	// ID is the job's id.
	ID string `json:"id"`
	// State is the job's state. Jobs that never started when their run
	// ended stay pending.
	State State `json:"state"`
	// Output is the job's rendered output, set when State is completed.
	Output any `json:"output,omitempty"`
	// Error describes why the job failed or was cancelled.
	Error string `json:"error,omitempty"`
	// Attempts counts the component calls made for the job, retries and
	// recovery jobs included.
	Attempts int `json:"attempts,omitempty"`
	// RecoveredBy is the id of the OnError job whose output took the
	// place of the failed job's, if any.
	RecoveredBy string `json:"recovered_by,omitempty"`
	// StartedAt is the time the job started; nil while pending.
	StartedAt *time.Time `json:"started_at,omitempty"`
	// EndedAt is the time the job ended; nil until then.
	EndedAt *time.Time `json:"ended_at,omitempty"`
}

// Query selects runs for [Store.List] and [Engine.List]. Zero fields
// select everything.
type Query struct {
	// WorkflowID keeps only runs of this workflow.
	WorkflowID string
	// State keeps only runs in this state.
	State State
	// Limit caps the number of runs returned; zero or less means no cap.
	Limit int
}

// Store keeps run records. The engine saves a run each time its state or
// a job's state changes. Implementations must be safe for concurrent use
// and must return copies: a caller may modify a returned Run freely.
type Store interface {
	// Save creates or replaces the record with run.ID.
	Save(ctx context.Context, run *Run) error
	// Get returns the record with the given id, or an error wrapping
	// ErrUnknownRun.
	Get(ctx context.Context, id string) (*Run, error)
	// List returns the records selected by q, newest first.
	List(ctx context.Context, q Query) ([]*Run, error)
}
