package listener

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/verify"
)

// captureHandler is a slog.Handler that keeps every record.
type captureHandler struct {
	mu      sync.Mutex // guards records
	records []slog.Record
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}

func (h *captureHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *captureHandler) WithGroup(string) slog.Handler      { return h }

// warnings returns the text of each warning as "message key=value ...".
func (h *captureHandler) warnings() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.records {
		if r.Level != slog.LevelWarn {
			continue
		}
		text := r.Message
		r.Attrs(func(a slog.Attr) bool {
			text += fmt.Sprintf(" %s=%v", a.Key, a.Value)
			return true
		})
		out = append(out, text)
	}
	return out
}

func TestUnverifiedLoggedAsWarning(t *testing.T) {
	logs := &captureHandler{}
	clk := newFakeClock()
	v := verify.VerifierFunc(func(r *http.Request, body []byte) error {
		return errors.New("verify github: missing header X-Hub-Signature-256")
	})
	cfg := TriggerConfig{Triggers: []Trigger{{Path: "/gh", Workflow: "ci", Verify: v}}}
	l, err := NewTrigger(cfg, &recordingStarter{}, &Options{Logger: slog.New(logs), Clock: clk})
	require.NoError(t, err)

	for range warnBurst + 5 {
		rec := postJSON(t, l, "/gh", `{}`)
		require.Equal(t, http.StatusUnauthorized, rec.Code)
	}
	warnings := logs.warnings()
	require.Len(t, warnings, warnBurst, "warnings past the burst are suppressed")
	assert.Equal(t, "listener: request rejected: not verified listener=http-trigger endpoint=triggers[0] path=/gh reason=verify github: missing header X-Hub-Signature-256", warnings[0])

	clk.Advance(time.Second)
	postJSON(t, l, "/gh", `{}`)
	warnings = logs.warnings()
	require.Len(t, warnings, warnBurst+2)
	assert.Equal(t, "listener: suppressed repeated warnings count=5", warnings[warnBurst])
}

func TestSilentWithoutLogger(t *testing.T) {
	l := newTestTrigger(t, Trigger{Path: "/t", Workflow: "wf"}, &recordingStarter{})
	assert.False(t, l.core.logger.Enabled(context.Background(), slog.LevelError))
}

// A run that cannot start gets a generic reply, and the Starter's error
// goes to the log with the route and the workflow id.
func TestStartErrorLogged(t *testing.T) {
	logs := &captureHandler{}
	s := StarterFunc(func(ctx context.Context, workflowID string, input any) (RunInfo, error) {
		return RunInfo{}, errors.New("save run: dial tcp store.internal:6379: connection refused")
	})
	cfg := TriggerConfig{Triggers: []Trigger{{Path: "/t", Workflow: "wf"}}}
	l, err := NewTrigger(cfg, s, &Options{Logger: slog.New(logs)})
	require.NoError(t, err)

	rec := postJSON(t, l, "/t", `{}`)
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.JSONEq(t, `{"error":"could not start the workflow run; retry later"}`, rec.Body.String())

	logs.mu.Lock()
	defer logs.mu.Unlock()
	require.Len(t, logs.records, 1)
	r := logs.records[0]
	assert.Equal(t, slog.LevelError, r.Level)
	attrs := map[string]string{}
	r.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.String()
		return true
	})
	assert.Equal(t, "/t", attrs["path"])
	assert.Equal(t, "wf", attrs["workflow"])
	assert.Equal(t, "save run: dial tcp store.internal:6379: connection refused", attrs["error"])
}
