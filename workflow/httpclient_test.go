package workflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/expr"
	"github.com/tether-go/tether/waiter"
)

// newAsyncAPI starts a loopback server that decodes each JSON request
// body and passes it to handle.
func newAsyncAPI(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, body map[string]any)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if r.Body != nil {
			data, _ := io.ReadAll(r.Body)
			if len(data) > 0 {
				if err := json.Unmarshal(data, &body); err != nil {
					http.Error(w, "body is not JSON", http.StatusBadRequest)
					return
				}
			}
		}
		handle(w, r, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// callbackWorkflow adds component "gen" configured by cfg and a
// single-component workflow "gen" that uses it.
func callbackWorkflow(t *testing.T, e *Engine, cfg *HTTPClient) {
	t.Helper()
	require.NoError(t, e.AddHTTPClient("gen", cfg))
	require.NoError(t, e.AddWorkflow(&Workflow{ID: "gen", Component: "gen"}))
}

func TestCallbackBeforeResponse(t *testing.T) {
	w := waiter.NewMemory(nil)
	t.Cleanup(func() { _ = w.Close() })
	var delivery waiter.Delivery
	srv := newAsyncAPI(t, func(rw http.ResponseWriter, r *http.Request, body map[string]any) {
		// The task completes before the API responds.
		id, _ := body["task_id"].(string)
		delivery, _ = w.Deliver(r.Context(), id, waiter.Outcome{Result: map[string]any{"url": "http://127.0.0.1/a.png"}})
		writeJSON(rw, http.StatusAccepted, map[string]any{"task_id": id, "status": "queued"})
	})
	e := newTestEngine(t, &Options{Waiter: w})
	callbackWorkflow(t, e, &HTTPClient{
		BaseURL: srv.URL,
		Path:    "/generate",
		Body:    map[string]any{"prompt": "${input.prompt}", "task_id": "${context.run_id}"},
		Completion: &Completion{
			Type:    CompletionCallback,
			WaitFor: "${context.run_id}",
		},
		Output: map[string]any{"task_id": "${response.task_id}", "url": "${result.url}"},
	})

	run, err := e.Run(context.Background(), "gen", map[string]any{"prompt": "cat"})
	require.NoError(t, err)
	assert.Equal(t, waiter.Delivered, delivery, "the job must expect the id before sending the request")
	assert.Equal(t, map[string]any{"task_id": run.ID, "url": "http://127.0.0.1/a.png"}, run.Output)
}

func TestCallbackIDFromResponse(t *testing.T) {
	w := waiter.NewMemory(nil)
	t.Cleanup(func() { _ = w.Close() })
	var delivery waiter.Delivery
	srv := newAsyncAPI(t, func(rw http.ResponseWriter, r *http.Request, body map[string]any) {
		delivery, _ = w.Deliver(r.Context(), "task-9", waiter.Outcome{Result: "done"})
		writeJSON(rw, http.StatusAccepted, map[string]any{"task_id": "task-9"})
	})
	e := newTestEngine(t, &Options{Waiter: w})
	callbackWorkflow(t, e, &HTTPClient{
		Endpoint:   srv.URL + "/generate",
		Completion: &Completion{Type: CompletionCallback, WaitFor: "${response.task_id}"},
	})

	run, err := e.Run(context.Background(), "gen", nil)
	require.NoError(t, err)
	assert.Equal(t, waiter.Stored, delivery, "an id from the response is expected after it")
	assert.Equal(t, "done", run.Output)
}

func TestCallbackConcurrentRuns(t *testing.T) {
	const runs = 1000
	w := waiter.NewMemory(nil)
	t.Cleanup(func() { _ = w.Close() })
	var delivered, duplicates atomic.Int64
	srv := newAsyncAPI(t, func(rw http.ResponseWriter, r *http.Request, body map[string]any) {
		id, _ := body["task_id"].(string)
		n := body["n"]
		writeJSON(rw, http.StatusAccepted, map[string]any{"task_id": id})
		go func() {
			ctx := context.Background()
			d, err := w.Deliver(ctx, id, waiter.Outcome{Result: map[string]any{"n": n}})
			if err == nil && (d == waiter.Delivered || d == waiter.Stored) {
				delivered.Add(1)
			}
			// A second callback for the same task must not resume anything.
			if d, _ := w.Deliver(ctx, id, waiter.Outcome{Result: "again"}); d == waiter.Duplicate {
				duplicates.Add(1)
			}
		}()
	})
	transport := &http.Transport{MaxIdleConnsPerHost: 100}
	t.Cleanup(transport.CloseIdleConnections)
	e := newTestEngine(t, &Options{Waiter: w, HTTPClient: &http.Client{Transport: transport}})
	callbackWorkflow(t, e, &HTTPClient{
		Endpoint:   srv.URL,
		Body:       map[string]any{"task_id": "${context.run_id}", "n": "${input.n}"},
		Completion: &Completion{Type: CompletionCallback, WaitFor: "${context.run_id}"},
	})

	var wg sync.WaitGroup
	errs := make(chan error, runs)
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run, err := e.Run(context.Background(), "gen", map[string]any{"n": i})
			if err != nil {
				errs <- err
				return
			}
			out, _ := run.Output.(map[string]any)
			if fmt.Sprint(out["n"]) != fmt.Sprint(i) {
				errs <- fmt.Errorf("run %d got output %v", i, run.Output)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.EqualValues(t, runs, delivered.Load())
	assert.EqualValues(t, runs, duplicates.Load())
	assert.Equal(t, 0, w.Stats().Pending)
}

func TestCallbackFailureFailsRun(t *testing.T) {
	w := waiter.NewMemory(nil)
	t.Cleanup(func() { _ = w.Close() })
	srv := newAsyncAPI(t, func(rw http.ResponseWriter, r *http.Request, body map[string]any) {
		writeJSON(rw, http.StatusAccepted, map[string]any{"task_id": "task-1"})
		go w.Deliver(context.Background(), "task-1", waiter.Outcome{
			Failed: true, Status: "failed", Payload: map[string]any{"error": "GPU out of memory"},
		})
	})
	e := newTestEngine(t, &Options{Waiter: w})
	callbackWorkflow(t, e, &HTTPClient{
		Endpoint:   srv.URL,
		Completion: &Completion{Type: CompletionCallback, WaitFor: "${response.task_id}"},
	})

	run, err := e.Run(context.Background(), "gen", nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, waiter.ErrRemoteFailed)
	var remote *waiter.RemoteError
	require.ErrorAs(t, err, &remote)
	assert.Equal(t, "failed", remote.Status)
	assert.Equal(t, StateFailed, run.State)
	assert.Contains(t, run.Error, `job gen: callback "task-1": remote task failed with status "failed"`)
	assert.Contains(t, run.Error, "GPU out of memory")
}

func TestCallbackTimeout(t *testing.T) {
	w := waiter.NewMemory(nil)
	t.Cleanup(func() { _ = w.Close() })
	clk := newFakeClock()
	srv := newAsyncAPI(t, func(rw http.ResponseWriter, r *http.Request, body map[string]any) {
		rw.WriteHeader(http.StatusAccepted)
	})
	e := newTestEngine(t, &Options{Waiter: w, Clock: clk})
	require.NoError(t, e.AddHTTPClient("image-generator", &HTTPClient{
		Endpoint:   srv.URL,
		Completion: &Completion{Type: CompletionCallback, WaitFor: "${input.task}", Timeout: 5 * time.Minute},
	}))
	require.NoError(t, e.AddWorkflow(&Workflow{ID: "gen", Jobs: []Job{{ID: "generate", Component: "image-generator"}}}))

	run, err := e.Start(context.Background(), "gen", map[string]any{"task": "run-123"})
	require.NoError(t, err)
	clk.WaitForTimer(t, 5*time.Minute)
	clk.Advance(5 * time.Minute)

	run, err = e.Wait(context.Background(), run.ID)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrTimeout)
	assert.EqualError(t, err, `job generate: callback "run-123" not received within 5m0s`)
	assert.Equal(t, StateFailed, run.State)
	assert.Equal(t, 0, w.Stats().Pending, "the registration is withdrawn")
}

func TestCallbackCancelWithdrawsWait(t *testing.T) {
	w := waiter.NewMemory(nil)
	t.Cleanup(func() { _ = w.Close() })
	srv := newAsyncAPI(t, func(rw http.ResponseWriter, r *http.Request, body map[string]any) {
		rw.WriteHeader(http.StatusAccepted)
	})
	e := newTestEngine(t, &Options{Waiter: w})
	callbackWorkflow(t, e, &HTTPClient{
		Endpoint:   srv.URL,
		Completion: &Completion{Type: CompletionCallback, WaitFor: "task-${context.run_id}"},
	})

	run, err := e.Start(context.Background(), "gen", nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return w.Stats().Pending == 1 }, 10*time.Second, time.Millisecond)

	require.NoError(t, e.Cancel(context.Background(), run.ID))
	run, err = e.Wait(context.Background(), run.ID)
	assert.ErrorIs(t, err, ErrCancelled)
	assert.Equal(t, StateCancelled, run.State)
	assert.Equal(t, StateCancelled, run.Jobs[0].State)
	assert.Equal(t, 0, w.Stats().Pending)
}

