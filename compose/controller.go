package compose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tether-go/tether/workflow"
)

// Controller defaults, as model-compose uses them.
const (
	DefaultControllerHost = "127.0.0.1"
	DefaultControllerPort = 8080
	DefaultControllerBase = "/api"
)

// maxRunRequest bounds the body of a run request.
const maxRunRequest = 10 << 20

// controller serves the HTTP API that starts and inspects runs, in the
// form model-compose clients use:
//
//	POST {base}/workflows/runs        {"workflow_id", "input", "wait_for_completion", "output_only"}
//	GET  {base}/workflows             [{"workflow_id", "title", "description", "default"}]
//	GET  {base}/tasks                 runs, newest first (?workflow_id=, ?status=, ?limit=)
//	GET  {base}/tasks/{id}            {"task_id", "status", "output", "error"}
//	POST {base}/tasks/{id}/cancel     the cancelled run
//	GET  {base}/health                {"status": "ok"}
type controller struct {
	p       *Project
	host    string
	port    int
	base    string
	handler http.Handler
	log     *slog.Logger

	mu  sync.Mutex // guards srv and ln
	srv *http.Server
	ln  net.Listener
}

func (p *Project) buildController(ps *problems) {
	c := p.cfg.Controller
	if c.Disabled {
		return
	}
	if c.Type != "" && c.Type != "http-server" {
		ps.add("controller.type", "unsupported controller type %q: tether serves the http-server controller only", c.Type)
		return
	}

	host, err := p.expandString("controller.host", c.Host)
	if err != nil {
		addProblem(ps, "controller.host", err)
		return
	}
	if host == "" {
		host = DefaultControllerHost
	}
	port, err := p.expandPort("controller.port", c.Port, DefaultControllerPort)
	if err != nil {
		addProblem(ps, "controller.port", err)
		return
	}
	base := c.BasePath
	if base == "" {
		base = DefaultControllerBase
	}
	if base == "/" {
		base = ""
	}

	ctl := &controller{p: p, host: host, port: port, base: base, log: p.log}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+base+"/workflows/runs", ctl.runWorkflow)
	mux.HandleFunc("GET "+base+"/workflows", ctl.listWorkflows)
	mux.HandleFunc("GET "+base+"/tasks", ctl.listTasks)
	mux.HandleFunc("GET "+base+"/tasks/{id}", ctl.getTask)
	mux.HandleFunc("POST "+base+"/tasks/{id}/cancel", ctl.cancelTask)
	mux.HandleFunc("GET "+base+"/health", ctl.health)
	if c.Metrics {
		mux.Handle("GET /metrics", metricsHandler(p))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeDetail(w, http.StatusNotFound, fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
	})
	ctl.handler = mux
	p.controller = ctl
}

func (c *controller) start() error {
	addr := net.JoinHostPort(c.host, strconv.Itoa(c.port))
	if c.p.opts.Ephemeral {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           c.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	c.mu.Lock()
	c.srv, c.ln = srv, ln
	c.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.log.Error("controller stopped", "error", err)
		}
	}()
	return nil
}

func (c *controller) addr() net.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ln == nil {
		return nil
	}
	return c.ln.Addr()
}

func (c *controller) shutdown(ctx context.Context) error {
	c.mu.Lock()
	srv := c.srv
	c.srv = nil
	c.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Shutdown(ctx)
}

// runRequest is the body of POST /workflows/runs.
type runRequest struct {
	WorkflowID        string `json:"workflow_id"`
	Input             any    `json:"input"`
	WaitForCompletion *bool  `json:"wait_for_completion"`
	OutputOnly        bool   `json:"output_only"`
}

// taskResult is a run as the controller reports it.
type taskResult struct {
	TaskID     string `json:"task_id"`
	WorkflowID string `json:"workflow_id,omitempty"`
	Status     string `json:"status"`
	Output     any    `json:"output,omitempty"`
	Error      any    `json:"error,omitempty"`
}

func resultOf(run *workflow.Run) taskResult {
	t := taskResult{TaskID: run.ID, WorkflowID: run.WorkflowID, Status: string(run.State), Output: run.Output}
	if run.Error != "" {
		t.Error = run.Error
	}
	return t
}

func (c *controller) runWorkflow(w http.ResponseWriter, r *http.Request) {
	req, status, msg := decodeRunRequest(w, r)
	if status != 0 {
		writeDetail(w, status, msg)
		return
	}

	wait := req.WaitForCompletion == nil || *req.WaitForCompletion
	if req.OutputOnly && !wait {
		writeDetail(w, http.StatusBadRequest, "output_only requires wait_for_completion: true")
		return
	}
	id := c.p.workflowID(req.WorkflowID)
	var run *workflow.Run
	var err error
	if wait {
		run, err = c.p.engine.Run(r.Context(), id, req.Input)
	} else {
		run, err = c.p.engine.Start(r.Context(), id, req.Input)
	}
	if err != nil && run == nil {
		c.writeRunError(w, id, err)
		return
	}

	if req.OutputOnly {
		if run.State == workflow.StateFailed {
			writeDetail(w, http.StatusInternalServerError, run.Error)
			return
		}
		writeJSON(w, http.StatusOK, run.Output)
		return
	}
	writeJSON(w, http.StatusOK, resultOf(run))
}

