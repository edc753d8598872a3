package listener

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/waiter"
)

// A sender with a wrong callback URL gets 404, and the listener logs the
// request, so that a callback that never arrives can be traced.
func TestUnknownPathIsLogged(t *testing.T) {
	var logs bytes.Buffer
	l, err := NewCallback(CallbackConfig{Callbacks: []Callback{{Path: "/done"}}}, waiter.NewMemory(nil),
		&Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)

	w := httptest.NewRecorder()
	l.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/webhooks/done", strings.NewReader(`{}`)))
	assert.Equal(t, http.StatusNotFound, w.Code)
	assert.Contains(t, logs.String(), "request for an unknown path")
	assert.Contains(t, logs.String(), "path=/webhooks/done")

	logs.Reset()
	w = httptest.NewRecorder()
	l.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/done", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, w.Code)
	assert.Contains(t, logs.String(), "method=GET")
	assert.Contains(t, logs.String(), "allow=POST")
}
