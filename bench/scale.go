package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tether-go/tether/waiter"
	"github.com/tether-go/tether/workflow"
)

// scaleReport is the JSON line of the scale child.
type scaleReport struct {
	Runs           int     `json:"runs"`
	Goroutines     float64 `json:"goroutines_per_run"`
	StartSeconds   float64 `json:"start_seconds"`
	HeapPerRun     float64 `json:"heap_per_run_bytes"`
	StackPerRun    float64 `json:"stack_per_run_bytes"`
	RSSPerRun      float64 `json:"rss_per_run_bytes"`
	ResumeSeconds  float64 `json:"resume_seconds"`
	Completed      int     `json:"completed"`
	CallbackErrors int     `json:"callback_errors"`
	Error          string  `json:"error,omitempty"`
}

// roundTripFunc is an http.RoundTripper made from a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// acceptingAPI replaces an asynchronous API: it returns 202 with a small
// JSON body for every request, in memory, so that the memory measured is
// the waiting runs' and not that of 100,000 sockets.
var acceptingAPI = roundTripFunc(func(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	return &http.Response{
		StatusCode: http.StatusAccepted,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(`{"status":"queued"}`)),
		Request:    r,
	}, nil
})

// newScaleEngine returns an engine with the one-job workflow "generate":
// an http-client job that posts to the API and waits for a callback
// under its run id.
func newScaleEngine(w waiter.Waiter, runs int) (*workflow.Engine, error) {
	e := workflow.New(&workflow.Options{
		Waiter:     w,
		Store:      workflow.NewMemoryStore(runs + 1000),
		HTTPClient: &http.Client{Transport: acceptingAPI},
	})
	err := e.AddHTTPClient("image-api", &workflow.HTTPClient{
		// No connection is made because acceptingAPI replies in memory.
		Endpoint: "http://127.0.0.1:9/tasks",
		Body: map[string]any{
			"prompt":      "${input.prompt}",
			"callback_id": "${context.run_id}",
		},
		Completion: &workflow.Completion{
			Type:    workflow.CompletionCallback,
			WaitFor: "${context.run_id}",
			Timeout: 10 * time.Minute,
		},
		Output: map[string]any{"url": "${result.url}"},
	})
	if err != nil {
		return nil, err
	}
	if err := e.AddWorkflow(&workflow.Workflow{ID: "generate", Component: "image-api"}); err != nil {
		return nil, err
	}
	return e, nil
}

// runScaleChild is the child side of scenario 3. It starts n runs that
// each wait for a callback, measures the memory they hold, then sends
// every callback over loopback HTTP to tether's callback listener and
// measures the time until every run has completed.
func runScaleChild(n int) error {
	childIO{}.ready("-")
	report := scaleReport{Runs: n}
	defer func() { childIO{}.result(report) }()

	w := waiter.NewMemory(&waiter.MemoryOptions{MaxStored: n + 1000, MaxRemembered: n + 1000})
	defer w.Close()
	e, err := newScaleEngine(w, n)
	if err != nil {
		report.Error = err.Error()
		return nil
	}
	defer e.Close()
	l, addr, err := startTether(w)
	if err != nil {
		report.Error = err.Error()
		return nil
	}
	defer shutdown(l)

	heap0, stack0, rss0 := memorySnapshot()
	ctx := context.Background()
	ids := make([]string, n)
	start := time.Now()
	input := map[string]any{"prompt": "a lighthouse at dusk"}
	for i := range n {
		run, err := e.Start(ctx, "generate", input)
		if err != nil {
			report.Error = fmt.Sprintf("start run %d: %v", i, err)
			return nil
		}
		ids[i] = run.ID
	}
	if err := waitForPending(w, n, 60*time.Second); err != nil {
		report.Error = err.Error()
		return nil
	}
	report.StartSeconds = time.Since(start).Seconds()
	heap1, stack1, rss1 := memorySnapshot()
	report.Goroutines = float64(runtime.NumGoroutine()) / float64(n)
	if err := writeHeapProfile("scale-waiting"); err != nil {
		report.Error = err.Error()
		return nil
	}
	report.HeapPerRun = float64(heap1-heap0) / float64(n)
	report.StackPerRun = float64(stack1-stack0) / float64(n)
	report.RSSPerRun = float64(rss1-rss0) / float64(n)

	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, id := range ids {
		wg.Go(func() {
			run, err := e.Wait(ctx, id)
			if err == nil && run.State == workflow.StateCompleted {
				mu.Lock()
				report.Completed++
				mu.Unlock()
			}
		})
	}
	stopProfile, err := startCPUProfile("scale-resume")
	if err != nil {
		report.Error = err.Error()
		return nil
	}
	resume := time.Now()
	r := load{
		addr: addr, path: callbackPath, count: n, maxDuration: 60 * time.Second,
		body: func(buf []byte, i int) []byte { return appendCallback(buf, ids[i], time.Now().UnixNano()) },
	}.run()
	wg.Wait()
	report.ResumeSeconds = time.Since(resume).Seconds()
	stopProfile()
	report.CallbackErrors = n - r.done
	return nil
}

// memorySnapshot collects garbage and returns the live heap, the
// goroutine stacks and the RSS, in bytes.
func memorySnapshot() (heap, stack, rss int64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rssKiB, _ := memoryStatus()
	return int64(ms.HeapAlloc), int64(ms.StackInuse), rssKiB * 1024
}

func waitForPending(w *waiter.Memory, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for w.Stats().Pending < n {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d runs waiting after %s", w.Stats().Pending, n, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// runScale is scenario 3: 100,000 waiting workflow runs.
func runScale(cfg config, t *table) error {
	n := 100_000
	if cfg.quick {
		n = 20_000
	}
	c, err := startChild("scale", "-n", strconv.Itoa(n))
	if err != nil {
		return err
	}
	var r scaleReport
	if err := c.finish(&r, 3*time.Minute); err != nil {
		return err
	}
	if r.Error != "" {
		return fmt.Errorf("scale child: %s", r.Error)
	}
	if r.Completed != n {
		return fmt.Errorf("%d of %d runs completed after their callback (%d callbacks failed)", r.Completed, n, r.CallbackErrors)
	}
	label := fmt.Sprintf("%s runs", groupDigits(float64(n)))
	t.single("3 scale", label+": goroutines per waiting run", "", r.Goroutines, noTarget, 0)
	t.single("3 scale", label+": RSS per waiting run", "KiB", r.RSSPerRun/1024, valueAtMost, 4)
	t.single("3 scale", label+": heap per waiting run", "KiB", r.HeapPerRun/1024, noTarget, 0)
	t.single("3 scale", label+": stacks per waiting run", "KiB", r.StackPerRun/1024, noTarget, 0)
	t.single("3 scale", label+": time to start all", "s", r.StartSeconds, noTarget, 0)
	t.single("3 scale", label+": time to resume all", "s", r.ResumeSeconds, valueAtMost, 10)
	return nil
}
