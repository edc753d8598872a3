package compose_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/compose"
	"github.com/tether-go/tether/waiter"
	"github.com/tether-go/tether/workflow"
)

// asyncYAML is a project whose workflow posts to an asynchronous API at
// ${env.API_URL} and waits for the callback that API sends to the
// listener, through a local gateway.
const asyncYAML = `
gateway:
  type: http-tunnel
  driver: local
  port: 8090
listener:
  type: http-callback
  port: 8090
  base_path: /webhooks
  callbacks:
    - path: /done
      identify_by: ${body.task_id}
      status: ${body.status}
      success_when: [completed]
      fail_when: [failed]
      result: ${body.output}
    - path: /batch
      bulk: true
      item: ${body.results}
      identify_by: ${item.task_id}
      status: ${item.status}
      success_when: [completed]
      fail_when: [failed]
      result: ${item.data}
component:
  type: http-client
  base_url: ${env.API_URL}
  path: /tasks
  body:
    value: ${input.value}
    task_id: ${context.run_id}
    callback_url: ${gateway:8090.public_url}/webhooks/done
  completion:
    type: callback
    wait_for: ${context.run_id}
    timeout: ${env.WAIT | 10s}
  output:
    accepted: ${response.accepted}
    result: ${result}
workflow:
  id: async
  input: ${input}
  output: ${output}
`

// asyncAPI is a stand-in for an asynchronous API: it replies 202 and
// sends callbacks as its behave function decides.
type asyncAPI struct {
	*httptest.Server
	// behave decides, for one task, what the API does; it runs in the
	// request's goroutine and may post callbacks before returning.
	behave func(task map[string]any)
	wg     sync.WaitGroup
}

func newAsyncAPI(t *testing.T, behave func(task map[string]any)) *asyncAPI {
	t.Helper()
	a := &asyncAPI{behave: behave}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var task map[string]any
		if err := json.NewDecoder(r.Body).Decode(&task); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		a.behave(task)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, `{"accepted": true, "task_id": %q}`, task["task_id"])
	}))
	t.Cleanup(func() {
		a.wg.Wait()
		a.Close()
	})
	return a
}

// later runs f in the background after d.
func (a *asyncAPI) later(d time.Duration, f func()) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		time.Sleep(d)
		f()
	}()
}

