package compose_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tether-go/tether/compose"
	"github.com/tether-go/tether/workflow"
)

// advControllerYAML has a workflow that ends at once and one that
// blocks until it is cancelled.
const advControllerYAML = `
workflows:
  - id: fast
    component: echo
  - id: slow
    component: blocker
`

type advController struct {
	base    string
	release chan struct{}
}

func startAdvController(t *testing.T) *advController {
	t.Helper()
	c := &advController{release: make(chan struct{})}
	cfg, err := compose.Parse([]byte(advControllerYAML), "adv.yml")
	require.NoError(t, err)
	p, err := compose.New(cfg, &compose.Options{Ephemeral: true, Components: map[string]workflow.Component{
		"echo": workflow.Func(func(ctx context.Context, in any) (any, error) { return in, nil }),
		"blocker": workflow.Func(func(ctx context.Context, in any) (any, error) {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-c.release:
				return "released", nil
			}
		}),
	}})
	require.NoError(t, err)
	require.NoError(t, p.Up(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Shutdown(ctx)
	})
	c.base = "http://" + p.ControllerAddr().String() + "/api"
	return c
}

// do sends one request and returns the status and the reply body.
func (c *advController) do(t *testing.T, method, path, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, strings.TrimSpace(string(data))
}

func TestAdversarialControllerBadRequests(t *testing.T) {
	c := startAdvController(t)
	const hint = `; send {\"workflow_id\": \"...\", \"input\": {...}}`
	cases := []struct {
		name, method, path, contentType, body string
		status                                int
		detail                                string
	}{
		{"wrong id type", "POST", "/workflows/runs", "application/json", `{"workflow_id":5}`, 400,
			`invalid run request: json: cannot unmarshal number into Go struct field runRequest.workflow_id of type string` + hint},
		{"array", "POST", "/workflows/runs", "application/json", `[]`, 400,
			`invalid run request: json: cannot unmarshal array into Go value of type compose.runRequest` + hint},
		{"empty", "POST", "/workflows/runs", "application/json", ``, 400, `invalid run request: EOF` + hint},
		{"unknown workflow", "POST", "/workflows/runs", "application/json", `{"workflow_id":"nope"}`, 404, `workflow \"nope\" not found`},
		{"text", "POST", "/workflows/runs", "text/plain", `{}`, 415,
			`unsupported Content-Type text/plain: send the run request as application/json`},
		{"too large", "POST", "/workflows/runs", "application/json", `{"input":"` + strings.Repeat("a", 11<<20) + `"}`, 413,
			`run request too large: the limit is 10 MiB`},
		{"bad wait flag", "POST", "/workflows/runs", "application/json", `{"workflow_id":"fast","wait_for_completion":"yes"}`, 400,
			`invalid run request: json: cannot unmarshal string into Go struct field runRequest.wait_for_completion of type bool` + hint},
		{"output only without wait", "POST", "/workflows/runs", "application/json",
			`{"workflow_id":"fast","output_only":true,"wait_for_completion":false}`, 400, `output_only requires wait_for_completion: true`},
		{"unknown task", "GET", "/tasks/nope", "", "", 404, `task \"nope\" not found`},
		{"dot-dot task", "GET", "/tasks/%2e%2e", "", "", 404, `task \"..\" not found`},
		{"markup task", "GET", "/tasks/%3Cscript%3E", "", "", 404, `task \"\u003cscript\u003e\" not found`},
		{"cancel unknown", "POST", "/tasks/nope/cancel", "", "", 404, `task \"nope\" not found`},
		{"negative limit", "GET", "/tasks?limit=-1", "", "", 400, `invalid limit \"-1\": use a whole number`},
		{"huge limit", "GET", "/tasks?limit=99999999999999999999", "", "", 400, `invalid limit \"99999999999999999999\": use a whole number`},
		{"long task id", "GET", "/tasks/" + strings.Repeat("x", 10_000), "", "", 404, `task \"` + strings.Repeat("x", 10_000) + `\" not found`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := c.do(t, tc.method, tc.path, tc.contentType, tc.body)
			assert.Equal(t, tc.status, status)
			assert.JSONEq(t, `{"detail":"`+tc.detail+`"}`, body)
		})
	}
}