func TestOnErrorRetryWithCallback(t *testing.T) {
	w := waiter.NewMemory(nil)
	t.Cleanup(func() { _ = w.Close() })
	var requests atomic.Int64
	srv := newAsyncAPI(t, func(rw http.ResponseWriter, r *http.Request, body map[string]any) {
		n := requests.Add(1)
		id, _ := body["task_id"].(string)
		writeJSON(rw, http.StatusAccepted, map[string]any{"task_id": id})
		outcome := waiter.Outcome{Result: "done"}
		if n == 1 {
			outcome = waiter.Outcome{Failed: true, Status: "error"}
		}
		go w.Deliver(context.Background(), fmt.Sprintf("%s-%v", id, body["attempt"]), outcome)
	})
	e := newTestEngine(t, &Options{Waiter: w})
	require.NoError(t, e.AddHTTPClient("async-service", &HTTPClient{
		Endpoint:   srv.URL,
		Body:       map[string]any{"task_id": "${context.run_id}", "attempt": "${input.attempt}"},
		Completion: &Completion{Type: CompletionCallback, WaitFor: "${context.run_id}-${input.attempt}"},
	}))
	require.NoError(t, e.AddWorkflow(&Workflow{ID: "retry", Jobs: []Job{{
		ID:        "async-task",
		Component: "async-service",
		Input:     map[string]any{"attempt": 1},
		OnError: []Job{{
			ID:        "retry",
			Component: "async-service",
			Input:     map[string]any{"attempt": 2},
			Retry:     Retry{MaxRetryCount: 3, Delay: time.Millisecond},
		}},
	}}}))

	run, err := e.Run(context.Background(), "retry", nil)
	require.NoError(t, err)
	assert.Equal(t, "done", run.Output)
	assert.Equal(t, "retry", run.Jobs[0].RecoveredBy)
	assert.EqualValues(t, 2, requests.Load())
}

