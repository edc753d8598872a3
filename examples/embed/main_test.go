package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestExampleRunsToCompletion(t *testing.T) {
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	require.NoError(t, run(ctx, &out, slog.New(slog.DiscardHandler)))

	var output map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &output), out.String())
	assert.Equal(t, "37.50", output["total"])
	assert.EqualValues(t, 1, output["pages"])
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+/labels/[A-Z2-7]+\.pdf$`, output["label_url"])
}

func TestServiceKeepsItsOwnRoutes(t *testing.T) {
	printer, err := startPrinter()
	require.NoError(t, err)
	defer printer.Close()
	svc, err := startService(printer.URL, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer svc.Shutdown(context.Background())

	assert.Equal(t, "ok\n", get(t, svc.URL+"/healthz", http.StatusOK))
	get(t, svc.URL+"/orders/unknown", http.StatusNotFound)

	runID, err := placeOrder(context.Background(), svc.URL, `{"sku": "kite-red", "quantity": 2}`)
	require.NoError(t, err)
	_, err = svc.engine.Wait(context.Background(), runID)
	require.NoError(t, err)

	order := get(t, svc.URL+"/orders/"+runID, http.StatusOK)
	assert.Contains(t, order, `"state":"completed"`)
	assert.Contains(t, order, `"total":"25.00"`)

	// The listener counts a callback after handing it over, so the run
	// may end before the count is taken.
	require.Eventually(t, func() bool {
		return strings.Contains(get(t, svc.URL+"/metrics", http.StatusOK), `tether_callbacks_total{path="/labels",result="delivered"} 1`)
	}, 5*time.Second, 5*time.Millisecond)
	metrics := get(t, svc.URL+"/metrics", http.StatusOK)
	assert.Contains(t, metrics, `tether_callbacks_total{path="/labels",result="ignored"} 1`)
	assert.Contains(t, metrics, `tether_trigger_runs_total{path="/orders",result="started"} 1`)
	assert.Contains(t, metrics, `tether_runs_total{state="completed",workflow="fulfil"} 1`)
}

func TestUnknownTetherRouteIs404(t *testing.T) {
	printer, err := startPrinter()
	require.NoError(t, err)
	defer printer.Close()
	svc, err := startService(printer.URL, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer svc.Shutdown(context.Background())

	resp, err := http.Post(svc.URL+"/tether/callbacks/nope", "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	defer resp.Body.Close()

	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func get(t *testing.T, url string, status int) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, status, resp.StatusCode, string(body))
	return string(body)
}
