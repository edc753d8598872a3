package workflow

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tether-go/tether/waiter"
)

// BenchmarkRunGoComponents measures a three-job chain of Go components,
// with templates between the jobs, from Run to the completed record.
func BenchmarkRunGoComponents(b *testing.B) {
	e := New(nil)
	b.Cleanup(func() { _ = e.Close() })
	echo := Func(func(ctx context.Context, input any) (any, error) { return input, nil })
	if err := e.AddComponent("echo", echo); err != nil {
		b.Fatal(err)
	}
	err := e.AddWorkflow(&Workflow{ID: "chain", Jobs: []Job{
		{ID: "a", Component: "echo", Input: map[string]any{"n": "${input.n}"}},
		{ID: "b", Component: "echo", Input: map[string]any{"n": "${jobs.a.output.n + 1}"}},
		{ID: "c", Component: "echo", Input: map[string]any{"n": "${jobs.b.output.n * 2}"}},
	}})
	if err != nil {
		b.Fatal(err)
	}

	ctx := context.Background()
	input := map[string]any{"n": 1}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Run(ctx, "chain", input); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunCallback measures one http-client job with callback
// completion against a loopback server that delivers the outcome before
// it returns 202: request, wait, resume and the completed record.
func BenchmarkRunCallback(b *testing.B) {
	w := waiter.NewMemory(nil)
	b.Cleanup(func() { _ = w.Close() })
	srv := newBenchAPI(b, w)
	e := New(&Options{Waiter: w})
	b.Cleanup(func() { _ = e.Close() })
	err := e.AddHTTPClient("gen", &HTTPClient{
		Endpoint:   srv,
		Headers:    map[string]any{"X-Task": "${context.run_id}"},
		Completion: &Completion{Type: CompletionCallback, WaitFor: "${context.run_id}"},
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := e.AddWorkflow(&Workflow{ID: "gen", Component: "gen"}); err != nil {
		b.Fatal(err)
	}

	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Run(ctx, "gen", nil); err != nil {
			b.Fatal(err)
		}
	}
}

func newBenchAPI(b *testing.B, w waiter.Waiter) string {
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		_, _ = w.Deliver(r.Context(), r.Header.Get("X-Task"), waiter.Outcome{Result: "ok"})
		rw.WriteHeader(http.StatusAccepted)
	}))
	b.Cleanup(srv.Close)
	return srv.URL
}