func TestPollingSuccess(t *testing.T) {
	var polls atomic.Int64
	srv := newAsyncAPI(t, func(rw http.ResponseWriter, r *http.Request, body map[string]any) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v1/tasks":
			writeJSON(rw, http.StatusAccepted, map[string]any{"id": "t1"})
		case r.Method == http.MethodGet && r.URL.Path == "/v1/tasks/t1":
			if polls.Add(1) < 3 {
				writeJSON(rw, http.StatusOK, map[string]any{"status": "running"})
				return
			}
			writeJSON(rw, http.StatusOK, map[string]any{"status": "completed", "data": map[string]any{"url": "http://127.0.0.1/x"}})
		default:
			http.NotFound(rw, r)
		}
	})
	e := newTestEngine(t, nil)
	callbackWorkflow(t, e, &HTTPClient{
		BaseURL: srv.URL + "/v1",
		Path:    "/tasks",
		Completion: &Completion{
			Type:        CompletionPolling,
			Path:        "/tasks/${response.id}",
			Interval:    time.Millisecond,
			Status:      "${response.status}",
			SuccessWhen: []string{"completed"},
			FailWhen:    []string{"failed"},
			Result:      "${response.data}",
		},
	})

	run, err := e.Run(context.Background(), "gen", nil)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"url": "http://127.0.0.1/x"}, run.Output)
	assert.EqualValues(t, 3, polls.Load())
}

