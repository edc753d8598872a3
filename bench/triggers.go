package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/tether-go/tether/listener"
	"github.com/tether-go/tether/waiter"
	"github.com/tether-go/tether/workflow"
)

const triggerPath = "/hooks/push"

// appendPush appends a GitHub-style push webhook body of about 430 bytes.
func appendPush(buf []byte, i int) []byte {
	buf = append(buf, `{"ref":"refs/heads/main","before":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","after":"`...)
	buf = strconv.AppendInt(buf, int64(i), 16)
	buf = append(buf, `","repository":{"id":1296269,"full_name":"octo/hello-world","private":false,"default_branch":"main"},`+
		`"pusher":{"name":"octocat","email":"octocat@example.test"},"sender":{"login":"octocat","id":1,"type":"User"},`+
		`"head_commit":{"id":"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c","message":"Update README","timestamp":"2026-12-04T15:50:00Z"}}`...)
	return buf
}

// serveTriggers is the child side of scenario 4: an http-trigger
// listener that starts a one-job workflow of a Go component per request.
// It reports how many runs completed when its standard input closes.
func serveTriggers(maxRuns int) error {
	e := workflow.New(&workflow.Options{Store: workflow.NewMemoryStore(maxRuns + 1000)})
	defer e.Close()
	echo := workflow.Func(func(ctx context.Context, input any) (any, error) { return input, nil })
	if err := e.AddComponent("build", echo); err != nil {
		return err
	}
	if err := e.AddWorkflow(&workflow.Workflow{ID: "build", Component: "build"}); err != nil {
		return err
	}
	starter := listener.StarterFunc(func(ctx context.Context, workflowID string, input any) (listener.RunInfo, error) {
		run, err := e.Start(ctx, workflowID, input)
		if err != nil {
			return listener.RunInfo{}, err
		}
		return listener.RunInfo{ID: run.ID, Status: string(run.State)}, nil
	})
	l, err := listener.NewTrigger(listener.TriggerConfig{
		Host: "127.0.0.1",
		Triggers: []listener.Trigger{{
			Path:     triggerPath,
			Workflow: "build",
			Input:    map[string]any{"ref": "${body.ref}", "commit": "${body.after}", "sender": "${body.sender.login}"},
		}},
	}, starter, nil)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	if err := l.StartOn(ln); err != nil {
		return err
	}
	stopProfile, err := startCPUProfile("triggers")
	if err != nil {
		return err
	}
	childIO{}.ready(ln.Addr().String())
	waitForStdinClose()
	stopProfile()
	shutdown(l)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.Shutdown(ctx); err != nil {
		return fmt.Errorf("shut down engine: %w", err)
	}
	runs, err := e.List(context.Background(), workflow.Query{})
	if err != nil {
		return err
	}
	completed := 0
	for _, r := range runs {
		if r.State == workflow.StateCompleted {
			completed++
		}
	}
	childIO{}.result(serverReport{Delivered: int64(completed)})
	return nil
}

var _ waiter.Waiter = (*waiter.Memory)(nil)

// runTriggers is scenario 4: runs started per second by webhooks, the
// server pinned to CPU 0 and the load generator to CPU 1.
func runTriggers(cfg config, t *table) error {
	count := 50_000
	if cfg.quick {
		count = 10_000
	}
	unpin := pinLoadGenerator(&t.notes)
	defer unpin()
	c, err := startChild("triggers", "-n", strconv.Itoa(count+2000), "-cpu", "0")
	if err != nil {
		return err
	}
	body := func(buf []byte, i int) []byte { return appendPush(buf, i) }
	_ = load{addr: c.addr, path: triggerPath, count: 2000, maxDuration: 20 * time.Second, body: body}.run()
	r := load{addr: c.addr, path: triggerPath, count: count, maxDuration: 30 * time.Second, body: body}.run()
	var report serverReport
	if err := c.finish(&report, 60*time.Second); err != nil {
		return err
	}
	if r.firstErr != nil || r.failures > 0 {
		return fmt.Errorf("%d requests failed: %v", r.failures, r.firstErr)
	}
	t.single("4 triggers", "runs started/s", "runs/s", r.perSecond(), noTarget, 0)
	t.single("4 triggers", "p99 reply latency", "ms", ms(r.percentile(99)), noTarget, 0)
	t.note("triggers: %s of %s started runs completed", groupDigits(float64(report.Delivered)), groupDigits(float64(r.done+2000)))
	return nil
}