// Input that looks like a template is data for the run.
func TestAdversarialControllerInputIsData(t *testing.T) {
	c := startAdvController(t)
	status, body := c.do(t, "POST", "/workflows/runs", "application/json",
		`{"workflow_id":"fast","output_only":true,"input":{"k":"${env.HOME}","n":123456789012345678901234567890}}`)
	assert.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, `{"k":"${env.HOME}","n":123456789012345678901234567890}`, body)
}

// A run request must be one JSON object, so that a truncated or
// concatenated request is not run.
func TestAdversarialControllerTrailingData(t *testing.T) {
	c := startAdvController(t)
	status, _ := c.do(t, "POST", "/workflows/runs", "application/json", `{"workflow_id":"fast"} {"workflow_id":"slow"}`)
	assert.Equal(t, http.StatusBadRequest, status)
}

// The listeners reject invalid UTF-8 with 400; the controller should
// too, instead of replacing bytes of the input.
func TestAdversarialControllerInvalidUTF8(t *testing.T) {
	c := startAdvController(t)
	status, _ := c.do(t, "POST", "/workflows/runs", "application/json", "{\"workflow_id\":\"fast\",\"input\":\"\xff\"}")
	assert.Equal(t, http.StatusBadRequest, status)
}

// Concurrent cancels of one run all succeed and leave it cancelled, and
// a cancel after completion leaves the run completed.
func TestAdversarialControllerCancelRace(t *testing.T) {
	c := startAdvController(t)
	status, body := c.do(t, "POST", "/workflows/runs", "application/json", `{"workflow_id":"slow","wait_for_completion":false}`)
	require.Equal(t, http.StatusOK, status, body)
	var started struct {
		TaskID string `json:"task_id"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &started))

	const cancels = 10
	var wg sync.WaitGroup
	results := make(chan string, 2*cancels)
	for i := 0; i < cancels; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			s, b := c.do(t, "POST", "/tasks/"+started.TaskID+"/cancel", "", "")
			results <- fmt.Sprint(s, " ", b)
		}()
		go func() {
			defer wg.Done()
			s, _ := c.do(t, "GET", "/tasks/"+started.TaskID, "", "")
			results <- fmt.Sprint("get ", s)
		}()
	}
	wg.Wait()
	close(results)
	for r := range results {
		if strings.HasPrefix(r, "get ") {
			assert.Equal(t, "get 200", r)
			continue
		}
		assert.True(t, strings.HasPrefix(r, "200 "), r)
		assert.Contains(t, r, `"status":"cancelled"`)
	}
	_, body = c.do(t, "GET", "/tasks/"+started.TaskID, "", "")
	assert.Contains(t, body, `"status":"cancelled"`)

	status, body = c.do(t, "POST", "/workflows/runs", "application/json", `{"workflow_id":"fast","input":1}`)
	require.Equal(t, http.StatusOK, status)
	var done struct {
		TaskID string `json:"task_id"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &done))
	status, body = c.do(t, "POST", "/tasks/"+done.TaskID+"/cancel", "", "")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `"status":"completed"`)
}

