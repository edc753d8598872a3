package tethertest_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/workflow"
)

// recordingT is a testing.TB whose Fatalf and Errorf record the message
// instead of failing the test. Everything else goes to the real test,
// so cleanups still run.
type recordingT struct {
	testing.TB

	mu       sync.Mutex // guards failures
	failures []string
}

func (r *recordingT) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recordingT) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

// fails runs f as a test body on its own goroutine, as testing does,
// and returns the recorded failure messages.
func fails(t *testing.T, f func(tb testing.TB)) []string {
	t.Helper()
	r := &recordingT{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failures
}

func TestFailureRunEndedInOtherState(t *testing.T) {
	api := tethertest.NewProvider(t, tethertest.Fail("out of paper"))
	p := tethertest.NewProject(t, imageProject, tethertest.WithEnv(map[string]string{"API_URL": api.URL}))
	run := p.StartRun("generate", map[string]any{"prompt": "a cat"})

	msgs := fails(t, func(tb testing.TB) { p.WithT(tb).RequireCompleted(run) })

	require.Len(t, msgs, 1)
	assert.Contains(t, msgs[0], "ended failed, not completed")
	assert.Contains(t, msgs[0], "job __default__: failed")
}

func TestFailureRunStuckShowsTimers(t *testing.T) {
	api := tethertest.NewProvider(t, tethertest.Never())
	p := tethertest.NewProject(t, imageProject,
		tethertest.WithEnv(map[string]string{"API_URL": api.URL}), tethertest.WithTimeout(50*time.Millisecond))
	run := p.StartRun("generate", map[string]any{"prompt": "a cat"})
	p.WaitUntilWaiting(run)

	msgs := fails(t, func(tb testing.TB) { p.WithT(tb).RequireCompleted(run) })

	require.Len(t, msgs, 1)
	assert.Contains(t, msgs[0], "did not reach completed within 50ms; it is processing")
	assert.Contains(t, msgs[0], "job __default__: processing")
	assert.Contains(t, msgs[0], "fake clock timers armed: 5m0s")
}

func TestFailureNobodyWaits(t *testing.T) {
	p := tethertest.NewProject(t, retryProject, tethertest.WithTimeout(20*time.Millisecond),
		tethertest.WithComponent("flaky", echo))

	msgs := fails(t, func(tb testing.TB) { p.WithT(tb).WaitUntilWaiting("nobody") })

	require.Len(t, msgs, 1)
	assert.Contains(t, msgs[0], `wait until a job waits for callback nobody`)
}

func TestFailureInvalidYAML(t *testing.T) {
	msgs := fails(t, func(tb testing.TB) { tethertest.NewProject(tb, "listener: [unclosed") })

	require.Len(t, msgs, 1)
	assert.Contains(t, msgs[0], "tethertest: parse project")
}

func TestFailureUnknownComponent(t *testing.T) {
	msgs := fails(t, func(tb testing.TB) { tethertest.NewProject(tb, retryProject) })

	require.Len(t, msgs, 1)
	assert.Contains(t, msgs[0], "tethertest: build project")
	assert.Contains(t, msgs[0], "flaky")
}

func TestFailureUnknownListenerPort(t *testing.T) {
	p := tethertest.NewProject(t, retryProject, tethertest.WithComponent("flaky", echo))

	msgs := fails(t, func(tb testing.TB) { p.WithT(tb).ListenerURL(8090) })

	require.Len(t, msgs, 1)
	assert.Contains(t, msgs[0], "no listener is configured with port 8090")
}

// echo is a Go component that returns its input.
var echo = workflow.Func(func(ctx context.Context, input any) (any, error) { return input, nil })
