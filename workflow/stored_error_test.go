package workflow_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/waiter"
	"github.com/tether-go/tether/workflow"
)

// The error that Wait returns for a run that has already ended is
// rebuilt from the stored record; it must still match the sentinels.
func TestWaitAfterEndKeepsErrorKind(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "quota exceeded", http.StatusTooManyRequests)
	}))
	t.Cleanup(api.Close)

	e := workflow.New(nil)
	t.Cleanup(func() { _ = e.Close() })
	require.NoError(t, e.AddHTTPClient("api", &workflow.HTTPClient{Endpoint: api.URL}))
	require.NoError(t, e.AddComponent("remote-fail", workflow.Func(func(ctx context.Context, input any) (any, error) {
		return nil, &waiter.RemoteError{Status: "failed"}
	})))
	require.NoError(t, e.AddWorkflow(&workflow.Workflow{ID: "http", Component: "api"}))
	require.NoError(t, e.AddWorkflow(&workflow.Workflow{ID: "remote", Component: "remote-fail"}))

	for _, tc := range []struct {
		workflow string
		want     error
		kind     string
	}{
		{"http", workflow.ErrHTTP, "http"},
		{"remote", waiter.ErrRemoteFailed, "remote_failed"},
	} {
		run, err := e.Run(context.Background(), tc.workflow, nil)
		require.Error(t, err)
		assert.ErrorIs(t, err, tc.want, "the live error")

		again, err := e.Wait(context.Background(), run.ID)
		require.Error(t, err)
		assert.ErrorIs(t, err, tc.want, "the error rebuilt from the record")
		assert.Equal(t, tc.kind, again.ErrorKind)
		assert.Equal(t, run.Error, err.Error())
	}
	var httpErr *workflow.HTTPError
	_, err := e.Run(context.Background(), "http", nil)
	require.True(t, errors.As(err, &httpErr))
	assert.Equal(t, http.StatusTooManyRequests, httpErr.StatusCode)
}