// parseAndBuild runs Parse and then New, as tether validate does.
func parseAndBuild(yaml string) error {
	cfg, err := compose.Parse([]byte(yaml), "adv.yml")
	if err != nil {
		return err
	}
	p, err := compose.New(cfg, &compose.Options{Ephemeral: true, LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		return err
	}
	return p.Close()
}

const advComponent = `
component:
  type: http-client
  endpoint: http://127.0.0.1:1/x
`

// advComponentC defines the same component under the id c.
const advComponentC = `
components:
  c:
    type: http-client
    endpoint: http://127.0.0.1:1/x
`

func TestAdversarialYAMLAliasBomb(t *testing.T) {
	yaml := advComponent + `  body: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
  params:
    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
    e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
    f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
    g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
    h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
    i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
`
	start := time.Now()
	err := parseAndBuild(yaml)
	require.Error(t, err)
	assert.ErrorIs(t, err, compose.ErrInvalidConfig)
	assert.Equal(t, "adv.yml:2: component: yaml: document contains excessive aliasing", err.Error())
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestAdversarialWrongTypes(t *testing.T) {
	cases := map[string]string{
		"listener: 5\n": "adv.yml:1: listener: must be a mapping of fields",
		"listener:\n  type: http-callback\n  port: [1]\n":               "adv.yml:3: listener.port: must be a number or a ${env.*} template",
		"listener:\n  type: http-callback\n  port: 99999\n  path: /x\n": "adv.yml:3: listener.port: 99999 is outside 1-65535",
		"- a\n":                          "adv.yml:1: the top level must be a mapping with keys such as listener, gateway, components and workflow",
		"{{{{\n":                         "adv.yml: invalid YAML: line 1: did not find expected node content",
		"":                               "adv.yml: the file is empty: define at least a workflow, a listener or a gateway",
		advComponent + "  timeout: -5\n": "adv.yml:5: component.timeout: invalid duration -5: must not be negative",
		"listener:\n  type: http-callback\n  path: /x?y\n":               `adv.yml:3: listener.path: "/x?y" contains '?' or '#'; a path cannot hold a query or fragment`,
		"listener:\n  type: http-callback\n  method: GE T\n  path: /x\n": `adv.yml:3: listener.method: invalid method "GE T": use one of GET, POST, PUT, PATCH, DELETE`,
	}
	for yaml, want := range cases {
		err := parseAndBuild(yaml)
		if assert.Error(t, err, yaml) {
			assert.Equal(t, want, err.Error(), yaml)
		}
	}
}

func TestAdversarialControllerPortRange(t *testing.T) {
	for _, port := range []string{"70000", "-1"} {
		err := parseAndBuild("controller:\n  port: " + port + "\nworkflow:\n  component: c\n" + advComponentC)
		require.Error(t, err, port)
		assert.Contains(t, err.Error(), "controller.port", port)
	}
}

// Durations and sizes too large for int64 must be reported as too
// large, not as negative values after an overflow.
func TestAdversarialDurationAndSizeOverflow(t *testing.T) {
	for _, value := range []string{"99999999999999999999999", "1e300", "NaN", "Inf"} {
		err := parseAndBuild(advComponent + "  timeout: " + value + "\n")
		require.Error(t, err, value)
		assert.NotContains(t, err.Error(), "negative", value)
	}
	err := parseAndBuild("listener:\n  type: http-callback\n  path: /x\n  limits:\n    max_body_bytes: 9000000000GiB\n")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "negative")
}

// A problem in retry.delay names retry.delay.
func TestAdversarialRetryDelayPath(t *testing.T) {
	err := parseAndBuild("workflow:\n  jobs:\n    - id: a\n      component: c\n      retry: {max_retry_count: 3, delay: -1}\n" +
		advComponentC)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "retry.delay")
	assert.NotContains(t, err.Error(), "max_retry_count")
}

// Many copies of one callback racing with the job's registration resume
// the run once, and the listener reports the others as duplicates.
func TestAdversarialProjectConcurrentCallbacks(t *testing.T) {
	const copies = 20
	var mu sync.Mutex
	replies := map[string]int{}
	api := newAsyncAPI(t, nil)
	api.behave = func(task map[string]any) {
		var wg sync.WaitGroup
		for range copies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status, reply := post(t, task["callback_url"].(string), map[string]any{
					"task_id": task["task_id"], "status": "completed", "output": "once",
				})
				var r map[string]any
				_ = json.Unmarshal([]byte(reply), &r)
				mu.Lock()
				replies[fmt.Sprint(status, " ", r["status"])]++
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	tp := startProject(t, asyncYAML, map[string]string{"API_URL": api.URL})

	run, err := tp.Run(context.Background(), "async", map[string]any{"value": 1})
	require.NoError(t, err)
	assert.Equal(t, workflow.StateCompleted, run.State)
	assert.Equal(t, map[string]any{"accepted": true, "result": "once"}, run.Output)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 1, replies["200 delivered"]+replies["200 stored"], replies)
	assert.Equal(t, copies-1, replies["200 duplicate"], replies)
	st := tp.stats(t)
	assert.EqualValues(t, copies-1, st.Duplicates)
	assert.Zero(t, st.Pending)
	assert.Zero(t, st.Stored)
}

