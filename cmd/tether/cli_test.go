package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tether.yml")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestValidateOK(t *testing.T) {
	code, out, _ := runCLI(t, "validate", "-f", "../../examples/async-image/tether.yml")
	assert.Equal(t, 0, code)
	assert.Equal(t, "ok\n", out)
}

func TestValidateReportsProblems(t *testing.T) {
	path := writeFile(t, `
listener:
  type: http-callback
  runtime: docker
  callbacks:
    - path: /a
    - method: POST
`)
	code, out, _ := runCLI(t, "validate", "-f", path)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "tether.yml:4: listener.runtime: docker is not supported")
	assert.Contains(t, out, "tether.yml:7: listener.callbacks[1].path: required")
}

func TestValidateMissingDefaultFile(t *testing.T) {
	t.Chdir(t.TempDir())
	code, out, _ := runCLI(t, "validate")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "no configuration file found: create tether.yml or pass -f FILE")
}

func TestValidateFindsModelComposeFile(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "model-compose.yml"), []byte("listener: {type: http-callback, path: /cb}\n"), 0o600))
	t.Chdir(dir)
	code, out, _ := runCLI(t, "validate")
	assert.Equal(t, 0, code)
	assert.Equal(t, "ok\n", out)
}

func TestRunRejectsBadInput(t *testing.T) {
	code, _, errOut := runCLI(t, "run", "-f", "../../examples/async-image/tether.yml", "--input", "{not json")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "invalid --input")
}

func TestRunFailedWorkflowExitsNonZero(t *testing.T) {
	path := writeFile(t, `
controller: {disabled: true}
component:
  type: http-client
  endpoint: http://127.0.0.1:1/unreachable
  timeout: 2s
workflow:
  id: broken
`)
	code, out, errOut := runCLI(t, "run", "broken", "-f", path)
	assert.Equal(t, 1, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, `workflow "broken" failed`)
}

func TestBadLogFlags(t *testing.T) {
	code, _, errOut := runCLI(t, "run", "--log-level", "loud", "-f", "x.yml")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, `invalid --log-level "loud"`)
	code, _, errOut = runCLI(t, "up", "--log-format", "xml", "-f", "x.yml")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, `invalid --log-format "xml"`)
}

func TestHelp(t *testing.T) {
	for _, cmd := range []string{"up", "run", "validate"} {
		code, out, _ := runCLI(t, cmd, "--help")
		assert.Equal(t, 0, code, cmd)
		assert.Contains(t, out, "Usage:", cmd)
		assert.Contains(t, out, "--file", cmd)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestUpServesUntilSignal(t *testing.T) {
	ctlPort, cbPort := freePort(t), freePort(t)
	path := writeFile(t, fmt.Sprintf(`
controller:
  host: 127.0.0.1
  port: %d
listener:
  type: http-callback
  host: 127.0.0.1
  port: %d
  path: /callback
  identify_by: ${body.task_id}
`, ctlPort, cbPort))

	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Main([]string{"up", "-f", path, "--shutdown-timeout", "2s"}, nil, io.Discard, &syncWriter{w: &stderr})
	}()

	health := fmt.Sprintf("http://127.0.0.1:%d/api/health", ctlPort)
	require.Eventually(t, func() bool {
		resp, err := http.Get(health)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 20*time.Millisecond, "the controller answers")

	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/callback", cbPort), "application/json", strings.NewReader(`{"task_id": "t1"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the listener takes callbacks")

	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGINT))
	select {
	case code := <-done:
		assert.Equal(t, 0, code)
	case <-time.After(10 * time.Second):
		t.Fatal("tether up did not stop after SIGINT")
	}
	logs := stderr.String()
	assert.Contains(t, logs, "controller started")
	assert.Contains(t, logs, "shutting down")
}

// syncWriter serialises writes from the CLI's goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func TestRunUnknownWorkflowListsKnown(t *testing.T) {
	path := writeFile(t, `
controller: {disabled: true}
component:
  type: http-client
  endpoint: http://127.0.0.1:1/x
workflows:
  - id: one
  - id: two
`)
	code, _, errOut := runCLI(t, "run", "three", "-f", path)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "unknown workflow")
	assert.Contains(t, errOut, "are: one, two")
}

func TestValidateWarnsAboutUnsetEnv(t *testing.T) {
	path := writeFile(t, `
component:
  type: http-client
  base_url: ${env.TETHER_TEST_UNSET_URL}
workflow:
  id: w
`)
	code, out, _ := runCLI(t, "validate", "-f", path)
	assert.Equal(t, 0, code)
	assert.Equal(t, "warning: component.base_url: ${env.TETHER_TEST_UNSET_URL} is not set and has no default; "+
		"set it, or write ${env.TETHER_TEST_UNSET_URL | default}\nok\n", out)
}