func TestPollingFailure(t *testing.T) {
	srv := newAsyncAPI(t, func(rw http.ResponseWriter, r *http.Request, body map[string]any) {
		if r.Method == http.MethodPost {
			writeJSON(rw, http.StatusAccepted, map[string]any{"id": "t1"})
			return
		}
		writeJSON(rw, http.StatusOK, map[string]any{"state": "error", "reason": "bad prompt"})
	})
	e := newTestEngine(t, nil)
	callbackWorkflow(t, e, &HTTPClient{
		Endpoint: srv.URL + "/tasks",
		Completion: &Completion{
			Type:        CompletionPolling,
			Endpoint:    srv.URL + "/tasks/${response.id}",
			Interval:    time.Millisecond,
			Status:      "${response.state}",
			SuccessWhen: []string{"done"},
			FailWhen:    []string{"error"},
		},
	})

	run, err := e.Run(context.Background(), "gen", nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, waiter.ErrRemoteFailed)
	assert.Equal(t, StateFailed, run.State)
	assert.Contains(t, run.Error, `poll GET `+srv.URL+`/tasks/t1: remote task failed with status "error"`)
	assert.Contains(t, run.Error, "bad prompt")
}

func TestPollingTimeout(t *testing.T) {
	clk := newFakeClock()
	srv := newAsyncAPI(t, func(rw http.ResponseWriter, r *http.Request, body map[string]any) {
		writeJSON(rw, http.StatusOK, map[string]any{"status": "running"})
	})
	e := newTestEngine(t, &Options{Clock: clk})
	callbackWorkflow(t, e, &HTTPClient{
		Endpoint: srv.URL,
		Completion: &Completion{
			Type: CompletionPolling, Interval: time.Second, Timeout: 10 * time.Minute,
			Status: "${response.status}", SuccessWhen: []string{"completed"},
		},
	})

	run, err := e.Start(context.Background(), "gen", nil)
	require.NoError(t, err)
	clk.WaitForTimer(t, 10*time.Minute)
	clk.Advance(10 * time.Minute)

	run, err = e.Wait(context.Background(), run.ID)
	assert.ErrorIs(t, err, ErrTimeout)
	assert.Equal(t, StateFailed, run.State)
	assert.Equal(t, "job gen: polling GET "+srv.URL+" did not complete within 10m0s", run.Error)
}

func TestHTTPErrorStatus(t *testing.T) {
	srv := newAsyncAPI(t, func(rw http.ResponseWriter, r *http.Request, body map[string]any) {
		writeJSON(rw, http.StatusInternalServerError, map[string]any{"error": "model overloaded"})
	})
	e := newTestEngine(t, nil)
	callbackWorkflow(t, e, &HTTPClient{
		BaseURL: srv.URL,
		Path:    "v1/run",
		Params:  map[string]any{"api_key": "s3cr3t"},
	})

	run, err := e.Run(context.Background(), "gen", nil)
	require.Error(t, err)
	var httpErr *HTTPError
	require.ErrorAs(t, err, &httpErr)
	assert.Equal(t, http.StatusInternalServerError, httpErr.StatusCode)
	assert.Equal(t, `job gen: POST `+srv.URL+`/v1/run: unexpected status 500: {"error":"model overloaded"}`, run.Error)
	assert.NotContains(t, run.Error, "s3cr3t")
}

func TestHTTPErrorUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens on the port any more
	e := newTestEngine(t, nil)
	callbackWorkflow(t, e, &HTTPClient{Endpoint: url + "/x?token=s3cr3t"})

	run, err := e.Run(context.Background(), "gen", nil)
	require.Error(t, err)
	assert.Contains(t, run.Error, "job gen: send POST "+url+"/x: ")
	assert.NotContains(t, run.Error, "s3cr3t")
}

func TestHTTPRequestTimeout(t *testing.T) {
	clk := newFakeClock()
	srv := newAsyncAPI(t, func(rw http.ResponseWriter, r *http.Request, body map[string]any) {
		<-r.Context().Done()
	})
	e := newTestEngine(t, &Options{Clock: clk})
	callbackWorkflow(t, e, &HTTPClient{Endpoint: srv.URL, Timeout: 30 * time.Second})

	run, err := e.Start(context.Background(), "gen", nil)
	require.NoError(t, err)
	clk.WaitForTimer(t, 30*time.Second)
	clk.Advance(30 * time.Second)

	run, err = e.Wait(context.Background(), run.ID)
	assert.ErrorIs(t, err, ErrTimeout)
	assert.Equal(t, "job gen: POST "+srv.URL+": no response within 30s", run.Error)
}

