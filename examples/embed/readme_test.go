package main

// TestEmbedInService is the "Embedding in a Go service" snippet of
// README.md, so that the snippet compiles and passes.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/expr"
	"github.com/tether-go/tether/listener"
	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/waiter"
	"github.com/tether-go/tether/workflow"
)

func TestEmbedInService(t *testing.T) {
	image := map[string]any{"url": "https://cdn.test/cat.png"}
	api := tethertest.NewProvider(t, tethertest.Complete(image)) // the asynchronous API

	// The service's own mux, with its own routes.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })

	// A callback listener, mounted on the mux under /tether.
	w := waiter.NewMemory(nil)
	defer w.Close()
	cb, err := listener.NewCallback(listener.CallbackConfig{Callbacks: []listener.Callback{{
		Path:        "/done",
		IdentifyBy:  "${body.task_id}",
		Status:      "${body.status}",
		SuccessWhen: []string{"completed"},
		FailWhen:    []string{"failed"},
		Result:      "${body.output}",
	}}}, w, nil)
	require.NoError(t, err)
	mux.Handle("/tether/", http.StripPrefix("/tether", cb))

	srv := httptest.NewServer(mux) // or the service's own http.Server
	defer srv.Close()

	// A workflow built from Go: a Go component, then an asynchronous
	// API that calls back to the mounted listener.
	engine := workflow.New(&workflow.Options{
		Waiter:  w,
		Sources: expr.Sources{"env": expr.Of(map[string]any{"API_URL": api.URL, "PUBLIC_URL": srv.URL})},
	})
	defer engine.Close()
	require.NoError(t, engine.AddComponent("shout", workflow.Func(func(ctx context.Context, in any) (any, error) {
		return strings.ToUpper(fmt.Sprint(in)), nil
	})))
	require.NoError(t, engine.AddHTTPClient("generate", &workflow.HTTPClient{
		Endpoint: "${env.API_URL}/generate",
		Body: map[string]any{
			"prompt":       "${input.prompt}",
			"task_id":      "${context.run_id}",
			"callback_url": "${env.PUBLIC_URL}/tether/done",
		},
		Completion: &workflow.Completion{Type: workflow.CompletionCallback, WaitFor: "${context.run_id}"},
	}))
	require.NoError(t, engine.AddWorkflow(&workflow.Workflow{ID: "draw", Jobs: []workflow.Job{
		{ID: "prompt", Component: "shout", Input: "${input.prompt}"},
		{ID: "image", Component: "generate", Input: map[string]any{"prompt": "${jobs.prompt.output}"}},
	}}))

	run, err := engine.Run(context.Background(), "draw", map[string]any{"prompt": "a cat"})
	require.NoError(t, err)
	assert.Equal(t, image, run.Output)
	assert.Equal(t, "A CAT", api.Requests()[0].Body["prompt"])
}