// A callback for an id that no job waits for is stored, and it does not
// resume a run that waits for another id.
func TestAdversarialProjectUnknownCallbackID(t *testing.T) {
	api := newAsyncAPI(t, func(map[string]any) {})
	tp := startProject(t, asyncYAML, map[string]string{"API_URL": api.URL, "WAIT": "300ms"})
	status, reply := post(t, tp.callbackURL("/webhooks/done"), map[string]any{"task_id": "nobody", "status": "completed"})
	assert.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, `{"id":"nobody","status":"stored"}`, reply)

	run, err := tp.Run(context.Background(), "async", map[string]any{"value": 1})
	require.Error(t, err)
	assert.True(t, errors.Is(err, workflow.ErrTimeout), err)
	assert.Equal(t, workflow.StateFailed, run.State)
	assert.Equal(t, 1, tp.stats(t).Stored)
}

// A project shut down while a run blocks and clients hold keep-alive
// connections leaves no goroutine behind.
func TestAdversarialShutdownLeaksNothing(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	cfg, err := compose.Parse([]byte(`
listener:
  type: http-callback
  port: 8090
  path: /cb
  identify_by: ${body.id}
workflow:
  id: slow
  component: blocker
`), "adv.yml")
	require.NoError(t, err)
	p, err := compose.New(cfg, &compose.Options{Ephemeral: true, Components: map[string]workflow.Component{
		"blocker": workflow.Func(func(ctx context.Context, in any) (any, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}),
	}})
	require.NoError(t, err)
	require.NoError(t, p.Up(context.Background()))

	run, err := p.Start(context.Background(), "slow", nil)
	require.NoError(t, err)
	client := &http.Client{Transport: &http.Transport{}}
	for i := 0; i < 5; i++ {
		resp, err := client.Post("http://"+p.ListenerAddr(8090).String()+"/cb", "application/json",
			strings.NewReader(fmt.Sprintf(`{"id":"leak-%d"}`, i)))
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_ = p.Shutdown(ctx)
	client.CloseIdleConnections()
	got, err := p.Engine().Get(context.Background(), run.ID)
	require.NoError(t, err)
	assert.Equal(t, workflow.StateCancelled, got.State)
}

// A verify block whose secret comes from an unset or empty variable
// fails to build, instead of checking signatures with an empty key that
// anyone can use.
func TestAdversarialUnsetSecretFailsClosed(t *testing.T) {
	const tail = "workflow:\n  id: w\n  component: c\n" + advComponentC
	cases := map[string]string{
		"type: github\n    secret: ${env.UNSET}":                       "adv.yml:7: listener.verify.secret: required for type github",
		"type: github\n    secret: \"${env.UNSET | }\"":                "adv.yml:7: listener.verify.secret: required for type github",
		"type: github\n    secret: ${env.EMPTY}":                       "adv.yml:7: listener.verify.secret: required for type github",
		"type: stripe\n    secret: s\n    secrets: [\"${env.UNSET}\"]": "adv.yml:8: listener.verify.secrets[0]: empty; remove the entry or set its value",
		"type: discord\n    public_key: ${env.UNSET}": "adv.yml:7: listener.verify.public_key: required for type discord; " +
			"copy the application's public key (64 hex digits) from the Discord developer portal",
	}
	for block, want := range cases {
		cfg, err := compose.Parse([]byte("listener:\n  type: http-trigger\n  path: /x\n  workflow: w\n  verify:\n    "+block+"\n"+tail), "adv.yml")
		require.NoError(t, err, block)
		_, err = compose.New(cfg, &compose.Options{Ephemeral: true, LookupEnv: func(name string) (string, bool) {
			return "", name == "EMPTY"
		}})
		if assert.Error(t, err, block) {
			assert.Equal(t, want, err.Error(), block)
		}
	}
}

// Up on a port that is taken fails with the address and leaves nothing
// running.
func TestAdversarialUpPortTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	cfg, err := compose.Parse([]byte(fmt.Sprintf(`
controller: {disabled: true}
listener:
  type: http-callback
  host: 127.0.0.1
  port: %d
  path: /cb
`, port)), "adv.yml")
	require.NoError(t, err)
	p, err := compose.New(cfg, nil)
	require.NoError(t, err)
	err = p.Up(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("127.0.0.1:%d", port))
	assert.Contains(t, err.Error(), "address already in use")
	_ = p.Close()
}