func TestHTTPRequestRendering(t *testing.T) {
	type seen struct {
		method, path, query, auth, contentType string
		body                                   map[string]any
	}
	got := make(chan seen, 1)
	srv := newAsyncAPI(t, func(rw http.ResponseWriter, r *http.Request, body map[string]any) {
		got <- seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), body}
		rw.Header().Set("Content-Type", "text/plain")
		_, _ = rw.Write([]byte("plain text"))
	})
	var logs bytes.Buffer
	e := newTestEngine(t, &Options{
		Sources: expr.Sources{
			"env":          expr.Of(map[string]any{"TOKEN": "tok-123", "BASE": srv.URL}),
			"gateway:8090": expr.Of(map[string]any{"public_url": "https://gw.test"}),
		},
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	callbackWorkflow(t, e, &HTTPClient{
		BaseURL: "${env.BASE}/api/",
		Path:    "/items/${input.id}",
		Method:  "put",
		Headers: map[string]any{"Authorization": "Bearer ${env.TOKEN}"},
		Params:  map[string]any{"q": "${input.q}", "tags": []any{"a", "b"}, "missing": "${input.nothing}"},
		Body: map[string]any{
			"callback_url": "${gateway:8090.public_url}/cb",
			"size":         "${input.size | \"1024x1024\"}",
		},
	})

	run, err := e.Run(context.Background(), "gen", map[string]any{"id": 7, "q": "x y"})
	require.NoError(t, err)
	req := <-got
	assert.Equal(t, http.MethodPut, req.method)
	assert.Equal(t, "/api/items/7", req.path)
	assert.Equal(t, "q=x+y&tags=a&tags=b", req.query)
	assert.Equal(t, "Bearer tok-123", req.auth)
	assert.Equal(t, "application/json", req.contentType)
	assert.Equal(t, map[string]any{"callback_url": "https://gw.test/cb", "size": "1024x1024"}, req.body)
	assert.Equal(t, "plain text", run.Output, "a body that is not JSON is text")

	assert.Contains(t, logs.String(), run.ID)
	assert.Contains(t, logs.String(), `"workflow":"gen"`)
	assert.NotContains(t, logs.String(), "tok-123", "header values are never logged")
}

func TestAddHTTPClientErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  HTTPClient
		want string
	}{
		{"no url", HTTPClient{}, `component "c": endpoint: missing; set endpoint, or base_url and path`},
		{"both urls", HTTPClient{Endpoint: "http://127.0.0.1", BaseURL: "http://127.0.0.1"}, `component "c": endpoint: set either endpoint or base_url with path, not both`},
		{"bad method", HTTPClient{Endpoint: "http://127.0.0.1", Method: "GE T"}, `component "c": method: "GE T" is not an HTTP method`},
		{"negative timeout", HTTPClient{Endpoint: "http://127.0.0.1", Timeout: -time.Second}, `component "c": timeout: -1s is negative`},
		{"no completion type", HTTPClient{Endpoint: "http://127.0.0.1", Completion: &Completion{}}, `component "c": completion.type: missing; use callback or polling`},
		{"unknown completion type", HTTPClient{Endpoint: "http://127.0.0.1", Completion: &Completion{Type: "webhook"}}, `component "c": completion.type: unknown completion type "webhook"; use callback or polling`},
		{"callback with interval", HTTPClient{Endpoint: "http://127.0.0.1", Completion: &Completion{Type: CompletionCallback, Interval: time.Second}}, `component "c": completion.type: callback does not take path, endpoint, method, interval, status, success_when, fail_when or result; use type polling`},
		{"polling with wait_for", HTTPClient{Endpoint: "http://127.0.0.1", Completion: &Completion{Type: CompletionPolling, WaitFor: "x"}}, `component "c": completion.wait_for: only type callback takes wait_for`},
		{"status without success_when", HTTPClient{Endpoint: "http://127.0.0.1", Completion: &Completion{Type: CompletionPolling, Status: "${response.s}"}}, `component "c": completion.success_when: missing; list the status values that mean success`},
		{"success_when without status", HTTPClient{Endpoint: "http://127.0.0.1", Completion: &Completion{Type: CompletionPolling, SuccessWhen: []string{"ok"}}}, `component "c": completion.status: missing; success_when and fail_when need a status template`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEngine(t, nil)
			err := e.AddHTTPClient("c", &tt.cfg)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidWorkflow)
			assert.EqualError(t, err, tt.want)
		})
	}
}

