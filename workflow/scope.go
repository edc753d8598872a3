package workflow

import (
	"time"

	"github.com/tether-go/tether/expr"
)

// timestampLayout formats ${context.timestamp}: RFC 3339 in UTC with
// milliseconds.
const timestampLayout = "2006-01-02T15:04:05.000Z07:00"

// scope resolves the sources of one template evaluation. The sources the
// engine defines (input, output, response, result, jobs, context) come
// from the scope only, so a caller-supplied source cannot shadow them.
// Every other name goes to base.
type scope struct {
	base   expr.Resolver
	values map[string]expr.Value
}

var _ expr.Resolver = (*scope)(nil)

func newScope(base expr.Resolver, context map[string]any) *scope {
	s := &scope{base: base, values: make(map[string]expr.Value, 4)}
	if context != nil {
		s.values["context"] = expr.Of(context)
	}
	return s
}

// with sets source name to v and returns s.
func (s *scope) with(name string, v any) *scope {
	s.values[name] = expr.Of(v)
	return s
}

// withValue sets source name to v and returns s.
func (s *scope) withValue(name string, v expr.Value) *scope {
	s.values[name] = v
	return s
}

func (s *scope) Resolve(source string) (expr.Value, bool) {
	if v, ok := s.values[source]; ok {
		return v, true
	}
	switch source {
	case "input", "output", "response", "result", "jobs", "context":
		return expr.Value{}, false
	}
	return s.base.Resolve(source)
}

// contextFields returns the value of ${context}.
func contextFields(runID, workflowID, jobID string, at time.Time) map[string]any {
	fields := map[string]any{
		"run_id":      runID,
		"workflow_id": workflowID,
		"timestamp":   at.UTC().Format(timestampLayout),
	}
	if jobID != "" {
		fields["job_id"] = jobID
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
