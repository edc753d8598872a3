package listener

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/expr"
	"github.com/tether-go/tether/verify"
)

func TestTriggerStartsRun(t *testing.T) {
	starter := &recordingStarter{}
	l := newTestTrigger(t, Trigger{
		Path:     "/webhooks/deploy",
		Workflow: "deployment-workflow",
		Input: map[string]any{
			"repo":   "${body.repository.name}",
			"branch": "${body.ref}",
			"mode":   "${query.mode}",
		},
	}, starter)
	rec := postJSON(t, l, "/webhooks/deploy?mode=test", `{"ref":"refs/heads/main","repository":{"name":"tether"}}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"task_id":"run-1","status":"pending"}`, rec.Body.String())
	assert.Equal(t, []any{map[string]any{"repo": "tether", "branch": "refs/heads/main", "mode": "test"}}, starter.started())
}

func TestTriggerInputDefaultsToBody(t *testing.T) {
	starter := &recordingStarter{}
	l := newTestTrigger(t, Trigger{Path: "/t", Workflow: "wf"}, starter)
	rec := postJSON(t, l, "/t", `{"a":[1,2],"b":{"c":"d"}}`)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Len(t, starter.started(), 1)
	assert.Equal(t, map[string]any{"a": []any{float64(1), float64(2)}, "b": map[string]any{"c": "d"}}, normalizeNumbers(starter.started()[0]))
}

