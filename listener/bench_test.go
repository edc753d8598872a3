package listener

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tether-go/tether/waiter"
)

// benchServe sends body to h b.N times through ServeHTTP.
func benchServe(b *testing.B, h http.Handler, target, contentType string, body []byte) {
	b.Helper()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
	}
}

func BenchmarkCallbackJSON(b *testing.B) {
	fw := &fakeWaiter{DeliverFunc: func(ctx context.Context, id string, o waiter.Outcome) (waiter.Delivery, error) {
		return waiter.Stored, nil
	}}
	l := newTestCallback(b, Callback{
		Path: "/cb", IdentifyBy: "${body.task_id}", Status: "${body.status}",
		SuccessWhen: []string{"completed"}, Result: "${body.result}",
	}, fw)
	body := []byte(`{"task_id":"task-123","status":"completed","result":{"url":"https://example.com/r.png","width":640}}`)
	benchServe(b, l, "/cb", "application/json", body)
}

func BenchmarkTriggerJSON(b *testing.B) {
	starter := StarterFunc(func(ctx context.Context, wf string, input any) (RunInfo, error) {
		return RunInfo{ID: "r", Status: "pending"}, nil
	})
	l := newTestTrigger(b, Trigger{
		Path: "/t", Workflow: "wf",
		Input: map[string]any{"repo": "${body.repository.full_name}", "branch": "${body.ref}"},
	}, starter)
	body := []byte(`{"ref":"refs/heads/main","repository":{"full_name":"octo-org/hello"},"pusher":{"name":"octocat"},"commits":[` +
		strings.Repeat(`{"id":"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c","message":"update"},`, 20) + `{}]}`)
	benchServe(b, l, "/t", "application/json", body)
}

func BenchmarkTriggerForm(b *testing.B) {
	starter := StarterFunc(func(ctx context.Context, wf string, input any) (RunInfo, error) {
		return RunInfo{ID: "r", Status: "pending"}, nil
	})
	l := newTestTrigger(b, Trigger{Path: "/t", Workflow: "wf", Input: map[string]any{"text": "${body.text}"}}, starter)
	benchServe(b, l, "/t", "application/x-www-form-urlencoded", []byte("token=t&team_id=T1&command=%2Fask&text=hello+world&user_name=u"))
}

func BenchmarkCallbackBulk100(b *testing.B) {
	fw := &fakeWaiter{DeliverFunc: func(ctx context.Context, id string, o waiter.Outcome) (waiter.Delivery, error) {
		return waiter.Stored, nil
	}}
	l := newTestCallback(b, Callback{
		Path: "/cb", Bulk: true, Item: "${body.results}", IdentifyBy: "${item.task_id}",
		Status: "${item.status}", SuccessWhen: []string{"completed"}, Result: "${item.data}",
	}, fw)
	var items []string
	for i := range 100 {
		items = append(items, fmt.Sprintf(`{"task_id":"task-%d","status":"completed","data":{"url":"u%d"}}`, i, i))
	}
	body := []byte(`{"results":[` + strings.Join(items, ",") + `]}`)
	benchServe(b, l, "/cb", "application/json", body)
}

func BenchmarkTriggerIdempotentRepeat(b *testing.B) {
	starter := StarterFunc(func(ctx context.Context, wf string, input any) (RunInfo, error) {
		return RunInfo{ID: "r", Status: "pending"}, nil
	})
	l := newTestTrigger(b, Trigger{Path: "/t", Workflow: "wf", Preset: PresetSlackEvents}, starter)
	benchServe(b, l, "/t", "application/json", []byte(`{"type":"event_callback","event_id":"Ev1","event":{"text":"hi"}}`))
}

// BenchmarkTriggerLoopback measures a whole delivery over HTTP/1.1 on
// loopback: the client's request, the listener's own server, the reply.
func BenchmarkTriggerLoopback(b *testing.B) {
	starter := StarterFunc(func(ctx context.Context, wf string, input any) (RunInfo, error) {
		return RunInfo{ID: "r", Status: "pending"}, nil
	})
	l := newTestTrigger(b, Trigger{Path: "/t", Workflow: "wf", Input: map[string]any{"branch": "${body.ref}"}}, starter)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	if err := l.StartOn(ln); err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	url := "http://" + l.Addr().String() + "/t"
	body := []byte(`{"ref":"refs/heads/main","repository":{"full_name":"octo-org/hello"}}`)

	b.ReportAllocs()
	for b.Loop() {
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
