package listener_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/tether-go/tether/listener"
	"github.com/tether-go/tether/waiter"
)

// A trigger mounted on the host's own mux under /hooks.
func ExampleNewTrigger() {
	starter := listener.StarterFunc(func(ctx context.Context, workflowID string, input any) (listener.RunInfo, error) {
		fmt.Printf("start %s with %v\n", workflowID, input)
		return listener.RunInfo{ID: "run-1", Status: "pending"}, nil
	})
	l, err := listener.NewTrigger(listener.TriggerConfig{
		Triggers: []listener.Trigger{{
			Path:     "/github/push",
			Workflow: "ci-build",
			Input:    map[string]any{"branch": "${body.ref}"},
		}},
	}, starter, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("/hooks/", http.StripPrefix("/hooks", l))

	req := httptest.NewRequest("POST", "/hooks/github/push", strings.NewReader(`{"ref":"refs/heads/main"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output:
	// start ci-build with map[branch:refs/heads/main]
	// 200 {"task_id":"run-1","status":"pending"}
}

// A callback resumes the code waiting on its id.
func ExampleNewCallback() {
	w := waiter.NewMemory(nil)
	defer w.Close()
	l, err := listener.NewCallback(listener.CallbackConfig{
		Callbacks: []listener.Callback{{
			Path:        "/callback",
			IdentifyBy:  "${body.task_id}",
			Status:      "${body.status}",
			SuccessWhen: []string{"completed"},
			FailWhen:    []string{"failed"},
			Result:      "${body.result.url}",
		}},
	}, w, nil)
	if err != nil {
		fmt.Println(err)
		return
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	pending, err := w.Expect(ctx, "task-123")
	if err != nil {
		fmt.Println(err)
		return
	}

	req := httptest.NewRequest("POST", "/callback",
		strings.NewReader(`{"task_id":"task-123","status":"completed","result":{"url":"https://example.com/1.png"}}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	l.ServeHTTP(rec, req)
	fmt.Print(rec.Body.String())

	outcome, err := pending.Wait(ctx)
	fmt.Println(outcome.Result, err)
	// Output:
	// {"id":"task-123","status":"delivered"}
	// https://example.com/1.png <nil>
}

// The slack-events preset replies to Slack's URL verification without
// starting a run.
func ExampleTrigger_preset() {
	starter := listener.StarterFunc(func(ctx context.Context, workflowID string, input any) (listener.RunInfo, error) {
		return listener.RunInfo{ID: "run-1", Status: "pending"}, nil
	})
	l, err := listener.NewTrigger(listener.TriggerConfig{
		Triggers: []listener.Trigger{{Path: "/slack/events", Workflow: "slack-bot", Preset: listener.PresetSlackEvents}},
	}, starter, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	req := httptest.NewRequest("POST", "/slack/events",
		strings.NewReader(`{"type":"url_verification","challenge":"3eZbrw1aBm2r"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	l.ServeHTTP(rec, req)
	fmt.Print(rec.Body.String())
	// Output:
	// {"challenge":"3eZbrw1aBm2r"}
}

// A listener on its own server, stopped with Shutdown. Start binds
// Host:Port; StartOn serves on a listener the host already has, here a
// free loopback port.
func ExampleCallbackListener_StartOn() {
	l, err := listener.NewCallback(listener.CallbackConfig{
		Callbacks: []listener.Callback{{Path: "/callback", IdentifyBy: "${query.task_id}"}},
	}, waiter.NewMemory(nil), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := l.StartOn(ln); err != nil {
		fmt.Println(err)
		return
	}
	resp, err := http.Post("http://"+l.Addr().String()+"/callback?task_id=t1", "text/plain", strings.NewReader("done"))
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(string(body))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fmt.Println(l.Shutdown(ctx))
	http.DefaultClient.CloseIdleConnections()
	// Output:
	// {"id":"t1","status":"stored"}
	// <nil>
}
