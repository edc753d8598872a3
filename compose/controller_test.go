package compose_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const controllerYAML = `
controller:
  type: http-server
  port: 8080
component:
  type: http-client
  endpoint: ${env.API_URL}
  body: ${input}
  output: ${response}
workflows:
  - id: echo
    title: Echo
    description: Sends the input to the API and returns its answer
    component: __default__
  - id: slow
    component: __default__
    default: false
`

func controllerProject(t *testing.T) (*testProject, string) {
	t.Helper()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.RawQuery, "block") {
			_, _ = io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.Copy(w, r.Body)
	}))
	t.Cleanup(api.Close)
	tp := startProject(t, controllerYAML, map[string]string{"API_URL": api.URL})
	addr := tp.ControllerAddr()
	require.NotNil(t, addr)
	return tp, "http://" + addr.String() + "/api"
}

func call(t *testing.T, method, url, body string) (int, map[string]any, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m, string(raw)
}

func TestControllerRunAndFetch(t *testing.T) {
	_, base := controllerProject(t)

	code, m, raw := call(t, "POST", base+"/workflows/runs", `{"workflow_id": "echo", "input": {"n": 1318183058574413864}}`)
	require.Equal(t, http.StatusOK, code, raw)
	assert.Equal(t, "completed", m["status"])
	assert.Contains(t, raw, "1318183058574413864", "large integers keep every digit")
	id := m["task_id"].(string)

	code, m, raw = call(t, "GET", base+"/tasks/"+id, "")
	require.Equal(t, http.StatusOK, code, raw)
	assert.Equal(t, id, m["task_id"])
	assert.Equal(t, "completed", m["status"])

	code, _, raw = call(t, "GET", base+"/tasks/"+id+"?output_only=true", "")
	require.Equal(t, http.StatusOK, code, raw)
	assert.JSONEq(t, `{"n": 1318183058574413864}`, raw)

	code, _, raw = call(t, "GET", base+"/tasks?workflow_id=echo", "")
	require.Equal(t, http.StatusOK, code, raw)
	assert.Contains(t, raw, id)
}

func TestControllerStartWithoutWaiting(t *testing.T) {
	_, base := controllerProject(t)
	code, m, raw := call(t, "POST", base+"/workflows/runs", `{"workflow_id": "echo", "input": {"a": 1}, "wait_for_completion": false}`)
	require.Equal(t, http.StatusOK, code, raw)
	assert.NotEmpty(t, m["task_id"])
	assert.Contains(t, []any{"pending", "processing", "completed"}, m["status"])
}

func TestControllerCancel(t *testing.T) {
	tp, base := controllerProject(t)
	tp.env.Store("API_URL", tp.env2("API_URL")+"?block=1")
	code, m, raw := call(t, "POST", base+"/workflows/runs", `{"workflow_id": "echo", "wait_for_completion": false}`)
	require.Equal(t, http.StatusOK, code, raw)
	id := m["task_id"].(string)

	code, m, raw = call(t, "POST", base+"/tasks/"+id+"/cancel", "")
	require.Equal(t, http.StatusOK, code, raw)
	assert.Equal(t, "cancelled", m["status"])
}

func TestControllerErrors(t *testing.T) {
	_, base := controllerProject(t)
	cases := []struct {
		method, path, body string
		code               int
		detail             string
	}{
		{"POST", "/workflows/runs", `{"workflow_id": "nope"}`, 404, `workflow \"nope\" not found`},
		{"POST", "/workflows/runs", `{"workflow_id": `, 400, "invalid run request"},
		{"POST", "/workflows/runs", `{"workflow_id": "echo", "output_only": true, "wait_for_completion": false}`, 400, "output_only requires wait_for_completion"},
		{"GET", "/tasks/unknown-id", "", 404, `task \"unknown-id\" not found`},
		{"POST", "/tasks/unknown-id/cancel", "", 404, "not found"},
		{"GET", "/tasks?limit=x", "", 400, "invalid limit"},
		{"GET", "/nowhere", "", 404, "no route"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			code, _, raw := call(t, tc.method, base+tc.path, tc.body)
			assert.Equal(t, tc.code, code, raw)
			assert.Contains(t, raw, tc.detail)
		})
	}
}

func TestControllerWorkflowsAndHealth(t *testing.T) {
	_, base := controllerProject(t)
	code, _, raw := call(t, "GET", base+"/workflows", "")
	require.Equal(t, http.StatusOK, code, raw)
	var list []map[string]any
	require.NoError(t, json.Unmarshal([]byte(raw), &list))
	require.Len(t, list, 2)
	assert.Equal(t, "echo", list[0]["workflow_id"])
	assert.Equal(t, "Echo", list[0]["title"])

	code, m, raw := call(t, "GET", base+"/health", "")
	require.Equal(t, http.StatusOK, code, raw)
	assert.Equal(t, "ok", m["status"])
}