func TestTriggerBulkReportsEachItem(t *testing.T) {
	var calls atomic.Int32
	starter := &recordingStarter{StartFunc: func(ctx context.Context, wf string, input any) (RunInfo, error) {
		n := calls.Add(1)
		if input.(map[string]any)["item_id"] == "item-2" {
			return RunInfo{}, errors.New("queue is full")
		}
		return RunInfo{ID: "run-" + itoa(int(n)), Status: "running"}, nil
	}}
	l := newTestTrigger(t, Trigger{
		Path: "/batch/process", Workflow: "item-processor", Bulk: true, Item: "${body.items}",
		Input: map[string]any{"item_id": "${item.id}", "data": "${item.data}"},
	}, starter)
	rec := postJSON(t, l, "/batch/process", `{"items":[
		{"id":"item-1","data":{"name":"Product A"}},
		{"id":"item-2","data":{"name":"Product B"}},
		{"id":"item-3","data":{"name":"Product C"}}
	]}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `[
		{"task_id":"run-1","status":"running"},
		{"error":"could not start the workflow run; retry later"},
		{"task_id":"run-3","status":"running"}
	]`, rec.Body.String())
	assert.Equal(t, int32(3), calls.Load())
}

func TestTriggerBulkEmptyArray(t *testing.T) {
	starter := &recordingStarter{}
	l := newTestTrigger(t, Trigger{Path: "/t", Workflow: "wf", Bulk: true, Item: "${body.items}"}, starter)
	rec := postJSON(t, l, "/t", `{"items":[]}`)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `[]`, rec.Body.String())
	assert.Empty(t, starter.started())
}

func TestTriggerStartFailureIs503(t *testing.T) {
	starter := &recordingStarter{StartFunc: func(ctx context.Context, wf string, input any) (RunInfo, error) {
		return RunInfo{}, errors.New("engine stopped")
	}}
	l := newTestTrigger(t, Trigger{Path: "/t", Workflow: "wf"}, starter)
	rec := postJSON(t, l, "/t", `{}`)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, "1", rec.Header().Get("Retry-After"))
}

func TestTriggerStartOutlivesClientCancel(t *testing.T) {
	starter := &recordingStarter{StartFunc: func(ctx context.Context, wf string, input any) (RunInfo, error) {
		if ctx.Err() != nil {
			return RunInfo{}, ctx.Err()
		}
		return RunInfo{ID: "r", Status: "pending"}, nil
	}}
	l := newTestTrigger(t, Trigger{Path: "/t", Workflow: "wf"}, starter)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, "/t", nil)
	require.NoError(t, err)
	rec := newRecorderServe(l, r)
	assert.Equal(t, http.StatusOK, rec.Code)
}

// TestPayloadNeverEvaluated checks that ${...} text inside a request
// stays text: only templates from the configuration are evaluated.
func TestPayloadNeverEvaluated(t *testing.T) {
	starter := &recordingStarter{}
	sources := expr.Sources{"env": expr.Of(map[string]any{"SECRET": "s3cr3t"})}
	cfg := TriggerConfig{Triggers: []Trigger{{
		Path: "/t", Workflow: "wf",
		Input: map[string]any{"text": "${body.text}", "whole": "${body}", "query": "${query.q}"},
	}}}
	l, err := NewTrigger(cfg, starter, &Options{Sources: sources})
	require.NoError(t, err)
	rec := send(t, l, http.MethodPost, "/t?q=%24%7Benv.SECRET%7D",
		http.Header{"Content-Type": {"application/json"}},
		[]byte(`{"text":"${env.SECRET}","n":"${1+1}"}`))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Len(t, starter.started(), 1)
	input := starter.started()[0].(map[string]any)
	assert.Equal(t, "${env.SECRET}", input["text"])
	assert.Equal(t, "${env.SECRET}", input["query"])
	assert.Equal(t, map[string]any{"text": "${env.SECRET}", "n": "${1+1}"}, input["whole"])
}

func TestTriggerSeesHostSources(t *testing.T) {
	starter := &recordingStarter{}
	sources := expr.Sources{"env": expr.Of(map[string]any{"REGION": "eu"})}
	cfg := TriggerConfig{Triggers: []Trigger{{Path: "/t", Workflow: "wf", Input: "${env.REGION}"}}}
	l, err := NewTrigger(cfg, starter, &Options{Sources: sources})
	require.NoError(t, err)
	rec := postJSON(t, l, "/t", `{}`)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, []any{"eu"}, starter.started())
}

func TestIdempotencyKeyRepeats(t *testing.T) {
	starter := &recordingStarter{}
	clk := newFakeClock()
	cfg := TriggerConfig{Triggers: []Trigger{{
		Path: "/t", Workflow: "wf", IdempotencyKey: "${header.X-GitHub-Delivery}",
		IdempotencyWindow: 10 * time.Minute,
	}}}
	l, err := NewTrigger(cfg, starter, &Options{Clock: clk})
	require.NoError(t, err)
	header := http.Header{"Content-Type": {"application/json"}, "X-Github-Delivery": {"d-1"}}

	first := send(t, l, http.MethodPost, "/t", header, []byte(`{"n":1}`))
	require.Equal(t, http.StatusOK, first.Code)
	second := send(t, l, http.MethodPost, "/t", header, []byte(`{"n":2}`))
	require.Equal(t, http.StatusOK, second.Code)
	assert.Equal(t, first.Body.String(), second.Body.String())
	assert.Equal(t, "true", second.Header().Get(replayedHeader))
	assert.Empty(t, first.Header().Get(replayedHeader))
	assert.Len(t, starter.started(), 1)

	clk.Advance(9 * time.Minute)
	send(t, l, http.MethodPost, "/t", header, []byte(`{"n":3}`))
	assert.Len(t, starter.started(), 1, "a repeat inside the window starts nothing")

	clk.Advance(2 * time.Minute)
	third := send(t, l, http.MethodPost, "/t", header, []byte(`{"n":4}`))
	require.Equal(t, http.StatusOK, third.Code)
	assert.Len(t, starter.started(), 2, "a key past its window starts a run")

	other := header.Clone()
	other.Set("X-Github-Delivery", "d-2")
	send(t, l, http.MethodPost, "/t", other, []byte(`{}`))
	noKey := http.Header{"Content-Type": {"application/json"}}
	send(t, l, http.MethodPost, "/t", noKey, []byte(`{}`))
	send(t, l, http.MethodPost, "/t", noKey, []byte(`{}`))
	assert.Len(t, starter.started(), 5, "other keys and requests without a key each start a run")
}

func TestIdempotencyConcurrentRepeats(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	starter := &recordingStarter{StartFunc: func(ctx context.Context, wf string, input any) (RunInfo, error) {
		calls.Add(1)
		<-release
		return RunInfo{ID: "only", Status: "pending"}, nil
	}}
	l := newTestTrigger(t, Trigger{Path: "/t", Workflow: "wf", IdempotencyKey: "${body.event_id}"}, starter)

	const n = 8
	var wg sync.WaitGroup
	bodies := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := postJSON(t, l, "/t", `{"event_id":"Ev1"}`)
			bodies[i] = rec.Body.String()
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	assert.Equal(t, int32(1), calls.Load())
	for i := range n {
		assert.JSONEq(t, `{"task_id":"only","status":"pending"}`, bodies[i])
	}
}

func TestIdempotencyFailureNotRemembered(t *testing.T) {
	fail := true
	starter := &recordingStarter{StartFunc: func(ctx context.Context, wf string, input any) (RunInfo, error) {
		if fail {
			return RunInfo{}, errors.New("busy")
		}
		return RunInfo{ID: "r", Status: "pending"}, nil
	}}
	l := newTestTrigger(t, Trigger{Path: "/t", Workflow: "wf", IdempotencyKey: "${body.id}"}, starter)
	rec := postJSON(t, l, "/t", `{"id":"evt"}`)
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	fail = false
	rec = postJSON(t, l, "/t", `{"id":"evt"}`)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Empty(t, rec.Header().Get(replayedHeader))
}

func TestIdempotencyStoreBounded(t *testing.T) {
	store := newIdempotencyStore(time.Hour, 3, newFakeClock())
	for _, key := range []string{"a", "b", "c", "d"} {
		e, first, _ := store.begin(context.Background(), key)
		require.True(t, first)
		store.complete(e, &reply{status: 200})
	}
	assert.Equal(t, 3, store.len())
	_, first, _ := store.begin(context.Background(), "a")
	assert.True(t, first, "the oldest key was evicted")
}

func TestSlackURLVerification(t *testing.T) {
	starter := &recordingStarter{}
	l := newTestTrigger(t, Trigger{Path: "/slack/events", Workflow: "slack-bot", Preset: PresetSlackEvents,
		Input: map[string]any{"text": "${body.event.text}"}}, starter)
	rec := postJSON(t, l, "/slack/events", `{"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}`, rec.Body.String())
	assert.Empty(t, starter.started())

	event := `{"type":"event_callback","event_id":"Ev0PV52K21","event":{"type":"app_mention","text":"hi"}}`
	rec = postJSON(t, l, "/slack/events", event)
	require.Equal(t, http.StatusOK, rec.Code)
	retry := send(t, l, http.MethodPost, "/slack/events",
		http.Header{"Content-Type": {"application/json"}, "X-Slack-Retry-Num": {"1"}, "X-Slack-Retry-Reason": {"http_timeout"}},
		[]byte(event))
	require.Equal(t, http.StatusOK, retry.Code)
	assert.Equal(t, rec.Body.String(), retry.Body.String())
	assert.Equal(t, []any{map[string]any{"text": "hi"}}, starter.started())
}

func TestDiscordPing(t *testing.T) {
	starter := &recordingStarter{}
	l := newTestTrigger(t, Trigger{Path: "/discord", Workflow: "bot", Preset: PresetDiscordInteractions}, starter)
	rec := postJSON(t, l, "/discord", `{"id":"1","application_id":"2","type":1,"version":1}`)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"type":1}`, rec.Body.String())
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.Empty(t, starter.started())

	rec = postJSON(t, l, "/discord", `{"id":"3","type":2,"data":{"name":"ask"}}`)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"type":5}`, rec.Body.String())
	assert.Len(t, starter.started(), 1)
}

