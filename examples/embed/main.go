// Command embed is an existing net/http service that embeds tether: it
// mounts a callback listener and a webhook trigger on its own mux under
// /tether/, registers a Go component, and runs a workflow built from Go
// structs, with no YAML. The workflow prices an order in Go, then sends
// a print job to an asynchronous label printer. The printer replies 202
// and later posts the result to the service's callback route.
//
// The printer is a stand-in started by the program on 127.0.0.1, so the
// program needs no network and no account. It places one order through
// the webhook, waits for the workflow to end, prints its output as JSON
// and exits:
//
//	go run ./examples/embed
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/tether-go/tether/expr"
	"github.com/tether-go/tether/listener"
	"github.com/tether-go/tether/metrics"
	"github.com/tether-go/tether/waiter"
	"github.com/tether-go/tether/workflow"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	logger := slog.New(slog.DiscardHandler)
	if len(os.Args) > 1 && os.Args[1] == "-v" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if err := run(ctx, os.Stdout, logger); err != nil {
		fmt.Fprintln(os.Stderr, "embed:", err)
		os.Exit(1)
	}
}

// run starts the printer and the service, places one order through the
// service's webhook, prints the run's output and shuts everything down.
func run(ctx context.Context, out io.Writer, logger *slog.Logger) error {
	printer, err := startPrinter()
	if err != nil {
		return err
	}
	defer printer.Close()

	svc, err := startService(printer.URL, logger)
	if err != nil {
		return err
	}
	defer func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := svc.Shutdown(shutdownCtx); err != nil {
			logger.Warn("shut down service", "error", err)
		}
	}()

	runID, err := placeOrder(ctx, svc.URL, `{"sku": "kite-red", "quantity": 3}`)
	if err != nil {
		return err
	}
	run, err := svc.engine.Wait(ctx, runID)
	if err != nil {
		return fmt.Errorf("run %s: %w", runID, err)
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(run.Output)
}

// service is the host program: its own mux and routes, with tether's
// listeners mounted below /tether/.
type service struct {
	URL string

	engine  *workflow.Engine
	waiter  *waiter.Memory
	cb      *listener.CallbackListener
	trigger *listener.TriggerListener
	srv     *http.Server
}

// startService builds the workflow and the listeners and serves the
// mux on a free 127.0.0.1 port.
func startService(printerURL string, logger *slog.Logger) (*service, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	s := &service{URL: "http://" + ln.Addr().String(), waiter: waiter.NewMemory(&waiter.MemoryOptions{Logger: logger})}

	m, err := metrics.New(nil)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	// ${env.SERVICE_URL} in templates is the service's own address, where
	// the printer sends its callback. The template compiler accepts only
	// the source names that package expr defines, so host values go under
	// env (or gateway:PORT), never under a name of the host's own.
	sources := expr.ResolverFunc(func(source string) (expr.Value, bool) {
		if source == "env" {
			return expr.Of(map[string]any{"SERVICE_URL": s.URL}), true
		}
		return expr.Value{}, false
	})
	s.engine = workflow.New(&workflow.Options{
		Waiter:   s.waiter,
		Sources:  sources,
		Logger:   logger,
		Observer: m.WorkflowObserver(),
	})
	if err := addFulfilment(s.engine, printerURL); err != nil {
		_ = ln.Close()
		return nil, err
	}

	lopts := &listener.Options{Logger: logger, Sources: sources, Observer: m.ListenerObserver()}
	s.cb, err = listener.NewCallback(listener.CallbackConfig{Callbacks: []listener.Callback{{
		Path:        "/labels",
		IdentifyBy:  "${body.job_id}",
		Status:      "${body.state}",
		SuccessWhen: []string{"printed"},
		FailWhen:    []string{"jammed"},
		Result:      map[string]any{"label_url": "${body.label_url}", "pages": "${body.pages}"},
	}}}, s.waiter, lopts)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	starter := listener.StarterFunc(func(ctx context.Context, workflowID string, input any) (listener.RunInfo, error) {
		run, err := s.engine.Start(ctx, workflowID, input)
		if err != nil {
			return listener.RunInfo{}, err
		}
		return listener.RunInfo{ID: run.ID, Status: string(run.State)}, nil
	})
	s.trigger, err = listener.NewTrigger(listener.TriggerConfig{Triggers: []listener.Trigger{{
		Path:     "/orders",
		Workflow: "fulfil",
		Input:    map[string]any{"sku": "${body.sku}", "quantity": "${body.quantity}"},
	}}}, starter, lopts)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /orders/{id}", s.getOrder)
	mux.Handle("/tether/callbacks/", http.StripPrefix("/tether/callbacks", s.cb))
	mux.Handle("/tether/hooks/", http.StripPrefix("/tether/hooks", s.trigger))
	mux.Handle("GET /metrics", m.Handler())

	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("serve", "error", err)
		}
	}()
	return s, nil
}

