package tethertest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/compose"
	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/waiter"
	"github.com/tether-go/tether/workflow"
)

// imageProject posts a task to ${env.API_URL} and waits up to 5 minutes
// for the callback whose task_id is the run id.
const imageProject = `
gateway:
  type: local
  port: 8090
listener:
  type: http-callback
  port: 8090
  path: /done
  identify_by: ${body.task_id}
  status: ${body.status}
  success_when: [completed]
  fail_when: [failed]
  result: ${body.output}
component:
  type: http-client
  base_url: ${env.API_URL}
  path: /generate
  body:
    prompt: ${input.prompt}
    task_id: ${context.run_id}
    callback_url: ${gateway:8090.public_url}/done
  completion:
    type: callback
    wait_for: ${context.run_id}
    timeout: 5m
workflow:
  id: generate
`

// responseIDProject learns the callback id from the provider's 202
// response, so a callback that overtakes the response is stored until
// the job waits.
const responseIDProject = `
gateway:
  type: local
  port: 8090
listener:
  type: http-callback
  port: 8090
  path: /done
  identify_by: ${body.task_id}
  status: ${body.status}
  success_when: [completed]
  fail_when: [failed]
  result: ${body.output}
component:
  type: http-client
  base_url: ${env.API_URL}
  path: /generate
  body:
    prompt: ${input.prompt}
    callback_url: ${gateway:8090.public_url}/done
  completion:
    type: callback
    wait_for: ${response.task_id}
    timeout: 5m
workflow:
  id: generate
`

var catImage = map[string]any{"url": "https://cdn.test/cat.png"}

func startImageProject(t *testing.T, b tethertest.Behavior) (*tethertest.Project, *tethertest.Provider) {
	t.Helper()
	return startImageProjectWith(t, b, "")
}

// startImageProjectWith starts imageProject with extra YAML appended.
func startImageProjectWith(t *testing.T, b tethertest.Behavior, extra string) (*tethertest.Project, *tethertest.Provider) {
	t.Helper()
	api := tethertest.NewProvider(t, b)
	p := tethertest.NewProject(t, imageProject+extra, tethertest.WithEnv(map[string]string{"API_URL": api.URL}))
	return p, api
}

func replyStatuses(replies []tethertest.Reply) []string {
	var out []string
	for _, r := range replies {
		out = append(out, r.Callback.Status+":"+r.Status)
	}
	return out
}

func TestProviderCompletes(t *testing.T) {
	p, api := startImageProject(t, tethertest.Complete(catImage))

	run := p.StartRun("generate", map[string]any{"prompt": "a cat"})
	out := p.RequireCompleted(run)

	assert.Equal(t, catImage, out)
	reqs := api.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, run, reqs[0].TaskID)
	assert.Equal(t, "a cat", reqs[0].Body["prompt"])
	assert.True(t, strings.HasPrefix(reqs[0].CallbackURL, p.ListenerURL(8090)), reqs[0].CallbackURL)
	assert.Equal(t, []string{"processing:ignored", "completed:delivered"}, replyStatuses(api.WaitReplies(t, 2)))
}

func TestProviderEarlyCallbackIsDelivered(t *testing.T) {
	p, api := startImageProject(t, tethertest.Complete(catImage).Early())

	run := p.StartRun("generate", map[string]any{"prompt": "a cat"})

	assert.Equal(t, catImage, p.RequireCompleted(run))
	// The job registered the run id before it sent the request, so the
	// callback that overtook the 202 found it waiting.
	assert.Equal(t, []string{"processing:ignored", "completed:delivered"}, replyStatuses(api.Replies()))
}

func TestProviderEarlyCallbackIsStored(t *testing.T) {
	api := tethertest.NewProvider(t, tethertest.Complete(catImage).Early())
	p := tethertest.NewProject(t, responseIDProject, tethertest.WithEnv(map[string]string{"API_URL": api.URL}))

	run := p.StartRun("generate", map[string]any{"prompt": "a cat"})

	assert.Equal(t, catImage, p.RequireCompleted(run))
	assert.Equal(t, []string{"processing:ignored", "completed:stored"}, replyStatuses(api.Replies()))
	assert.Equal(t, "task-1", api.Requests()[0].TaskID)
}

