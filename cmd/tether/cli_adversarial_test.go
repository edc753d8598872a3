package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const advComponentYAML = `component:
  type: http-client
  endpoint: http://127.0.0.1:1/x
`

// validateWithin runs tether validate on content and fails when it takes
// longer than limit. The output names the file tether.yml.
func validateWithin(t *testing.T, content string, limit time.Duration) (int, string) {
	t.Helper()
	path := writeFile(t, content)
	start := time.Now()
	code, out, _ := runCLI(t, "validate", "-f", path)
	assert.Less(t, time.Since(start), limit, "validate took too long")
	return code, strings.ReplaceAll(strings.TrimSpace(out), path, "tether.yml")
}

func TestAdversarialValidateHostileYAML(t *testing.T) {
	const n = 200_000
	cases := []struct {
		name, content, want string
	}{
		{"alias bomb", advComponentYAML + `  body: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
  params:
    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
    e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
    f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
    g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
    h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
`, "tether.yml:1: component: yaml: document contains excessive aliasing"},
		{"deep sequence", advComponentYAML + "  body: " + strings.Repeat("[", n) + strings.Repeat("]", n) + "\n",
			"tether.yml: invalid YAML: line 4: exceeded max depth of 10000"},
		{"deep mapping", advComponentYAML + "  body: " + strings.Repeat("{a: ", n) + "1" + strings.Repeat("}", n) + "\n",
			"tether.yml: invalid YAML: line 4: exceeded max depth of 10000"},
		{"binary", "\x00\xff\xfe", "tether.yml: invalid YAML: control characters are not allowed"},
		{"recursive alias", "component: &c\n  type: http-client\n  body: *c\n", "tether.yml:1: component: yaml: anchor 'c' value contains itself"},
		{"wrong top-level type", "42\n", "tether.yml:1: the top level must be a mapping with keys such as listener, gateway, components and workflow"},
		{"jobs as mapping", "workflow:\n  jobs: {a: 1}\n", "tether.yml: workflow: line 2: cannot use mapping as []compose.Job"},
		{"huge template", advComponentYAML + `  body: "` + strings.Repeat("${input.a}", 20_000) + `"` + "\n", "ok"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out := validateWithin(t, tc.content, 5*time.Second)
			if tc.want == "ok" {
				assert.Equal(t, 0, code)
			} else {
				assert.Equal(t, 1, code)
			}
			assert.Equal(t, tc.want, out)
		})
	}
}

func TestAdversarialValidateNotAFile(t *testing.T) {
	dir := t.TempDir()
	code, out, _ := runCLI(t, "validate", "-f", dir)
	assert.Equal(t, 1, code)
	assert.Equal(t, fmt.Sprintf("compose: read configuration: read %s: is a directory\n", dir), out)

	missing := filepath.Join(dir, "missing.yml")
	code, out, _ = runCLI(t, "validate", "-f", missing)
	assert.Equal(t, 1, code)
	assert.Equal(t, fmt.Sprintf("compose: read configuration: open %s: no such file or directory\n", missing), out)
}

// A configuration with a huge mapping is rejected quickly with a clear
// error, because the YAML decoder checks duplicate keys pair by pair.
func TestAdversarialValidateManyKeys(t *testing.T) {
	var b strings.Builder
	b.WriteString(advComponentYAML + "  body:\n")
	for i := 0; i < 100_000; i++ {
		fmt.Fprintf(&b, "    k%d: 1\n", i)
	}
	code, out := validateWithin(t, b.String(), 5*time.Second)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "a mapping with 100000 keys: at most 10000 keys per mapping are accepted")
}

// --input must be a single JSON value, so that a mistyped input is not
// silently cut short.
func TestAdversarialRunInputTrailingData(t *testing.T) {
	path := writeFile(t, "controller: {disabled: true}\n"+advComponentYAML)
	code, _, errOut := runCLI(t, "run", "-f", path, "--input", `{"a":1} {"b":2}`)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "invalid --input")
}

func TestAdversarialValidateLeavesNoFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tether.yml")
	require.NoError(t, os.WriteFile(path, []byte(advComponentYAML), 0o600))
	code, out, _ := runCLI(t, "validate", "-f", path)
	assert.Equal(t, 0, code)
	assert.Equal(t, "ok\n", out)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1)
}