// post sends a JSON callback and returns the status and reply body.
func post(t *testing.T, url string, body any) (int, string) {
	t.Helper()
	data, err := json.Marshal(body)
	require.NoError(t, err)
	resp, err := http.Post(url, "application/json", bytes.NewReader(data))
	if err != nil {
		t.Errorf("post %s: %v", url, err)
		return 0, ""
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(reply)
}

type testProject struct {
	*compose.Project
	env sync.Map
}

// startProject builds and starts a project from YAML on ephemeral
// loopback ports.
func startProject(t *testing.T, yaml string, env map[string]string) *testProject {
	t.Helper()
	tp := &testProject{}
	for k, v := range env {
		tp.env.Store(k, v)
	}
	cfg, err := compose.Parse([]byte(yaml), "test.yml")
	require.NoError(t, err)
	p, err := compose.New(cfg, &compose.Options{
		Ephemeral: true,
		LookupEnv: func(name string) (string, bool) {
			v, ok := tp.env.Load(name)
			if !ok {
				return "", false
			}
			return v.(string), true
		},
	})
	require.NoError(t, err)
	require.NoError(t, p.Up(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Shutdown(ctx)
	})
	tp.Project = p
	return tp
}

// callbackURL is the address of the listener configured with port 8090.
func (tp *testProject) callbackURL(path string) string {
	return "http://" + tp.ListenerAddr(8090).String() + path
}

func (tp *testProject) stats(t *testing.T) waiter.Stats {
	t.Helper()
	m, ok := tp.Waiter().(*waiter.Memory)
	require.True(t, ok, "the default waiter is in memory")
	return m.Stats()
}

func TestCallbackBeforeAcceptedResponse(t *testing.T) {
	api := newAsyncAPI(t, nil)
	api.behave = func(task map[string]any) {
		// The callback is delivered before the API has replied 202.
		code, reply := post(t, task["callback_url"].(string), map[string]any{
			"task_id": task["task_id"], "status": "completed", "output": map[string]any{"doubled": 42},
		})
		assert.Equal(t, http.StatusOK, code, reply)
	}
	tp := startProject(t, asyncYAML, map[string]string{"API_URL": api.URL})

	run, err := tp.Run(context.Background(), "async", map[string]any{"value": 21})
	require.NoError(t, err)
	require.Equal(t, workflow.StateCompleted, run.State, run.Error)
	out := run.Output.(map[string]any)
	assert.Equal(t, true, out["accepted"])
	assert.EqualValues(t, 42, out["result"].(map[string]any)["doubled"])
}

func TestThousandConcurrentRunsResumeOnce(t *testing.T) {
	const n = 1000
	var callbacks atomic.Int64
	api := newAsyncAPI(t, nil)
	api.behave = func(task map[string]any) {
		api.later(time.Duration(callbacks.Add(1)%20)*time.Millisecond, func() {
			v, _ := task["value"].(float64)
			post(t, task["callback_url"].(string), map[string]any{
				"task_id": task["task_id"], "status": "completed", "output": v * 2,
			})
		})
	}
	tp := startProject(t, asyncYAML, map[string]string{"API_URL": api.URL})

	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run, err := tp.Run(context.Background(), "async", map[string]any{"value": i})
			switch {
			case err != nil:
				errs <- err
			case run.State != workflow.StateCompleted:
				errs <- fmt.Errorf("run %d: %s: %s", i, run.State, run.Error)
			default:
				got := run.Output.(map[string]any)["result"]
				if fmt.Sprint(got) != fmt.Sprint(i*2) {
					errs <- fmt.Errorf("run %d: result %v, want %d", i, got, i*2)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := tp.stats(t)
	assert.EqualValues(t, n, st.Delivered)
	assert.Zero(t, st.Duplicates)
	assert.Zero(t, st.Pending)
}

func TestDuplicateCallbackIsDropped(t *testing.T) {
	replies := make(chan string, 2)
	api := newAsyncAPI(t, nil)
	api.behave = func(task map[string]any) {
		api.later(10*time.Millisecond, func() {
			for range 2 {
				_, reply := post(t, task["callback_url"].(string), map[string]any{
					"task_id": task["task_id"], "status": "completed", "output": "once",
				})
				replies <- reply
			}
		})
	}
	tp := startProject(t, asyncYAML, map[string]string{"API_URL": api.URL})

	run, err := tp.Run(context.Background(), "async", map[string]any{"value": 1})
	require.NoError(t, err)
	assert.Equal(t, workflow.StateCompleted, run.State, run.Error)
	first, second := <-replies, <-replies
	assert.Contains(t, first, "delivered")
	assert.Contains(t, second, "duplicate")
	st := tp.stats(t)
	assert.EqualValues(t, 1, st.Delivered)
	assert.EqualValues(t, 1, st.Duplicates)
}

func TestFailStatusFailsRunWithRemoteError(t *testing.T) {
	api := newAsyncAPI(t, nil)
	api.behave = func(task map[string]any) {
		api.later(5*time.Millisecond, func() {
			post(t, task["callback_url"].(string), map[string]any{
				"task_id": task["task_id"], "status": "failed", "error": "GPU out of memory",
			})
		})
	}
	tp := startProject(t, asyncYAML, map[string]string{"API_URL": api.URL})

	run, err := tp.Run(context.Background(), "async", map[string]any{"value": 1})
	require.Error(t, err)
	require.NotNil(t, run)
	assert.ErrorIs(t, err, waiter.ErrRemoteFailed)
	assert.Equal(t, workflow.StateFailed, run.State)
	assert.Contains(t, run.Error, `"failed"`)
	assert.Contains(t, run.Error, "GPU out of memory")
}

func TestCallbackTimeoutFailsRun(t *testing.T) {
	api := newAsyncAPI(t, func(map[string]any) {}) // never calls back
	tp := startProject(t, asyncYAML, map[string]string{"API_URL": api.URL, "WAIT": "300ms"})

	run, err := tp.Run(context.Background(), "async", map[string]any{"value": 1})
	require.Error(t, err)
	require.NotNil(t, run)
	assert.ErrorIs(t, err, workflow.ErrTimeout)
	assert.Equal(t, workflow.StateFailed, run.State)
	assert.Contains(t, run.Error, run.ID, "the error names the id waited for")
	assert.Contains(t, run.Error, "300ms", "the error names the wait time")
	assert.Zero(t, tp.stats(t).Pending, "the timed-out wait is withdrawn")
}

func TestBulkCallbackMixedStatuses(t *testing.T) {
	ids := make(chan string, 3)
	api := newAsyncAPI(t, func(task map[string]any) { ids <- task["task_id"].(string) })
	tp := startProject(t, asyncYAML, map[string]string{"API_URL": api.URL})

	runs := make([]*workflow.Run, 3)
	for i := range runs {
		run, err := tp.Start(context.Background(), "async", map[string]any{"value": i})
		require.NoError(t, err)
		runs[i] = run
	}
	got := map[string]bool{}
	for range 3 {
		got[<-ids] = true
	}
	for _, r := range runs {
		require.True(t, got[r.ID], "every run posted its task")
	}

	code, reply := post(t, tp.callbackURL("/webhooks/batch"), map[string]any{"results": []any{
		map[string]any{"task_id": runs[0].ID, "status": "completed", "data": "first"},
		map[string]any{"task_id": runs[1].ID, "status": "failed", "data": "broken"},
		map[string]any{"task_id": runs[2].ID, "status": "processing"},
	}})
	require.Equal(t, http.StatusOK, code, reply)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r0, err := tp.Engine().Wait(ctx, runs[0].ID)
	require.NoError(t, err)
	assert.Equal(t, workflow.StateCompleted, r0.State, r0.Error)
	assert.Equal(t, "first", r0.Output.(map[string]any)["result"])
	r1, err := tp.Engine().Wait(ctx, runs[1].ID)
	assert.Error(t, err)
	require.NotNil(t, r1)
	assert.Equal(t, workflow.StateFailed, r1.State)
	assert.Contains(t, r1.Error, "broken")

	r2, err := tp.Engine().Get(ctx, runs[2].ID)
	require.NoError(t, err)
	assert.Equal(t, workflow.StateProcessing, r2.State, "a processing status changes nothing")

	code, reply = post(t, tp.callbackURL("/webhooks/batch"), map[string]any{"results": []any{
		map[string]any{"task_id": runs[2].ID, "status": "completed", "data": "third"},
	}})
	require.Equal(t, http.StatusOK, code, reply)
	r2, err = tp.Engine().Wait(ctx, runs[2].ID)
	require.NoError(t, err)
	assert.Equal(t, "third", r2.Output.(map[string]any)["result"])
}

func TestMalformedCallbackRejected(t *testing.T) {
	ids := make(chan string, 1)
	api := newAsyncAPI(t, func(task map[string]any) { ids <- task["task_id"].(string) })
	tp := startProject(t, asyncYAML, map[string]string{"API_URL": api.URL})

	run, err := tp.Start(context.Background(), "async", map[string]any{"value": 1})
	require.NoError(t, err)
	id := <-ids

	resp, err := http.Post(tp.callbackURL("/webhooks/done"), "application/json",
		strings.NewReader(`{"task_id": "`+id+`", "status": "completed", "output": `))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "application/json", strings.Split(resp.Header.Get("Content-Type"), ";")[0])
	assert.Contains(t, string(body), "JSON")
	assert.NotContains(t, string(body), id, "the error does not echo the request")
	assert.Zero(t, tp.stats(t).Delivered, "nothing is delivered")

	code, reply := post(t, tp.callbackURL("/webhooks/done"), map[string]any{"task_id": id, "status": "completed", "output": "ok"})
	require.Equal(t, http.StatusOK, code, reply)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done, err := tp.Engine().Wait(ctx, run.ID)
	require.NoError(t, err)
	assert.Equal(t, workflow.StateCompleted, done.State, done.Error)
}

const triggerYAML = `
listener:
  type: http-trigger
  port: 8091
  path: /batch
  bulk: true
  item: ${body.items}
  workflow: double
  input:
    id: ${item.id}
    twice: ${item.n * 2}
components:
  doubler:
    type: http-client
    endpoint: ${env.API_URL}
    body: ${input}
    output: ${response}
workflow:
  id: double
  component: doubler
`

func TestBulkTriggerReportsBadItem(t *testing.T) {
	var calls atomic.Int64
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = io.Copy(w, r.Body)
	}))
	t.Cleanup(api.Close)
	tp := startProject(t, triggerYAML, map[string]string{"API_URL": api.URL})

	code, reply := post(t, "http://"+tp.ListenerAddr(8091).String()+"/batch", map[string]any{"items": []any{
		map[string]any{"id": "a", "n": 1},
		map[string]any{"id": "b", "n": "not a number"},
		map[string]any{"id": "c", "n": 3},
	}})
	require.Equal(t, http.StatusOK, code, reply)
	var entries []map[string]any
	require.NoError(t, json.Unmarshal([]byte(reply), &entries), reply)
	require.Len(t, entries, 3)
	assert.NotEmpty(t, entries[0]["task_id"])
	assert.NotEmpty(t, entries[1]["error"], "the bad item carries its own error")
	assert.Empty(t, entries[1]["task_id"])
	assert.NotEmpty(t, entries[2]["task_id"])

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, i := range []int{0, 2} {
		run, err := tp.Engine().Wait(ctx, entries[i]["task_id"].(string))
		require.NoError(t, err)
		assert.Equal(t, workflow.StateCompleted, run.State, run.Error)
	}
	r, err := tp.Engine().Wait(ctx, entries[2]["task_id"].(string))
	require.NoError(t, err)
	assert.EqualValues(t, 6, r.Output.(map[string]any)["twice"])
	assert.EqualValues(t, 2, calls.Load())
}

// env2 returns the current value of an environment entry of the project.
func (tp *testProject) env2(name string) string {
	v, _ := tp.env.Load(name)
	s, _ := v.(string)
	return s
}

func TestUnsetEnvInURLNamedInError(t *testing.T) {
	tp := startProject(t, asyncYAML, nil) // API_URL is not set

	run, err := tp.Run(context.Background(), "async", map[string]any{"value": 1})
	require.Error(t, err)
	require.NotNil(t, run)
	assert.Contains(t, run.Error, `base_url "${env.API_URL}" and path "/tasks"`)
	assert.Contains(t, run.Error, "check that every ${env.*} it reads is set")
}
