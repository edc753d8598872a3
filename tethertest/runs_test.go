package tethertest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/expr"
	"github.com/tether-go/tether/listener"
	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/waiter"
	"github.com/tether-go/tether/workflow"
)

// goService builds an engine and a mounted callback listener from Go,
// as a service that embeds tether does, on the fake clock c.
func goService(t *testing.T, api *tethertest.Provider, c *tethertest.Clock) *workflow.Engine {
	t.Helper()
	w := waiter.NewMemory(&waiter.MemoryOptions{Clock: c})
	t.Cleanup(func() { _ = w.Close() })
	cb, err := listener.NewCallback(listener.CallbackConfig{Callbacks: []listener.Callback{{
		Path: "/done", IdentifyBy: "${body.task_id}", Status: "${body.status}",
		SuccessWhen: []string{"completed"}, FailWhen: []string{"failed"}, Result: "${body.output}",
	}}}, w, nil)
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/tether/", http.StripPrefix("/tether", cb))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	e := workflow.New(&workflow.Options{
		Waiter:  w,
		Clock:   c,
		Sources: expr.Sources{"env": expr.Of(map[string]any{"API_URL": api.URL, "PUBLIC_URL": srv.URL})},
	})
	t.Cleanup(func() { _ = e.Close() })
	require.NoError(t, e.AddHTTPClient("gen", &workflow.HTTPClient{
		Endpoint:   "${env.API_URL}/generate",
		Body:       map[string]any{"task_id": "${context.run_id}", "callback_url": "${env.PUBLIC_URL}/tether/done"},
		Completion: &workflow.Completion{Type: workflow.CompletionCallback, WaitFor: "${context.run_id}", Timeout: time.Minute * 2},
	}))
	require.NoError(t, e.AddWorkflow(&workflow.Workflow{ID: "gen", Component: "gen"}))
	return e
}

func TestRunsOfGoEngineComplete(t *testing.T) {
	api := tethertest.NewProvider(t, tethertest.Complete(catImage).Early())
	c := tethertest.NewClock()
	e := goService(t, api, c)
	runs := tethertest.NewRuns(t, e, c)

	run, err := e.Start(context.Background(), "gen", nil)
	require.NoError(t, err)

	assert.Equal(t, catImage, runs.RequireCompleted(run.ID))
	assert.Equal(t, tethertest.Epoch, runs.Get(run.ID).CreatedAt)
}

func TestRunsOfGoEngineTimeout(t *testing.T) {
	api := tethertest.NewProvider(t, tethertest.Never())
	c := tethertest.NewClock()
	e := goService(t, api, c)
	runs := tethertest.NewRuns(t, e, c)

	run, err := e.Start(context.Background(), "gen", nil)
	require.NoError(t, err)
	c.AdvanceTimer(t, 2*time.Minute)

	assert.Contains(t, runs.RequireFailed(run.ID), "not received within 2m0s")
	assert.Equal(t, workflow.StateFailed, runs.WaitJobState(run.ID, "gen", workflow.StateFailed).Jobs[0].State)
}
