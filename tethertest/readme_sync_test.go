package tethertest_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadmeSnippetsAreTests checks that the Go snippets of README.md's
// "Embedding in a Go service" and "Testing your workflows" sections are,
// below their package clause, the very code of tests in this repository,
// so that the README cannot drift from code that compiles and passes.
func TestReadmeSnippetsAreTests(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	goBlock := regexp.MustCompile("(?s)```go\n(.*?)```")

	for section, file := range map[string]string{
		"## Embedding in a Go service": "../examples/embed/readme_test.go",
		"## Testing your workflows":    "readme_test.go",
	} {
		at := strings.Index(string(readme), section)
		require.GreaterOrEqual(t, at, 0, "README.md has the section %q", section)
		m := goBlock.FindStringSubmatch(string(readme)[at:])
		require.NotNil(t, m, "the section %q has a Go snippet", section)
		_, body, _ := strings.Cut(m[1], "\n") // below the package clause

		src, err := os.ReadFile(file)
		require.NoError(t, err)
		assert.Contains(t, string(src), strings.TrimSpace(body), "the snippet of %q is the code of %s", section, file)
	}
}
