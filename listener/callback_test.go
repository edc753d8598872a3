package listener

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/waiter"
)

func TestCallbackDeliversToWaiter(t *testing.T) {
	w := waiter.NewMemory(nil)
	defer w.Close()
	l := newTestCallback(t, Callback{
		Path:        "/webhook/completed",
		IdentifyBy:  "${body.task_id}",
		Status:      "${body.status}",
		SuccessWhen: []string{"completed"},
		FailWhen:    []string{"failed"},
		Result:      "${body.result}",
	}, w)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pending, err := w.Expect(ctx, "task-123")
	require.NoError(t, err)

	rec := postJSON(t, l, "/webhook/completed", `{"task_id":"task-123","status":"completed","result":{"url":"https://example.com/r.png"}}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"id":"task-123","status":"delivered"}`, rec.Body.String())

	outcome, err := pending.Wait(ctx)
	require.NoError(t, err)
	assert.False(t, outcome.Failed)
	assert.Equal(t, "completed", outcome.Status)
	assert.Equal(t, map[string]any{"url": "https://example.com/r.png"}, outcome.Result)

	again := postJSON(t, l, "/webhook/completed", `{"task_id":"task-123","status":"completed","result":{}}`)
	require.Equal(t, http.StatusOK, again.Code)
	assert.JSONEq(t, `{"id":"task-123","status":"duplicate"}`, again.Body.String())

	early := postJSON(t, l, "/webhook/completed", `{"task_id":"task-999","status":"completed","result":1}`)
	require.Equal(t, http.StatusOK, early.Code)
	assert.JSONEq(t, `{"id":"task-999","status":"stored"}`, early.Body.String())
}

func TestCallbackStatusClassification(t *testing.T) {
	cases := []struct {
		name        string
		successWhen []string
		failWhen    []string
		status      string
		reply       string
		delivered   bool
		failed      bool
	}{
		{"success value", []string{"completed"}, []string{"failed"}, "completed", "stored", true, false},
		{"failure value", []string{"completed"}, []string{"failed"}, "failed", "stored", true, true},
		{"status in neither list", []string{"completed"}, []string{"failed"}, "processing", "ignored", false, false},
		{"no success list means success", nil, []string{"failed"}, "anything", "stored", true, false},
		{"no success list still fails", nil, []string{"failed", "error"}, "error", "stored", true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fw := &fakeWaiter{}
			l := newTestCallback(t, Callback{
				Path: "/cb", IdentifyBy: "${body.id}", Status: "${body.state}",
				SuccessWhen: tc.successWhen, FailWhen: tc.failWhen,
			}, fw)
			rec := postJSON(t, l, "/cb", `{"id":"t1","state":"`+tc.status+`","detail":"d"}`)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.JSONEq(t, `{"id":"t1","status":"`+tc.reply+`"}`, rec.Body.String())
			got := fw.deliveries()
			if !tc.delivered {
				assert.Empty(t, got)
				return
			}
			require.Len(t, got, 1)
			assert.Equal(t, tc.failed, got[0].outcome.Failed)
			assert.Equal(t, tc.status, got[0].outcome.Status)
			if tc.failed {
				assert.Equal(t, map[string]any{"id": "t1", "state": tc.status, "detail": "d"}, got[0].outcome.Payload)
				assert.Nil(t, got[0].outcome.Result)
			}
		})
	}
}

func TestCallbackIdentifyBy(t *testing.T) {
	cases := []struct {
		name       string
		identifyBy string
		target     string
		header     http.Header
		wantID     string
	}{
		{"default id", "", "/cb", nil, DefaultCallbackID},
		{"from body", "${body.task_id}", "/cb", nil, "body-id"},
		{"from query", "${query.task_id}", "/cb?task_id=query-id", nil, "query-id"},
		{"from header", "${header.X-Task-Id}", "/cb", http.Header{"X-Task-Id": {"header-id"}}, "header-id"},
		{"header any case", "${header.x-task-id}", "/cb", http.Header{"X-Task-Id": {"header-id"}}, "header-id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fw := &fakeWaiter{}
			l := newTestCallback(t, Callback{Path: "/cb", IdentifyBy: tc.identifyBy}, fw)
			header := http.Header{"Content-Type": {"application/json"}}
			for k, v := range tc.header {
				header[k] = v
			}
			rec := send(t, l, http.MethodPost, tc.target, header, []byte(`{"task_id":"body-id","v":1}`))
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			got := fw.deliveries()
			require.Len(t, got, 1)
			assert.Equal(t, tc.wantID, got[0].id)
			assert.Equal(t, map[string]any{"task_id": "body-id", "v": float64(1)}, normalizeNumbers(got[0].outcome.Result))
		})
	}
}

func TestCallbackMissingIDIs400(t *testing.T) {
	fw := &fakeWaiter{}
	l := newTestCallback(t, Callback{Path: "/cb", IdentifyBy: "${body.task_id}"}, fw)
	rec := postJSON(t, l, "/cb", `{"other":"x"}`)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Contains(t, rec.Body.String(), "callback id is missing")
	assert.Empty(t, fw.deliveries())
}

