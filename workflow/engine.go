package workflow

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/tether-go/tether/clock"
	"github.com/tether-go/tether/expr"
	"github.com/tether-go/tether/waiter"
)

// Options configures an [Engine]. The zero value is ready to use.
type Options struct {
	// Waiter receives callback outcomes for http-client jobs with
	// callback completion. Nil means a new in-memory waiter that the
	// engine closes in Close. A caller-supplied waiter is not closed.
	Waiter waiter.Waiter
	// Store keeps run records. Nil means a new [MemoryStore].
	Store Store
	// Sources resolves the template sources that the engine does not
	// supply itself: env and gateway:PORT. Other names are rejected when
	// a template compiles, because the ${...} language has a fixed list
	// of sources. Nil means neither: such references evaluate to nil.
	Sources expr.Resolver
	// Logger receives logs of runs, jobs, retries and swallowed errors,
	// naming the run id, the workflow and the job. Header values and
	// bodies are never logged. Nil discards logs.
	Logger *slog.Logger
	// Clock drives timeouts, retry delays and polling intervals. Nil
	// means the wall clock.
	Clock clock.Clock
	// HTTPClient sends the requests of http-client components. Nil means
	// a client with http.DefaultTransport. Its own Timeout, if any, adds
	// to the components' Timeout.
	HTTPClient *http.Client
	// Observer receives waits for callbacks and run ends, for metrics.
	// Nil observes nothing.
	Observer *Observer
}

// WorkflowInfo describes a workflow for listings.
type WorkflowInfo struct {
	// ID is the workflow's id.
	ID string `json:"id"`
	// Title is the workflow's title.
	Title string `json:"title,omitempty"`
	// Description is the workflow's description.
	Description string `json:"description,omitempty"`
}

// Engine runs workflows. Add components first, then the workflows that
// use them, then start runs. All methods are safe for concurrent use.
type Engine struct {
	waiter     waiter.Waiter
	ownsWaiter bool
	store      Store
	sources    expr.Resolver
	log        *slog.Logger
	clock      clock.Clock
	client     *http.Client
	observer   *Observer // nil when Options.Observer is

	// base is the parent of every run's context; stop cancels it.
	base context.Context
	stop context.CancelCauseFunc

	mu         sync.RWMutex                 // guards components, workflows and order
	components map[string]Component         // by component id
	workflows  map[string]*compiledWorkflow // by workflow id
	order      []string                     // workflow ids in the order added

	runsMu  sync.Mutex          // guards live, closing and closed
	live    map[string]*liveRun // runs executing in this engine, by run id
	closing bool                // set by Shutdown and Close: Start rejects runs
	closed  bool                // set by Close
	running sync.WaitGroup      // one count per live run
}