// decodeRunRequest reads the body of POST /workflows/runs. On a mistake
// it returns the status and message to reply with.
func decodeRunRequest(w http.ResponseWriter, r *http.Request) (runRequest, int, string) {
	var req runRequest
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && mt != "application/json" {
		return req, http.StatusUnsupportedMediaType, "unsupported Content-Type " + mt + ": send the run request as application/json"
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRunRequest))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return req, http.StatusRequestEntityTooLarge, "run request too large: the limit is 10 MiB"
	case err != nil:
		return req, http.StatusBadRequest, "read run request: " + err.Error()
	}
	if !utf8.Valid(body) {
		return req, http.StatusBadRequest, "invalid run request: the body is not valid UTF-8"
	}

	dec := json.NewDecoder(bytesReader(body))
	dec.UseNumber()
	err = dec.Decode(&req)
	if err == nil && dec.More() {
		err = errors.New("data after the JSON object")
	}
	if err != nil {
		return req, http.StatusBadRequest, "invalid run request: " + err.Error() + `; send {"workflow_id": "...", "input": {...}}`
	}
	return req, 0, ""
}

func (c *controller) writeRunError(w http.ResponseWriter, id string, err error) {
	switch {
	case errors.Is(err, workflow.ErrUnknownWorkflow):
		writeDetail(w, http.StatusNotFound, fmt.Sprintf("workflow %q not found", id))
	case errors.Is(err, workflow.ErrClosed):
		w.Header().Set("Retry-After", "1")
		writeDetail(w, http.StatusServiceUnavailable, "shutting down: no new runs are started")
	case errors.Is(err, context.Canceled):
		writeDetail(w, 499, "client closed the request")
	default:
		c.log.Error("start run", "workflow", id, "error", err)
		writeDetail(w, http.StatusInternalServerError, err.Error())
	}
}

func (c *controller) listWorkflows(w http.ResponseWriter, r *http.Request) {
	def := c.p.DefaultWorkflow()
	type item struct {
		WorkflowID  string `json:"workflow_id"`
		Title       string `json:"title,omitempty"`
		Description string `json:"description,omitempty"`
		Default     bool   `json:"default,omitempty"`
	}
	infos := c.p.engine.Workflows()
	out := make([]item, len(infos))
	for i, info := range infos {
		out[i] = item{WorkflowID: info.ID, Title: info.Title, Description: info.Description, Default: info.ID == def}
	}
	writeJSON(w, http.StatusOK, out)
}

func (c *controller) listTasks(w http.ResponseWriter, r *http.Request) {
	q := workflow.Query{WorkflowID: r.URL.Query().Get("workflow_id"), State: workflow.State(r.URL.Query().Get("status"))}
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			writeDetail(w, http.StatusBadRequest, "invalid limit "+strconv.Quote(s)+": use a whole number")
			return
		}
		q.Limit = n
	}
	runs, err := c.p.engine.List(r.Context(), q)
	if err != nil {
		writeDetail(w, http.StatusInternalServerError, err.Error())
		return
	}
	out := make([]taskResult, len(runs))
	for i, run := range runs {
		out[i] = resultOf(run)
	}
	writeJSON(w, http.StatusOK, out)
}

func (c *controller) getTask(w http.ResponseWriter, r *http.Request) {
	run, err := c.p.engine.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		c.taskError(w, r, err)
		return
	}
	if r.URL.Query().Get("output_only") == "true" {
		if !run.State.Done() {
			writeDetail(w, http.StatusAccepted, "task is still in progress")
			return
		}
		writeJSON(w, http.StatusOK, run.Output)
		return
	}
	writeJSON(w, http.StatusOK, resultOf(run))
}

func (c *controller) cancelTask(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := c.p.engine.Cancel(r.Context(), id); err != nil {
		c.taskError(w, r, err)
		return
	}
	run, err := c.p.engine.Get(r.Context(), id)
	if err != nil {
		c.taskError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resultOf(run))
}

func (c *controller) taskError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, workflow.ErrUnknownRun) {
		writeDetail(w, http.StatusNotFound, fmt.Sprintf("task %q not found", r.PathValue("id")))
		return
	}
	c.log.Error("controller request", "path", r.URL.Path, "error", err)
	writeDetail(w, http.StatusInternalServerError, err.Error())
}

func (c *controller) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeDetail sends an error in the form model-compose clients read:
// {"detail": "..."}.
func writeDetail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"detail": msg})
}