func TestProviderDuplicateCallbackIsDropped(t *testing.T) {
	p, api := startImageProject(t, tethertest.Complete(catImage).Duplicated())

	run := p.StartRun("generate", map[string]any{"prompt": "a cat"})

	assert.Equal(t, catImage, p.RequireCompleted(run))
	replies := api.WaitReplies(t, 3)
	assert.Equal(t, []string{"processing:ignored", "completed:delivered", "completed:duplicate"}, replyStatuses(replies))
	for _, r := range replies {
		assert.Equal(t, http.StatusOK, r.StatusCode, r.Body)
	}
}

func TestProviderOutOfOrderCallbacks(t *testing.T) {
	p, api := startImageProject(t, tethertest.Complete(catImage).OutOfOrder())

	run := p.StartRun("generate", map[string]any{"prompt": "a cat"})

	assert.Equal(t, catImage, p.RequireCompleted(run))
	assert.Equal(t, []string{"completed:delivered", "processing:ignored"}, replyStatuses(api.WaitReplies(t, 2)))
}

func TestProviderFailedCallback(t *testing.T) {
	p, api := startImageProject(t, tethertest.Fail("out of memory"))

	run := p.StartRun("generate", map[string]any{"prompt": "a cat"})
	msg := p.RequireFailed(run)

	assert.Contains(t, msg, "remote task failed")
	assert.Equal(t, []string{"failed:delivered"}, replyStatuses(api.WaitReplies(t, 1)))
}

func TestProviderNeverCallsBack(t *testing.T) {
	p, api := startImageProject(t, tethertest.Never())

	run := p.StartRun("generate", map[string]any{"prompt": "a cat"})
	p.WaitUntilWaiting(run)
	p.Clock.AdvanceTimer(t, 5*time.Minute)
	msg := p.RequireFailed(run)

	assert.Contains(t, msg, "not received within 5m0s")
	assert.Empty(t, api.Replies())
	assert.Empty(t, p.Waiting())
}

func TestProviderLateCallbackAfterTimeout(t *testing.T) {
	p, api := startImageProject(t, tethertest.Complete(catImage).Late())

	run := p.StartRun("generate", map[string]any{"prompt": "a cat"})
	p.Clock.AdvanceTimer(t, 5*time.Minute)
	p.RequireFailed(run)
	replies := api.Release()

	// No job waits any more, so the listener keeps the outcome for a
	// retry of the job.
	assert.Equal(t, []string{"processing:ignored", "completed:stored"}, replyStatuses(replies))
	assert.Equal(t, workflow.StateFailed, p.Run(run).State)
}

func TestProviderLateCallbackBeforeTimeout(t *testing.T) {
	p, api := startImageProject(t, tethertest.Complete(catImage).Late())

	run := p.StartRun("generate", map[string]any{"prompt": "a cat"})
	p.WaitUntilWaiting(run)
	p.Clock.Advance(4 * time.Minute)
	replies := api.Release()

	assert.Equal(t, []string{"processing:ignored", "completed:delivered"}, replyStatuses(replies))
	assert.Equal(t, catImage, p.RequireCompleted(run))
}

func TestProviderSeveralTasks(t *testing.T) {
	p, api := startImageProject(t, tethertest.Complete(catImage))

	runs := []string{
		p.StartRun("generate", map[string]any{"prompt": "one"}),
		p.StartRun("generate", map[string]any{"prompt": "two"}),
		p.StartRun("generate", map[string]any{"prompt": "three"}),
	}
	for _, run := range runs {
		assert.Equal(t, catImage, p.RequireCompleted(run))
	}
	assert.Len(t, api.WaitRequests(t, 3), 3)
}

