package workflow

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/waiter"
)

// observedEvents records what an Observer receives.
type observedEvents struct {
	mu     sync.Mutex // guards events
	events []string
}

func (o *observedEvents) add(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, s)
}

func (o *observedEvents) list() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.events...)
}

func (o *observedEvents) observer() *Observer {
	return &Observer{
		WaitStarted: func(wf, comp string) { o.add("wait " + wf + "/" + comp) },
		WaitEnded: func(wf, comp string, d time.Duration, r WaitResult) {
			o.add("waited " + wf + "/" + comp + " " + d.String() + " " + string(r))
		},
		RunEnded: func(wf string, s State, d time.Duration) { o.add("run " + wf + " " + string(s) + " " + d.String()) },
	}
}

func TestObserverWaitReceivedAndTimeout(t *testing.T) {
	var o observedEvents
	clk := newFakeClock()
	w := waiter.NewMemory(&waiter.MemoryOptions{Clock: clk})
	t.Cleanup(func() { _ = w.Close() })
	srv := newAsyncAPI(t, func(rw http.ResponseWriter, r *http.Request, body map[string]any) {
		writeJSON(rw, http.StatusAccepted, map[string]any{})
	})
	e := newTestEngine(t, &Options{Waiter: w, Clock: clk, Observer: o.observer()})
	callbackWorkflow(t, e, &HTTPClient{
		Endpoint:   srv.URL,
		Body:       map[string]any{"task_id": "${context.run_id}"},
		Completion: &Completion{Type: CompletionCallback, WaitFor: "${context.run_id}", Timeout: 5 * time.Minute},
	})

	run, err := e.Start(context.Background(), "gen", nil)
	require.NoError(t, err)
	clk.WaitForTimer(t, 5*time.Minute)
	clk.Advance(20 * time.Second)
	_, err = w.Deliver(context.Background(), run.ID, waiter.Outcome{Result: 1})
	require.NoError(t, err)
	_, err = e.Wait(context.Background(), run.ID)
	require.NoError(t, err)

	second, err := e.Start(context.Background(), "gen", nil)
	require.NoError(t, err)
	clk.WaitForTimer(t, 5*time.Minute)
	clk.Advance(5 * time.Minute)
	_, err = e.Wait(context.Background(), second.ID)
	require.ErrorContains(t, err, "not received within 5m0s")

	assert.Equal(t, []string{
		"wait gen/gen", "waited gen/gen 20s received", "run gen completed 20s",
		"wait gen/gen", "waited gen/gen 5m0s timeout", "run gen failed 5m0s",
	}, o.list())
}

func TestObserverWaitRemoteFailedAndCancelled(t *testing.T) {
	var o observedEvents
	w := waiter.NewMemory(nil)
	t.Cleanup(func() { _ = w.Close() })
	srv := newAsyncAPI(t, func(rw http.ResponseWriter, r *http.Request, body map[string]any) {
		writeJSON(rw, http.StatusAccepted, map[string]any{})
	})
	e := newTestEngine(t, &Options{Waiter: w, Observer: o.observer()})
	callbackWorkflow(t, e, &HTTPClient{
		Endpoint:   srv.URL,
		Body:       map[string]any{"task_id": "${context.run_id}"},
		Completion: &Completion{Type: CompletionCallback, WaitFor: "${context.run_id}"},
	})

	run, err := e.Start(context.Background(), "gen", nil)
	require.NoError(t, err)
	_, err = w.Deliver(context.Background(), run.ID, waiter.Outcome{Failed: true, Status: "failed"})
	require.NoError(t, err)
	_, err = e.Wait(context.Background(), run.ID)
	require.ErrorContains(t, err, "remote task failed")

	second, err := e.Start(context.Background(), "gen", nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(o.list()) == 4 }, 5*time.Second, time.Millisecond)
	require.NoError(t, e.Cancel(context.Background(), second.ID))

	events := o.list()
	require.Len(t, events, 6)
	assert.Contains(t, events[1], "failed")
	assert.Contains(t, events[2], "run gen failed")
	assert.Contains(t, events[4], "cancelled")
	assert.Contains(t, events[5], "run gen cancelled")
}