// New returns an engine configured by opts; nil opts means the defaults.
func New(opts *Options) *Engine {
	if opts == nil {
		opts = &Options{}
	}
	e := &Engine{
		waiter:     opts.Waiter,
		store:      opts.Store,
		sources:    opts.Sources,
		log:        opts.Logger,
		clock:      clock.Or(opts.Clock),
		client:     opts.HTTPClient,
		observer:   opts.Observer,
		components: make(map[string]Component),
		workflows:  make(map[string]*compiledWorkflow),
		live:       make(map[string]*liveRun),
	}
	if e.waiter == nil {
		e.waiter = waiter.NewMemory(&waiter.MemoryOptions{Clock: opts.Clock, Logger: opts.Logger})
		e.ownsWaiter = true
	}
	if e.store == nil {
		e.store = NewMemoryStore(0)
	}
	if e.sources == nil {
		e.sources = expr.Sources{}
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.client == nil {
		e.client = &http.Client{}
	}
	e.base, e.stop = context.WithCancelCause(context.Background())
	return e
}

// AddComponent registers a component written in Go under id, for jobs to
// refer to. It returns an error wrapping ErrInvalidWorkflow when id is
// empty or already registered.
func (e *Engine) AddComponent(id string, c Component) error {
	if id == "" {
		return invalidf("add component: missing id")
	}
	if c == nil {
		return invalidf("component %q: nil component", id)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.components[id]; ok {
		return invalidf("component %q: already registered", id)
	}
	e.components[id] = c
	return nil
}

// AddHTTPClient compiles an http-client component and registers it under
// id. It returns an error wrapping ErrInvalidWorkflow that names the
// field, such as `component "gen": completion.wait_for: ...`, when the
// configuration is invalid.
func (e *Engine) AddHTTPClient(id string, cfg *HTTPClient) error {
	if id == "" {
		return invalidf("add component: missing id")
	}
	if cfg == nil {
		return invalidf("component %q: nil http-client configuration", id)
	}
	c, err := e.compileHTTPClient(id, cfg)
	if err != nil {
		return err
	}
	return e.AddComponent(id, c)
}

// AddWorkflow checks and compiles w and makes it available to Start and
// Run. Every component that w refers to must be added before. It returns
// an error wrapping ErrInvalidWorkflow that names the workflow, the job
// and the field, such as `workflow "x": jobs[1].depends_on: unknown job
// "y"`, for a missing or duplicate id, an unknown component or job, a
// template that does not compile, or a dependency cycle.
//
// The engine keeps no reference to w, so the caller may reuse it.
func (e *Engine) AddWorkflow(w *Workflow) error {
	if w == nil {
		return invalidf("add workflow: nil workflow")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if w.ID == "" {
		return invalidf("add workflow: missing id")
	}
	if _, ok := e.workflows[w.ID]; ok {
		return invalidf("workflow %q: id already added", w.ID)
	}
	cw, err := compileWorkflow(w, e.components)
	if err != nil {
		return err
	}
	e.workflows[w.ID] = cw
	e.order = append(e.order, w.ID)
	return nil
}

// Workflows lists the added workflows in the order they were added.
func (e *Engine) Workflows() []WorkflowInfo {
	e.mu.RLock()
	defer e.mu.RUnlock()
	infos := make([]WorkflowInfo, 0, len(e.order))
	for _, id := range e.order {
		w := e.workflows[id]
		infos = append(infos, WorkflowInfo{ID: id, Title: w.title, Description: w.description})
	}
	return infos
}

func (e *Engine) workflow(id string) (*compiledWorkflow, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	w, ok := e.workflows[id]
	if !ok {
		return nil, fmt.Errorf("start workflow %q: %w", id, ErrUnknownWorkflow)
	}
	return w, nil
}

// Start creates a run of the workflow with the given input and returns
// at once, with the run pending or already processing. The run executes
// in the background until it ends, Cancel is called, or the engine shuts
// down. ctx bounds only the first save of the record.
//
// input must be JSON-serialisable. Start returns an error wrapping
// ErrUnknownWorkflow for an unknown workflow id and ErrClosed after
// Shutdown or Close has begun.
func (e *Engine) Start(ctx context.Context, workflowID string, input any) (*Run, error) {
	lr, err := e.start(ctx, workflowID, input)
	if err != nil {
		return nil, err
	}
	return lr.snapshot(), nil
}

func (e *Engine) start(ctx context.Context, workflowID string, input any) (*liveRun, error) {
	w, err := e.workflow(workflowID)
	if err != nil {
		return nil, err
	}
	now := e.clock.Now().UTC()
	rec := &Run{
		ID:         rand.Text(),
		WorkflowID: workflowID,
		State:      StatePending,
		Input:      input,
		Jobs:       make([]JobRun, len(w.jobs)),
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	for i, j := range w.jobs {
		rec.Jobs[i] = JobRun{ID: j.id, State: StatePending}
	}
	runCtx, cancel := context.WithCancelCause(e.base)
	lr := &liveRun{engine: e, rec: rec, cancel: cancel, done: make(chan struct{})}
	// A cancel request can name the run as soon as the record is stored,
	// so the watch starts before the first save.
	e.watchCancel(lr)
	if err := e.store.Save(ctx, rec); err != nil {
		lr.stopWatch()
		cancel(nil)
		return nil, fmt.Errorf("start workflow %q: %w", workflowID, err)
	}

	e.runsMu.Lock()
	if e.closing {
		e.runsMu.Unlock()
		cancel(nil)
		lr.finish(StateCancelled, nil, fmt.Errorf("start workflow %q: %w", workflowID, ErrClosed))
		lr.stopWatch()
		return nil, fmt.Errorf("start workflow %q: %w", workflowID, ErrClosed)
	}
	e.live[rec.ID] = lr
	e.running.Add(1)
	e.runsMu.Unlock()

	e.log.Info("run started", "run_id", rec.ID, "workflow", workflowID)
	go e.execute(runCtx, lr, w, input)
	return lr, nil
}

// Run starts a run like Start and waits for it to end. When ctx ends
// first, the run is cancelled and Run returns once it has stopped. The
// returned error is nil for a completed run. For a failed or cancelled
// run it is the run's error, which wraps the job's error (for example
// ErrTimeout, an *HTTPError or a *waiter.RemoteError) or ErrCancelled.
//
// The returned record contains the values the components returned,
// while Get and List return the store's copy (JSON-decoded, in
// MemoryStore).
func (e *Engine) Run(ctx context.Context, workflowID string, input any) (*Run, error) {
	lr, err := e.start(ctx, workflowID, input)
	if err != nil {
		return nil, err
	}
	select {
	case <-lr.done:
	case <-ctx.Done():
		lr.cancel(cancelledError("context of Run ended", context.Cause(ctx)))
		<-lr.done
	}
	return lr.snapshot(), lr.err
}

// Get returns the stored record of a run, or an error wrapping
// ErrUnknownRun.
func (e *Engine) Get(ctx context.Context, runID string) (*Run, error) {
	return e.store.Get(ctx, runID)
}

// List returns the stored runs selected by q, newest first.
func (e *Engine) List(ctx context.Context, q Query) ([]*Run, error) {
	return e.store.List(ctx, q)
}

// Wait blocks until the run has ended or ctx ends, and returns its
// record. The error is ctx's error when ctx ends first, one wrapping
// ErrUnknownRun for an unknown id, and otherwise the run's error as Run
// returns it. For a run that this engine did not execute, the error
// wraps only its stored message (and ErrCancelled for a cancelled run).
// Wait then learns of the run's end from a [SharedStore]'s notification,
// or, with any other store, by checking the store once a second.
func (e *Engine) Wait(ctx context.Context, runID string) (*Run, error) {
	if ss, ok := e.store.(SharedStore); ok {
		if lr := e.liveRun(runID); lr != nil {
			select {
			case <-lr.done:
				return lr.snapshot(), lr.err
			case <-ctx.Done():
				return nil, fmt.Errorf("wait for run %s: %w", runID, context.Cause(ctx))
			}
		}
		rec, err := e.waitShared(ctx, ss, runID)
		if err != nil {
			return nil, fmt.Errorf("wait for run %s: %w", runID, err)
		}
		return rec, storedRunError(rec)
	}
	for {
		if lr := e.liveRun(runID); lr != nil {
			select {
			case <-lr.done:
				return lr.snapshot(), lr.err
			case <-ctx.Done():
				return nil, fmt.Errorf("wait for run %s: %w", runID, context.Cause(ctx))
			}
		}
		rec, err := e.store.Get(ctx, runID)
		if err != nil {
			return nil, fmt.Errorf("wait for run %s: %w", runID, err)
		}
		if rec.State.Done() {
			return rec, storedRunError(rec)
		}
		if e.liveRun(runID) != nil {
			continue
		}
		if err := sleep(ctx, e.clock, time.Second); err != nil {
			return nil, fmt.Errorf("wait for run %s: %w", runID, err)
		}
	}
}

// Cancel stops a run that this engine is executing: its context ends, a
// job waiting for a callback stops waiting, and the run ends in state
// cancelled. Cancel returns when the run has recorded its end state, or
// with ctx's error when ctx ends first (the run still stops).
// Cancelling a run that has already ended does nothing, so a run that
// completed just before Cancel stays completed. Cancel returns an error
// wrapping ErrUnknownRun for an unknown id.
//
// A run that another engine executes can be cancelled only through a
// [SharedStore]: Cancel sends the request and waits until the run's end
// is stored, for at most 30 seconds. With any other store, Cancel returns
// an error for such a run.
func (e *Engine) Cancel(ctx context.Context, runID string) error {
	if lr := e.liveRun(runID); lr != nil {
		return e.cancel(ctx, lr)
	}
	rec, err := e.store.Get(ctx, runID)
	if err != nil {
		return fmt.Errorf("cancel run %s: %w", runID, err)
	}
	if rec.State.Done() {
		return nil
	}
	// The run may have started here between the two lookups.
	if lr := e.liveRun(runID); lr != nil {
		return e.cancel(ctx, lr)
	}
	if ss, ok := e.store.(SharedStore); ok {
		return e.cancelShared(ctx, ss, runID)
	}
	return fmt.Errorf("cancel run %s: run is %s in another engine; cancel it there", runID, rec.State)
}

func (e *Engine) cancel(ctx context.Context, lr *liveRun) error {
	lr.cancel(ErrCancelled)
	e.log.Info("run cancel requested", "run_id", lr.rec.ID, "workflow", lr.workflowID())
	select {
	case <-lr.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cancel run %s: %w", lr.rec.ID, context.Cause(ctx))
	}
}

func (e *Engine) liveRun(id string) *liveRun {
	e.runsMu.Lock()
	defer e.runsMu.Unlock()
	return e.live[id]
}

// Shutdown stops accepting runs, then waits for the runs in progress to
// end. When ctx ends first, it cancels them, waits until they have
// stopped and recorded state cancelled, and returns ctx's error. It does
// not close the waiter; Close does.
func (e *Engine) Shutdown(ctx context.Context) error {
	e.runsMu.Lock()
	e.closing = true
	e.runsMu.Unlock()

	drained := make(chan struct{})
	go func() {
		e.running.Wait()
		close(drained)
	}()
	select {
	case <-drained:
		return nil
	case <-ctx.Done():
	}

	e.log.Warn("shutdown deadline reached, cancelling runs", "runs", e.liveCount())
	e.stop(cancelledError("engine shut down", nil))
	<-drained
	return fmt.Errorf("shut down workflow engine: %w", context.Cause(ctx))
}

func (e *Engine) liveCount() int {
	e.runsMu.Lock()
	defer e.runsMu.Unlock()
	return len(e.live)
}

// Close cancels every run in progress, waits until they have recorded
// state cancelled, and closes the waiter if the engine created it. A
// second Close returns ErrClosed.
func (e *Engine) Close() error {
	e.runsMu.Lock()
	if e.closed {
		e.runsMu.Unlock()
		return fmt.Errorf("close workflow engine: %w", ErrClosed)
	}
	e.closing = true
	e.closed = true
	e.runsMu.Unlock()

	e.stop(cancelledError("engine closed", nil))
	e.running.Wait()
	if e.ownsWaiter {
		if err := e.waiter.Close(); err != nil {
			return fmt.Errorf("close workflow engine: %w", err)
		}
	}
	return nil
}

// liveRun is a run executing in this engine.
type liveRun struct {
	engine *Engine
	cancel context.CancelCauseFunc
	done   chan struct{} // closed when the run has ended and err is set
	// unwatch ends the SharedStore's cancel watch; nil for other stores.
	unwatch func()

	mu  sync.Mutex // guards rec, and orders the saves of rec
	rec *Run
	err error // the run's error, set before done is closed
}

// stopWatch ends the run's cancel watch, if any.
func (lr *liveRun) stopWatch() {
	if lr.unwatch != nil {
		lr.unwatch()
	}
}

func (lr *liveRun) workflowID() string {
	return lr.rec.WorkflowID
}

// snapshot returns a deep copy of the run record.
func (lr *liveRun) snapshot() *Run {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return cloneRun(lr.rec)
}

// update applies change to the record and saves it. The save happens
// under the lock so that saves of one run reach the store in order.
func (lr *liveRun) update(change func(rec *Run)) {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	change(lr.rec)
	lr.rec.UpdatedAt = lr.engine.clock.Now().UTC()
	_ = lr.saveLocked()
}

// saveLocked saves the record and logs a failure, which the run
// survives: the next save writes the whole record again.
func (lr *liveRun) saveLocked() error {
	// The run's own context may be cancelled already, so the record
	// (including its end state) is saved under a context of its own.
	ctx, cancel := context.WithTimeout(context.Background(), saveTimeout)
	defer cancel()
	err := lr.engine.store.Save(ctx, lr.rec)
	if err != nil {
		lr.engine.log.Error("save run record failed", "run_id", lr.rec.ID, "workflow", lr.rec.WorkflowID, "error", err)
	}
	return err
}

// saveTimeout bounds one Store.Save.
const saveTimeout = 10 * time.Second

// finish records the end state and wakes the waiters of the run.
func (lr *liveRun) finish(state State, output any, err error) {
	lr.mu.Lock()
	defer lr.mu.Unlock()

	lr.rec.State = state
	lr.rec.Output = output
	if err != nil {
		lr.rec.Error = err.Error()
		lr.rec.ErrorKind = errorKind(state, err)
	}
	lr.rec.UpdatedAt = lr.engine.clock.Now().UTC()
	if saveErr := lr.saveLocked(); isEncodingError(saveErr) {
		// An output that cannot be stored would leave the stored run
		// processing for ever, so the run fails without outputs.
		state = StateFailed
		err = fmt.Errorf("save run record: %w", saveErr)
		lr.rec.State = state
		lr.rec.Output = nil
		lr.rec.Error = err.Error()
		for i := range lr.rec.Jobs {
			lr.rec.Jobs[i].Output = nil
		}
		_ = lr.saveLocked()
	}
	lr.err = err
	// The observer hears of the end before Run and Wait return, so
	// that metrics read right after them include this run.
	lr.engine.observeRunEnded(lr.rec.WorkflowID, state, lr.rec.CreatedAt)
	close(lr.done)
}

// isEncodingError reports whether err comes from encoding/json failing
// to encode a value.
func isEncodingError(err error) bool {
	var unsupportedType *json.UnsupportedTypeError
	var unsupportedValue *json.UnsupportedValueError
	var marshaler *json.MarshalerError
	return errors.As(err, &unsupportedType) || errors.As(err, &unsupportedValue) || errors.As(err, &marshaler)
}

// runError is the error of a run that is known only by its stored
// message.
type runError struct {
	msg  string
	kind string // a Run.ErrorKind
}

func (e *runError) Error() string { return e.msg }

func (e *runError) Unwrap() error {
	switch e.kind {
	case "cancelled":
		return ErrCancelled
	case "timeout":
		return ErrTimeout
	case "remote_failed":
		return waiter.ErrRemoteFailed
	case "http":
		return ErrHTTP
	}
	return nil
}

// errorKind classifies a run's error for Run.ErrorKind.
func errorKind(state State, err error) string {
	switch {
	case err == nil:
		return ""
	case state == StateCancelled || errors.Is(err, ErrCancelled):
		return "cancelled"
	case errors.Is(err, ErrTimeout):
		return "timeout"
	case errors.Is(err, waiter.ErrRemoteFailed):
		return "remote_failed"
	case errors.Is(err, ErrHTTP):
		return "http"
	}
	return ""
}

func storedRunError(rec *Run) error {
	switch rec.State {
	case StateFailed:
		return &runError{msg: rec.Error, kind: rec.ErrorKind}
	case StateCancelled:
		return &runError{msg: rec.Error, kind: "cancelled"}
	}
	return nil
}

// cancelledError returns an error that wraps ErrCancelled, gives the
// reason, and keeps cause, if any, for errors.Is.
func cancelledError(reason string, cause error) error {
	if cause == nil {
		return fmt.Errorf("%w: %s", ErrCancelled, reason)
	}
	return fmt.Errorf("%w: %s: %w", ErrCancelled, reason, cause)
}