func TestAddHTTPClientTemplateError(t *testing.T) {
	e := newTestEngine(t, nil)
	err := e.AddHTTPClient("c", &HTTPClient{Endpoint: "http://127.0.0.1", Headers: map[string]any{"X-Key": "${env.KEY"}})
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrInvalidWorkflow)
	assert.ErrorIs(t, err, expr.ErrSyntax)
	assert.True(t, strings.HasPrefix(err.Error(), `component "c": headers.X-Key: `), err.Error())
}

func TestRedactURL(t *testing.T) {
	assert.Equal(t, "https://h/p", redactRawURL("https://user:pw@h/p?key=1#f"))
	assert.Equal(t, "http://h/a", redactRawURL("http://h/a"))
	_ = errors.New
}

func TestOnErrorRetryReusesCallbackID(t *testing.T) {
	w := waiter.NewMemory(nil)
	t.Cleanup(func() { _ = w.Close() })
	var requests atomic.Int64
	deliveries := make(chan waiter.Delivery, 2)
	srv := newAsyncAPI(t, func(rw http.ResponseWriter, r *http.Request, body map[string]any) {
		n := requests.Add(1)
		id, _ := body["task_id"].(string)
		writeJSON(rw, http.StatusAccepted, map[string]any{"task_id": id})
		outcome := waiter.Outcome{Result: "done"}
		if n == 1 {
			outcome = waiter.Outcome{Failed: true, Status: "error"}
		}
		go func() {
			d, _ := w.Deliver(context.Background(), id, outcome)
			deliveries <- d
		}()
	})
	e := newTestEngine(t, &Options{Waiter: w})
	require.NoError(t, e.AddHTTPClient("async-service", &HTTPClient{
		Endpoint:   srv.URL,
		Body:       map[string]any{"task_id": "${context.run_id}"},
		Completion: &Completion{Type: CompletionCallback, WaitFor: "${context.run_id}"},
	}))
	require.NoError(t, e.AddWorkflow(&Workflow{ID: "retry", Jobs: []Job{{
		ID:        "async-task",
		Component: "async-service",
		OnError: []Job{{
			ID:        "retry",
			Component: "async-service",
			Input:     "${input}",
			Retry:     Retry{MaxRetryCount: 3, Delay: time.Millisecond},
		}},
	}}}))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	run, err := e.Run(ctx, "retry", nil)
	require.NoError(t, err)
	assert.Equal(t, "done", run.Output)
	assert.Equal(t, waiter.Delivered, <-deliveries)
	assert.Equal(t, waiter.Delivered, <-deliveries, "the retry waits for the same id again")
}

func TestHTTPClientOutputReadsResponse(t *testing.T) {
	cases := []struct {
		name string
		cfg  HTTPClient
		want bool
	}{
		{"default output without completion", HTTPClient{Endpoint: "http://127.0.0.1"}, true},
		{"default output with callback", HTTPClient{Endpoint: "http://127.0.0.1", Completion: &Completion{Type: CompletionCallback, WaitFor: "${context.run_id}"}}, false},
		{"output reads response", HTTPClient{Endpoint: "http://127.0.0.1", Output: map[string]any{"id": "${response.id}", "url": "${result.url}"}, Completion: &Completion{Type: CompletionCallback, WaitFor: "${context.run_id}"}}, true},
		{"output reads result only", HTTPClient{Endpoint: "http://127.0.0.1", Output: "${result.url}", Completion: &Completion{Type: CompletionCallback, WaitFor: "${response.id}"}}, false},
	}
	e := New(nil)
	t.Cleanup(func() { _ = e.Close() })
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := e.compileHTTPClient("c", &tc.cfg)
			require.NoError(t, err)
			assert.Equal(t, tc.want, c.outputReadsResponse)
		})
	}
}
