package listener

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/verify"
	"github.com/tether-go/tether/waiter"
)

// observed records what an Observer receives.
type observed struct {
	mu     sync.Mutex // guards events
	events []string
}

func (o *observed) add(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, s)
}

func (o *observed) list() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.events...)
}

func (o *observed) observer() *Observer {
	return &Observer{
		Callback:        func(path string, r Result) { o.add("callback " + path + " " + string(r)) },
		Trigger:         func(path string, r Result) { o.add("trigger " + path + " " + string(r)) },
		SignatureFailed: func(kind, path string) { o.add("signature " + kind + " " + path) },
	}
}

func TestObserverCallbackResults(t *testing.T) {
	var o observed
	w := waiter.NewMemory(nil)
	defer w.Close()
	cfg := CallbackConfig{Callbacks: []Callback{{
		Path:        "/done",
		IdentifyBy:  "${body.id}",
		Status:      "${body.status}",
		SuccessWhen: []string{"ok"},
	}}}
	l, err := NewCallback(cfg, w, &Options{Observer: o.observer()})
	require.NoError(t, err)

	p, err := w.Expect(context.Background(), "a")
	require.NoError(t, err)
	defer p.Cancel()
	postJSON(t, l, "/done", `{"id": "a", "status": "ok"}`)
	postJSON(t, l, "/done", `{"id": "a", "status": "ok"}`)
	postJSON(t, l, "/done", `{"id": "b", "status": "ok"}`)
	postJSON(t, l, "/done", `{"id": "c", "status": "running"}`)
	postJSON(t, l, "/done", `{"status": "ok"}`)
	postJSON(t, l, "/done", `{not json`)

	assert.Equal(t, []string{
		"callback /done delivered",
		"callback /done duplicate",
		"callback /done stored",
		"callback /done ignored",
		"callback /done rejected",
		"callback /done rejected",
	}, o.list())
}

func TestObserverBulkCallbackItems(t *testing.T) {
	var o observed
	cfg := CallbackConfig{Callbacks: []Callback{{
		Path: "/batch", Bulk: true, Item: "${body.items}", IdentifyBy: "${item.id}",
	}}}
	l, err := NewCallback(cfg, &fakeWaiter{}, &Options{Observer: o.observer()})
	require.NoError(t, err)

	postJSON(t, l, "/batch", `{"items": [{"id": "x"}, {}]}`)

	assert.Equal(t, []string{"callback /batch stored", "callback /batch rejected"}, o.list())
}

func TestObserverWaiterFull(t *testing.T) {
	var o observed
	fw := &fakeWaiter{DeliverFunc: func(context.Context, string, waiter.Outcome) (waiter.Delivery, error) {
		return 0, waiter.ErrFull
	}}
	l, err := NewCallback(CallbackConfig{Callbacks: []Callback{{Path: "/done"}}}, fw, &Options{Observer: o.observer()})
	require.NoError(t, err)

	w := postJSON(t, l, "/done", `{}`)

	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, []string{"callback /done rejected"}, o.list())
}

func TestObserverSignatureFailed(t *testing.T) {
	var o observed
	reject := verify.VerifierFunc(func(*http.Request, []byte) error { return errors.New("bad signature") })
	l, err := NewCallback(CallbackConfig{Callbacks: []Callback{{Path: "/done", Verify: reject}}}, &fakeWaiter{}, &Options{Observer: o.observer()})
	require.NoError(t, err)

	w := postJSON(t, l, "/done", `{}`)

	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Equal(t, []string{"signature http-callback /done", "callback /done rejected"}, o.list())
}

func TestObserverTriggerResults(t *testing.T) {
	var o observed
	s := &recordingStarter{}
	cfg := TriggerConfig{Triggers: []Trigger{{Path: "/hook", Workflow: "w", IdempotencyKey: "${body.key}"}}}
	l, err := NewTrigger(cfg, s, &Options{Observer: o.observer()})
	require.NoError(t, err)

	postJSON(t, l, "/hook", `{"key": "k1"}`)
	postJSON(t, l, "/hook", `{"key": "k1"}`)
	s.StartFunc = func(context.Context, string, any) (RunInfo, error) { return RunInfo{}, errors.New("engine closed") }
	postJSON(t, l, "/hook", `{"key": "k2"}`)

	assert.Equal(t, []string{"trigger /hook started", "trigger /hook replayed", "trigger /hook rejected"}, o.list())
}

func TestObserverNilFieldsAreSkipped(t *testing.T) {
	l, err := NewCallback(CallbackConfig{Callbacks: []Callback{{Path: "/done"}}}, &fakeWaiter{}, &Options{Observer: &Observer{}})
	require.NoError(t, err)

	w := postJSON(t, l, "/done", `{}`)

	assert.Equal(t, http.StatusOK, w.Code)
}
