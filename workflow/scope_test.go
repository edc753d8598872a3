package workflow

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/expr"
)

func TestScopeContextAndSources(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	base := expr.Sources{"env": expr.Of("base"), "input": expr.Of("shadowed")}
	s := newScope(base, newContext("r1", "w", "j", at)).with("input", map[string]any{"n": 1})

	template, err := expr.Compile("${context}")
	require.NoError(t, err)
	got, err := template.Eval(s)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"run_id": "r1", "workflow_id": "w", "job_id": "j", "timestamp": "2026-01-02T03:04:05.006Z"}, got)

	template, err = expr.Compile("${input.n} ${env}")
	require.NoError(t, err)
	text, err := template.EvalString(s)
	require.NoError(t, err)
	assert.Equal(t, "1 base", text)

	_, ok := s.Resolve("result")
	assert.False(t, ok, "an unset engine source is absent, not taken from base")

	s.with("response", nil)
	_, ok = s.Resolve("response")
	assert.True(t, ok, "a source set to nil is present")
	s.without("response")
	_, ok = s.Resolve("response")
	assert.False(t, ok, "without removes the source")

	other := newScope(base, nil)
	other.copySource(s, "input")
	other.copySource(s, "context")
	other.copySource(s, "response")
	_, ok = other.Resolve("input")
	assert.True(t, ok, "input copied")
	_, ok = other.Resolve("context")
	assert.True(t, ok, "context copied")
	_, ok = other.Resolve("response")
	assert.False(t, ok, "an absent source stays absent")
}

func TestRunContextHasNoJobID(t *testing.T) {
	c := newContext("r1", "w", "", time.Unix(0, 0))
	_, ok := c.value()["job_id"]
	assert.False(t, ok)
}