func TestCallbackResultMapping(t *testing.T) {
	fw := &fakeWaiter{}
	l := newTestCallback(t, Callback{
		Path:       "/cb",
		IdentifyBy: "${body.task_id}",
		Result: map[string]any{
			"url":    "${body.output.url}",
			"width":  "${body.output.width}",
			"nested": map[string]any{"size": "${body.output.file_size}"},
		},
	}, fw)
	rec := postJSON(t, l, "/cb", `{"task_id":"t","output":{"url":"u","width":640,"file_size":1024}}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	got := fw.deliveries()
	require.Len(t, got, 1)
	assert.Equal(t, map[string]any{
		"url":    "u",
		"width":  float64(640),
		"nested": map[string]any{"size": float64(1024)},
	}, normalizeNumbers(got[0].outcome.Result))
}

func TestCallbackBulk(t *testing.T) {
	fw := &fakeWaiter{}
	l := newTestCallback(t, Callback{
		Path:        "/batch/completed",
		Bulk:        true,
		Item:        "${body.results}",
		IdentifyBy:  "${item.task_id}",
		Status:      "${item.status}",
		SuccessWhen: []string{"completed"},
		FailWhen:    []string{"failed"},
		Result:      "${item.data}",
	}, fw)
	rec := postJSON(t, l, "/batch/completed", `{"results":[
		{"task_id":"task-1","status":"completed","data":{"url":"one"}},
		{"status":"completed","data":{}},
		{"task_id":"task-3","status":"processing"},
		{"task_id":"task-4","status":"failed","data":{"why":"x"}}
	]}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `[
		{"id":"task-1","status":"stored"},
		{"error":"callback id is missing: identify_by ${item.task_id} is empty for this request"},
		{"id":"task-3","status":"ignored"},
		{"id":"task-4","status":"stored"}
	]`, rec.Body.String())
	got := fw.deliveries()
	require.Len(t, got, 2)
	assert.Equal(t, "task-1", got[0].id)
	assert.Equal(t, map[string]any{"url": "one"}, got[0].outcome.Result)
	assert.Equal(t, "task-4", got[1].id)
	assert.True(t, got[1].outcome.Failed)
}

func TestCallbackBulkTopLevelArray(t *testing.T) {
	fw := &fakeWaiter{}
	l := newTestCallback(t, Callback{Path: "/cb", Bulk: true, IdentifyBy: "${item.id}"}, fw)
	rec := postJSON(t, l, "/cb", `[{"id":"a"},{"id":"b"}]`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	got := fw.deliveries()
	require.Len(t, got, 2)
	assert.Equal(t, map[string]any{"id": "b"}, got[1].outcome.Result)
}

func TestCallbackBulkNotArray(t *testing.T) {
	fw := &fakeWaiter{}
	l := newTestCallback(t, Callback{Path: "/cb", Bulk: true, Item: "${body.results}", IdentifyBy: "${item.id}"}, fw)
	for _, body := range []string{`{"results":{"id":"a"}}`, `{}`, `null`, `"text"`} {
		rec := postJSON(t, l, "/cb", body)
		assert.Equal(t, http.StatusBadRequest, rec.Code, body)
		assert.Contains(t, rec.Body.String(), "bulk item ${body.results} is not an array", body)
	}
	assert.Empty(t, fw.deliveries())
}

func TestCallbackBulkFormBody(t *testing.T) {
	fw := &fakeWaiter{}
	l := newTestCallback(t, Callback{Path: "/cb", Bulk: true, Item: "${body.id}", IdentifyBy: "${item}"}, fw)
	rec := send(t, l, http.MethodPost, "/cb", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, []byte("id=a&id=b"))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	got := fw.deliveries()
	require.Len(t, got, 2)
	assert.Equal(t, "a", got[0].id)
	assert.Equal(t, "b", got[1].id)
}

func TestCallbackWaiterFull(t *testing.T) {
	fw := &fakeWaiter{DeliverFunc: func(ctx context.Context, id string, o waiter.Outcome) (waiter.Delivery, error) {
		return 0, waiter.ErrFull
	}}
	l := newTestCallback(t, Callback{Path: "/cb", IdentifyBy: "${body.id}"}, fw)
	rec := postJSON(t, l, "/cb", `{"id":"x"}`)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, "1", rec.Header().Get("Retry-After"))
	assert.Contains(t, rec.Body.String(), "too many undelivered callbacks")

	bulk := newTestCallback(t, Callback{Path: "/cb", Bulk: true, IdentifyBy: "${item.id}"}, fw)
	rec = postJSON(t, bulk, "/cb", `[{"id":"x"}]`)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, "1", rec.Header().Get("Retry-After"))
}

func TestCallbackWaiterError(t *testing.T) {
	fw := &fakeWaiter{DeliverFunc: func(ctx context.Context, id string, o waiter.Outcome) (waiter.Delivery, error) {
		return 0, errors.New("connection refused")
	}}
	l := newTestCallback(t, Callback{Path: "/cb", IdentifyBy: "${body.id}"}, fw)
	rec := postJSON(t, l, "/cb", `{"id":"x"}`)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.NotContains(t, rec.Body.String(), "connection refused")
}

// normalizeNumbers turns json.Number and integer values into float64,
// so that checks do not depend on how expr represents JSON numbers.
func normalizeNumbers(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = normalizeNumbers(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = normalizeNumbers(e)
		}
		return out
	case interface{ Float64() (float64, error) }:
		f, _ := v.Float64()
		return f
	case int:
		return float64(v)
	case int64:
		return float64(v)
	}
	return v
}

func TestCallbackMalformedBodyDeliversNothing(t *testing.T) {
	fw := &fakeWaiter{}
	l := newTestCallback(t, Callback{Path: "/cb", IdentifyBy: "${query.id}"}, fw)
	rec := send(t, l, http.MethodPost, "/cb?id=t1", http.Header{"Content-Type": {"application/json; charset=utf-8"}}, []byte(`{"status":`))
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.JSONEq(t, `{"error":"request body is not valid JSON (declared as application/json): syntax error at byte 10"}`, rec.Body.String())
	assert.Empty(t, fw.deliveries())
}
