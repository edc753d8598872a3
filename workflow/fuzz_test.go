package workflow

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestJobRefs(t *testing.T) {
	tests := []struct {
		value any
		want  []string
	}{
		{"${jobs.generate.output.image_url}", []string{"generate"}},
		{"${jobs.process-message.output}", []string{"process-message"}},
		{"${jobs.a.output.n - jobs.b.output.n}", []string{"a", "b"}},
		{"${jobs.a-b}", []string{"a-b"}},
		{"${jobs.a- b}", []string{"a"}},
		{"${x | ${jobs.fallback.output}}", []string{"fallback"}},
		{"jobs.outside.output", nil},
		{"$${jobs.escaped}", nil},
		{"${myjobs.x}", nil},
		{"${input.jobs.x}", nil},
		{map[string]any{"b": "${jobs.b.output}", "a": []any{"${jobs.a.output}", 3}}, []string{"a", "b"}},
		{"${jobs.a.output} and ${jobs.a.output.x}", []string{"a"}},
		{"${jobs}", nil},
		{42, nil},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, jobRefs(tt.value), "value %v", tt.value)
	}
}

func FuzzJobRefs(f *testing.F) {
	for _, seed := range []string{
		"${jobs.generate.output.image_url}",
		"${jobs.a-b.output - jobs.c.output}",
		"$${jobs.x} ${jobs.y",
		"${a | ${jobs.b | ${jobs.c}}}",
		"}}}${${${jobs.",
		"${jobs.-x}",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, ref := range jobRefsInText(text) {
			if ref == "" {
				t.Fatalf("empty job id from %q", text)
			}
			if !strings.Contains(text, "jobs."+ref) {
				t.Fatalf("job id %q does not appear in %q", ref, text)
			}
			if strings.HasPrefix(ref, "-") || strings.HasSuffix(ref, "-") {
				t.Fatalf("job id %q from %q starts or ends with -", ref, text)
			}
		}
	})
}