func TestGitHubPingAcknowledged(t *testing.T) {
	starter := &recordingStarter{}
	l := newTestTrigger(t, Trigger{Path: "/gh", Workflow: "ci", Preset: PresetGitHub}, starter)
	rec := send(t, l, http.MethodPost, "/gh",
		http.Header{"Content-Type": {"application/json"}, "X-Github-Event": {"ping"}, "X-Github-Delivery": {"d1"}},
		[]byte(`{"zen":"Keep it logically awesome.","hook_id":1}`))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"status":"ignored"}`, rec.Body.String())
	assert.Empty(t, starter.started())
}

func TestResponsesAndReplyTemplates(t *testing.T) {
	starter := &recordingStarter{}
	l := newTestTrigger(t, Trigger{
		Path: "/t", Workflow: "wf",
		Responses: []Response{
			{When: "${body.kind}", Equals: []string{"check"}, Status: 202, Body: "ok ${body.n}", Headers: map[string]string{"X-Mode": "${query.mode}"}},
			{When: "${body.skip}", Status: 204},
		},
		Reply: &Reply{Status: 202, Body: map[string]any{"run": "${output.task_id}", "echo": "${body.n}"}},
	}, starter)

	rec := postJSON(t, l, "/t?mode=m1", `{"kind":"check","n":7}`)
	assert.Equal(t, 202, rec.Code)
	assert.Equal(t, "ok 7", rec.Body.String())
	assert.Equal(t, "text/plain; charset=utf-8", rec.Header().Get("Content-Type"))
	assert.Equal(t, "m1", rec.Header().Get("X-Mode"))

	rec = postJSON(t, l, "/t", `{"skip":true}`)
	assert.Equal(t, 204, rec.Code)
	assert.Empty(t, rec.Body.String())

	rec = postJSON(t, l, "/t", `{"skip":false,"n":"x"}`)
	assert.Equal(t, 202, rec.Code)
	assert.JSONEq(t, `{"run":"run-1","echo":"x"}`, rec.Body.String())
	assert.Len(t, starter.started(), 1)
}

func TestVerifierRejects(t *testing.T) {
	starter := &recordingStarter{}
	var seen []byte
	v := verify.VerifierFunc(func(r *http.Request, body []byte) error {
		seen = body
		if r.Header.Get("X-Sig") != "good" {
			return errors.New("verify test: no signature matched")
		}
		return nil
	})
	l := newTestTrigger(t, Trigger{Path: "/t", Workflow: "wf", Verify: v, Preset: PresetSlackEvents}, starter)

	gz := gzipBytes(t, []byte(`{"type":"url_verification","challenge":"c"}`))
	header := http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}, "X-Sig": {"bad"}}
	rec := send(t, l, http.MethodPost, "/t", header, gz)
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.NotContains(t, rec.Body.String(), "challenge")
	assert.Equal(t, gz, seen, "the verifier sees the bytes as they arrived")

	header.Set("X-Sig", "good")
	rec = send(t, l, http.MethodPost, "/t", header, gz)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"challenge":"c"}`, rec.Body.String())
	assert.Empty(t, starter.started())
}