// addFulfilment registers the Go component "price", the http-client
// component "print-label" and the workflow "fulfil" that chains them.
func addFulfilment(e *workflow.Engine, printerURL string) error {
	if err := e.AddComponent("price", workflow.Func(price)); err != nil {
		return err
	}
	err := e.AddHTTPClient("print-label", &workflow.HTTPClient{
		Endpoint: printerURL + "/jobs",
		Body: map[string]any{
			"job_id":       "${context.run_id}",
			"text":         "${input.sku} x ${input.quantity}: ${input.total}",
			"callback_url": "${env.SERVICE_URL}/tether/callbacks/labels",
		},
		Completion: &workflow.Completion{
			Type:    workflow.CompletionCallback,
			WaitFor: "${context.run_id}",
			Timeout: 30 * time.Second,
		},
	})
	if err != nil {
		return err
	}
	return e.AddWorkflow(&workflow.Workflow{
		ID: "fulfil",
		Jobs: []workflow.Job{
			{ID: "price", Component: "price", Input: "${input}"},
			{
				ID:        "label",
				Component: "print-label",
				Input: map[string]any{
					"sku":      "${input.sku}",
					"quantity": "${input.quantity}",
					"total":    "${jobs.price.output.total}",
				},
			},
		},
		Output: map[string]any{
			"total":     "${jobs.price.output.total}",
			"label_url": "${jobs.label.output.label_url}",
			"pages":     "${jobs.label.output.pages}",
		},
	})
}

// price is the Go component: it prices an order at 12.50 per item.
func price(ctx context.Context, input any) (any, error) {
	order, _ := input.(map[string]any)
	var quantity float64
	switch q := order["quantity"].(type) {
	case json.Number:
		quantity, _ = q.Float64()
	case float64:
		quantity = q
	case int64:
		quantity = float64(q)
	default:
		return nil, fmt.Errorf("price order: quantity %v is not a number", order["quantity"])
	}
	return map[string]any{"total": fmt.Sprintf("%.2f", quantity*12.5)}, nil
}

// getOrder is one of the service's own routes: it reports a run.
func (s *service) getOrder(w http.ResponseWriter, r *http.Request) {
	run, err := s.engine.Get(r.Context(), r.PathValue("id"))
	if errors.Is(err, workflow.ErrUnknownRun) {
		http.Error(w, "no such order", http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, "read order: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"id": run.ID, "state": run.State, "output": run.Output})
}

// Shutdown stops taking webhooks, lets running workflows finish until
// ctx ends, then stops the callback route and the server.
func (s *service) Shutdown(ctx context.Context) error {
	errs := []error{s.trigger.Shutdown(ctx), s.engine.Shutdown(ctx), s.cb.Shutdown(ctx), s.srv.Shutdown(ctx)}
	errs = append(errs, s.engine.Close(), s.waiter.Close())
	return errors.Join(errs...)
}

// placeOrder posts an order to the service's webhook and returns the id
// of the run it started.
func placeOrder(ctx context.Context, serviceURL, order string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, serviceURL+"/tether/hooks/orders", strings.NewReader(order))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("place order: %w", err)
	}
	defer resp.Body.Close()
	var reply struct {
		TaskID string `json:"task_id"`
		Error  string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
		return "", fmt.Errorf("place order: decode reply: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("place order: status %d: %s", resp.StatusCode, reply.Error)
	}
	return reply.TaskID, nil
}