func TestProviderMissingCallbackURL(t *testing.T) {
	api := tethertest.NewProvider(t, tethertest.Complete(catImage))

	resp, err := http.Post(api.URL+"/generate", "application/json", strings.NewReader(`{"task_id": "t1"}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]string
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))

	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, body["error"], "missing callback_url")
}

func TestDeliverWithoutHTTP(t *testing.T) {
	p, _ := startImageProject(t, tethertest.Never())

	run := p.StartRun("generate", map[string]any{"prompt": "a cat"})
	p.WaitUntilWaiting(run)
	assert.Equal(t, []string{run}, p.Waiting())

	assert.Equal(t, waiter.Delivered, p.Deliver(run, waiter.Outcome{Result: catImage}))
	assert.Equal(t, catImage, p.RequireCompleted(run))
	assert.Equal(t, waiter.Duplicate, p.Deliver(run, waiter.Outcome{Result: catImage}))
}

func TestDeliverBeforeWaitIsStored(t *testing.T) {
	p, _ := startImageProject(t, tethertest.Never())

	assert.Equal(t, waiter.Stored, p.Deliver("early-id", waiter.Outcome{Result: 1}))
}

func TestDeliverFailure(t *testing.T) {
	p, _ := startImageProject(t, tethertest.Never())

	run := p.StartRun("generate", map[string]any{"prompt": "a cat"})
	p.WaitUntilWaiting(run)
	p.Deliver(run, waiter.Outcome{Failed: true, Status: "failed", Payload: map[string]any{"error": "nsfw"}})

	assert.Contains(t, p.RequireFailed(run), "failed")
}

// retryProject calls a Go component that the test registers, retrying
// it once after 30 seconds.
const retryProject = `
workflow:
  id: flaky
  jobs:
    - id: call
      component: flaky
      input: ${input}
      retry: { max_retry_count: 1, delay: 30s }
`

func TestGoComponentRetryOnFakeClock(t *testing.T) {
	calls := 0
	flaky := workflow.Func(func(ctx context.Context, input any) (any, error) {
		calls++
		if calls == 1 {
			return nil, assert.AnError
		}
		return map[string]any{"calls": calls}, nil
	})
	p := tethertest.NewProject(t, retryProject, tethertest.WithComponent("flaky", flaky))

	run := p.StartRun("flaky", map[string]any{})
	p.Clock.AdvanceTimer(t, 30*time.Second)
	out := p.RequireCompleted(run)

	assert.EqualValues(t, 2, out.(map[string]any)["calls"])
	assert.Equal(t, 2, p.Run(run).Jobs[0].Attempts)
}

func TestProjectFromGoConfig(t *testing.T) {
	cfg := &compose.Config{
		Workflows: []compose.Workflow{{
			ID:   "double",
			Jobs: []compose.Job{{ID: "double", Component: "double", Input: "${input.n}"}},
		}},
	}
	double := workflow.Func(func(ctx context.Context, input any) (any, error) {
		// A number from a Go input stays an int64 through the template.
		n, ok := input.(int64)
		if !ok {
			return nil, fmt.Errorf("input %v is a %T, not an int64", input, input)
		}
		return n * 2, nil
	})
	p := tethertest.NewProjectFromConfig(t, cfg, tethertest.WithComponent("double", double))

	run := p.RunWorkflow("double", map[string]any{"n": 21})

	require.Equal(t, workflow.StateCompleted, run.State, run.Error)
	assert.EqualValues(t, 42, run.Output)
}

// triggerProject starts the echo workflow from a webhook.
const triggerProject = `
listener:
  type: http-trigger
  port: 8091
  path: /hooks/echo
  workflow: echo
  input: { text: "${body.text}" }
workflow:
  id: echo
  component: echo
`

func TestTriggerStartsRun(t *testing.T) {
	echo := workflow.Func(func(ctx context.Context, input any) (any, error) { return input, nil })
	p := tethertest.NewProject(t, triggerProject, tethertest.WithComponent("echo", echo))

	resp, err := http.Post(p.ListenerURL(8091)+"/hooks/echo", "application/json", strings.NewReader(`{"text": "hi"}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	var reply struct {
		TaskID string `json:"task_id"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&reply))
	require.Equal(t, http.StatusOK, resp.StatusCode)

	assert.Equal(t, map[string]any{"text": "hi"}, p.RequireCompleted(reply.TaskID))
}

func TestCancelledRun(t *testing.T) {
	p, _ := startImageProject(t, tethertest.Never())

	run := p.StartRun("generate", map[string]any{"prompt": "a cat"})
	p.WaitUntilWaiting(run)
	require.NoError(t, p.Engine().Cancel(context.Background(), run))

	assert.Equal(t, workflow.StateCancelled, p.WaitDone(run).State)
}

func TestWaitJobState(t *testing.T) {
	p, _ := startImageProject(t, tethertest.Never())

	run := p.StartRun("generate", map[string]any{"prompt": "a cat"})
	rec := p.WaitJobState(run, "__default__", workflow.StateProcessing)

	assert.Equal(t, workflow.StateProcessing, rec.State)
}

func TestRealClock(t *testing.T) {
	p := tethertest.NewProject(t, retryProject, tethertest.WithRealClock(),
		tethertest.WithComponent("flaky", workflow.Func(func(ctx context.Context, input any) (any, error) { return 1, nil })))

	assert.Nil(t, p.Clock)
	assert.EqualValues(t, 1, p.RequireCompleted(p.StartRun("flaky", nil)))
}

func TestControllerServesMetrics(t *testing.T) {
	p, _ := startImageProjectWith(t, tethertest.Never(), "controller: {metrics: true}\n")
	p.Deliver("early-id", waiter.Outcome{Result: 1})

	resp, err := http.Get(p.ControllerURL() + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)

	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), "tether_waiter_stored_outcomes 1")
}

func TestProviderBehaviorCombinations(t *testing.T) {
	cases := []struct {
		name     string
		yaml     string
		behavior tethertest.Behavior
		replies  []string
	}{
		{"early duplicated", imageProject, tethertest.Complete(catImage).Early().Duplicated(),
			[]string{"processing:ignored", "completed:delivered", "completed:duplicate"}},
		{"early duplicated from response", responseIDProject, tethertest.Complete(catImage).Early().Duplicated(),
			[]string{"processing:ignored", "completed:stored", "completed:duplicate"}},
		{"early out of order", imageProject, tethertest.Complete(catImage).Early().OutOfOrder(),
			[]string{"completed:delivered", "processing:ignored"}},
		{"duplicated out of order", imageProject, tethertest.Complete(catImage).Duplicated().OutOfOrder(),
			[]string{"completed:delivered", "completed:duplicate", "processing:ignored"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := tethertest.NewProvider(t, tc.behavior)
			p := tethertest.NewProject(t, tc.yaml, tethertest.WithEnv(map[string]string{"API_URL": api.URL}))

			run := p.StartRun("generate", map[string]any{"prompt": "a cat"})

			assert.Equal(t, catImage, p.RequireCompleted(run))
			assert.Equal(t, tc.replies, replyStatuses(api.WaitReplies(t, len(tc.replies))))
		})
	}
}

func TestProviderSetBehaviorPerTask(t *testing.T) {
	p, api := startImageProject(t, tethertest.Fail("busy"))

	first := p.StartRun("generate", map[string]any{"prompt": "one"})
	p.RequireFailed(first)
	api.SetBehavior(tethertest.Complete(catImage))
	second := p.StartRun("generate", map[string]any{"prompt": "two"})

	assert.Equal(t, catImage, p.RequireCompleted(second))
}

func TestWithOptionsReplacingWaiter(t *testing.T) {
	w := waiter.NewMemory(nil)
	t.Cleanup(func() { _ = w.Close() })
	p := tethertest.NewProject(t, retryProject, tethertest.WithComponent("flaky", echo),
		tethertest.WithOptions(func(o *compose.Options) { o.Waiter = w }))

	assert.Same(t, w, p.Waiter())
	assert.Nil(t, p.Waiting())
	msgs := fails(t, func(tb testing.TB) { p.WithT(tb).WaitUntilWaiting("x") })
	require.Len(t, msgs, 1)
	assert.Contains(t, msgs[0], "WithOptions replaced it")
}