func TestReplyUnencodableNot500(t *testing.T) {
	starter := &recordingStarter{}
	l := newTestTrigger(t, Trigger{
		Path: "/t", Workflow: "wf",
		Responses: []Response{{When: "${body.ack}", Body: map[string]any{"x": "${body.a * body.b}"}}},
		Reply:     &Reply{Body: map[string]any{"x": "${body.a * body.b}"}},
	}, starter)

	rec := postJSON(t, l, "/t", `{"ack":true,"a":1e308,"b":10}`)
	assert.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
	assert.Empty(t, starter.started())

	rec = postJSON(t, l, "/t", `{"ack":false,"a":1e308,"b":10}`)
	assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"task_id":"run-1","status":"pending"}`, rec.Body.String(), "the default reply replaces a reply that cannot be encoded")
}

func TestResponseWhenTruthiness(t *testing.T) {
	cases := []struct {
		value string
		acked bool
	}{
		{`null`, false},
		{`false`, false},
		{`0`, false},
		{`""`, false},
		{`true`, true},
		{`1`, true},
		{`"x"`, true},
		{`{}`, true},
		{`[]`, true},
	}
	for _, tc := range cases {
		starter := &recordingStarter{}
		l := newTestTrigger(t, Trigger{Path: "/t", Workflow: "wf", Responses: []Response{{When: "${body.v}", Status: 202}}}, starter)
		rec := postJSON(t, l, "/t", `{"v":`+tc.value+`}`)
		if tc.acked {
			assert.Equal(t, 202, rec.Code, "value %s", tc.value)
			assert.Empty(t, starter.started(), "value %s", tc.value)
		} else {
			assert.Equal(t, http.StatusOK, rec.Code, "value %s", tc.value)
			assert.Len(t, starter.started(), 1, "value %s", tc.value)
		}
	}
}

func TestTriggerShutdownMounted(t *testing.T) {
	l := newTestTrigger(t, Trigger{Path: "/t", Workflow: "wf"}, &recordingStarter{})
	require.NoError(t, l.Shutdown(context.Background()))
	rec := postJSON(t, l, "/t", `{}`)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, "close", rec.Header().Get("Connection"))
	assert.ErrorIs(t, l.Shutdown(context.Background()), ErrClosed)
	assert.NoError(t, l.Close())
}
