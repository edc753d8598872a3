package compose_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/workflow"
)

func TestControllerServesMetrics(t *testing.T) {
	api := newAsyncAPI(t, nil)
	api.behave = func(task map[string]any) {
		api.later(5*time.Millisecond, func() {
			for range 2 {
				post(t, task["callback_url"].(string), map[string]any{
					"task_id": task["task_id"], "status": "completed", "output": 1,
				})
			}
		})
	}
	tp := startProject(t, asyncYAML+"controller: {metrics: true}\n", map[string]string{"API_URL": api.URL})

	run, err := tp.Run(context.Background(), "async", map[string]any{"value": 1})
	require.NoError(t, err)
	require.Equal(t, workflow.StateCompleted, run.State)

	var body string
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + tp.ControllerAddr().String() + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		body = string(raw)
		return resp.StatusCode == http.StatusOK && regexpContains(body, `tether_callbacks_total\{[^}]*result="duplicate"[^}]*\} 1`)
	}, 5*time.Second, 20*time.Millisecond, "the duplicate callback is counted")
	assert.Regexp(t, `tether_callbacks_total\{[^}]*result="delivered"[^}]*\} 1`, body)
	assert.Regexp(t, `tether_runs_total\{[^}]*state="completed"[^}]*workflow="async"[^}]*\} 1`, body)
	assert.Regexp(t, `tether_tunnel_up\{[^}]*driver="local"[^}]*\} 1`, body)
}

func regexpContains(s, pattern string) bool {
	return regexp.MustCompile(pattern).MatchString(s)
}
