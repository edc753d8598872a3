package workflow

import (
	"fmt"
	"time"

	"github.com/tether-go/tether/expr"
)

// timestampLayout formats ${context.timestamp}: RFC 3339 in UTC with
// milliseconds.
const timestampLayout = "2006-01-02T15:04:05.000Z07:00"

// Indexes of the sources that the engine defines, in scope.values and
// bits of scope.set.
const (
	sourceInput = iota
	sourceOutput
	sourceResponse
	sourceResult
	sourceJobs
	sourceContext // read from scope.context, not scope.values
	sourceCount
)

// sourceIndex returns the index of an engine-defined source, or -1 for
// any other name.
func sourceIndex(name string) int {
	switch name {
	case "input":
		return sourceInput
	case "output":
		return sourceOutput
	case "response":
		return sourceResponse
	case "result":
		return sourceResult
	case "jobs":
		return sourceJobs
	case "context":
		return sourceContext
	}
	return -1
}

// scope resolves the sources of one template evaluation. The sources the
// engine defines (input, output, response, result, jobs, context) come
// from the scope only, so a caller-supplied source cannot shadow them.
// Every other name goes to base.
//
// The sources are fields rather than a map, and ${context} is kept as
// its fields and built as a map only when a template reads it, because a
// job waiting for a callback keeps its scope for the whole wait.
type scope struct {
	base    expr.Resolver
	context contextFields
	values  [sourceContext]expr.Value
	set     uint8 // bit i set: source i is present
}

var _ expr.Resolver = (*scope)(nil)

// newScope returns a scope whose ${context} has the given fields, or a
// scope without ${context} when context is nil.
func newScope(base expr.Resolver, context *contextFields) *scope {
	s := &scope{base: base}
	if context != nil {
		s.context = *context
		s.set |= 1 << sourceContext
	}
	return s
}

// with sets source name to v and returns s.
func (s *scope) with(name string, v any) *scope {
	return s.withValue(name, expr.Of(v))
}

// withValue sets source name to v and returns s. name must be one of the
// engine's sources other than context.
func (s *scope) withValue(name string, v expr.Value) *scope {
	i := sourceIndex(name)
	if i < 0 || i == sourceContext {
		panic(fmt.Sprintf("workflow: scope cannot set source %q", name))
	}
	s.values[i] = v
	s.set |= 1 << i
	return s
}

// without removes source name, so that the scope no longer keeps its
// value alive, and returns s.
func (s *scope) without(name string) *scope {
	if i := sourceIndex(name); i >= 0 {
		if i < sourceContext {
			s.values[i] = expr.Value{}
		}
		s.set &^= 1 << i
	}
	return s
}

// copySource sets source name of s as it is in from, present or absent.
func (s *scope) copySource(from *scope, name string) {
	i := sourceIndex(name)
	if i < 0 {
		return
	}
	if i == sourceContext {
		s.context = from.context
	} else {
		s.values[i] = from.values[i]
	}
	s.set = s.set&^(1<<i) | from.set&(1<<i)
}

func (s *scope) Resolve(source string) (expr.Value, bool) {
	i := sourceIndex(source)
	switch {
	case i < 0:
		return s.base.Resolve(source)
	case s.set&(1<<i) == 0:
		return expr.Value{}, false
	case i == sourceContext:
		return expr.Of(s.context.value()), true
	}
	return s.values[i], true
}

// contextFields are the fields of ${context}.
type contextFields struct {
	runID      string
	workflowID string
	jobID      string // empty: no job_id field
	at         time.Time
}

// newContext returns the fields of ${context}. jobID is empty outside a
// job.
func newContext(runID, workflowID, jobID string, at time.Time) *contextFields {
	return &contextFields{runID: runID, workflowID: workflowID, jobID: jobID, at: at}
}

// value returns the value of ${context}, a new map on each call.
func (c *contextFields) value() map[string]any {
	fields := map[string]any{
		"run_id":      c.runID,
		"workflow_id": c.workflowID,
		"timestamp":   c.at.UTC().Format(timestampLayout),
	}
	if c.jobID != "" {
		fields["job_id"] = c.jobID
	}
	return fields
}

// eval evaluates t in s; a nil template gives fallback.
func eval(t *expr.Template, s *scope, fallback any) (any, error) {
	if t == nil {
		return fallback, nil
	}
	return t.Eval(s)
}
