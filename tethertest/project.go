package tethertest

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"sort"
	"testing"
	"time"

	"github.com/tether-go/tether/compose"
	"github.com/tether-go/tether/waiter"
	"github.com/tether-go/tether/workflow"
)

// DefaultTimeout bounds, in real time, each helper that waits for the
// code under test: WaitState, WaitUntilWaiting, Clock.WaitForTimer and
// the like. A helper that runs out fails the test with what it saw.
// WithTimeout changes it for one project.
const DefaultTimeout = 10 * time.Second

// pollInterval is how often WaitState reads the run record.
const pollInterval = 2 * time.Millisecond

// Option configures NewProject.
type Option func(*settings)

type settings struct {
	clock      *Clock
	realClock  bool
	env        map[string]string
	components map[string]workflow.Component
	logger     *slog.Logger
	timeout    time.Duration
	edit       []func(*compose.Options)
}

// WithClock makes the project use c, for example to share one fake
// clock between two projects. Without it, NewProject creates a Clock.
func WithClock(c *Clock) Option { return func(s *settings) { s.clock = c } }

// WithRealClock makes the project use the wall clock, so that timeouts
// and polling intervals pass by themselves. Project.Clock is then nil.
func WithRealClock() Option { return func(s *settings) { s.realClock = true } }

// WithEnv sets values for ${env.NAME}. The process environment is never
// read, so a test gets only the values it sets. Later calls add to earlier
// ones.
func WithEnv(env map[string]string) Option {
	return func(s *settings) {
		if s.env == nil {
			s.env = map[string]string{}
		}
		maps.Copy(s.env, env)
	}
}

// WithComponent registers a component written in Go under id, for jobs
// to refer to, like compose.Options.Components.
func WithComponent(id string, c workflow.Component) Option {
	return func(s *settings) {
		if s.components == nil {
			s.components = map[string]workflow.Component{}
		}
		s.components[id] = c
	}
}

// WithLogger sends the project's logs to l instead of the test log.
func WithLogger(l *slog.Logger) Option { return func(s *settings) { s.logger = l } }

// WithTimeout sets the real-time bound of the project's waiting helpers.
// Zero or less keeps DefaultTimeout.
func WithTimeout(d time.Duration) Option { return func(s *settings) { s.timeout = d } }

// WithOptions lets f change the compose.Options that NewProject passes
// to compose.New, after every other option has been applied. Setting
// Waiter there turns off WaitUntilWaiting and Waiting.
func WithOptions(f func(*compose.Options)) Option {
	return func(s *settings) { s.edit = append(s.edit, f) }
}

// Project is a compose.Project started for one test on free 127.0.0.1
// ports, with a fake clock and a waiter the test can watch. Its helpers
// fail the test instead of returning errors, and wait for at most
// DefaultTimeout of real time. The project is closed when the test
// ends. Its methods are safe for concurrent use, but like t.Fatal they
// must be called from the goroutine running the test.
type Project struct {
	*compose.Project
	// Clock is the project's fake clock, or nil with WithRealClock.
	Clock *Clock

	t       testing.TB
	timeout time.Duration
	waiter  *watchedWaiter // nil when WithOptions set another waiter
}

// NewProject parses yaml, builds the project and starts its listeners,
// gateways and controller on free 127.0.0.1 ports. It fails the test on
// any problem in the configuration, and registers the project's Close
// with t.Cleanup.
func NewProject(t testing.TB, yaml string, opts ...Option) *Project {
	t.Helper()
	cfg, err := compose.Parse([]byte(yaml), t.Name()+".yml")
	if err != nil {
		t.Fatalf("tethertest: parse project: %v", err)
	}
	return NewProjectFromConfig(t, cfg, opts...)
}

// NewProjectFromConfig is NewProject for a configuration built in Go.
func NewProjectFromConfig(t testing.TB, cfg *compose.Config, opts ...Option) *Project {
	t.Helper()
	s := &settings{}
	for _, o := range opts {
		o(s)
	}
	p := &Project{t: t, timeout: s.timeout}
	if p.timeout <= 0 {
		p.timeout = DefaultTimeout
	}
	if !s.realClock {
		p.Clock = s.clock
		if p.Clock == nil {
			p.Clock = NewClock()
		}
	}
	logger := s.logger
	if logger == nil {
		logger = Logger(t)
	}

	copts := &compose.Options{
		Ephemeral:  true,
		Logger:     logger,
		Components: s.components,
		LookupEnv: func(name string) (string, bool) {
			v, ok := s.env[name]
			return v, ok
		},
	}
	if p.Clock != nil {
		copts.Clock = p.Clock
	}
	memory := waiter.NewMemory(&waiter.MemoryOptions{Clock: copts.Clock, Logger: logger})
	p.waiter = newWatchedWaiter(memory)
	copts.Waiter = p.waiter
	for _, f := range s.edit {
		f(copts)
	}
	if copts.Waiter != p.waiter {
		p.waiter = nil
	}

	cp, err := compose.New(cfg, copts)
	if err != nil {
		_ = memory.Close()
		t.Fatalf("tethertest: build project: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	if err := cp.Up(ctx); err != nil {
		_ = cp.Close()
		_ = memory.Close()
		t.Fatalf("tethertest: start project: %v", err)
	}
	p.Project = cp
	t.Cleanup(func() {
		if err := cp.Close(); err != nil && !errors.Is(err, compose.ErrClosed) {
			t.Errorf("tethertest: close project: %v", err)
		}
		_ = memory.Close()
	})
	return p
}

// WithT returns a handle on the same project whose helpers report to
// t, for use in a subtest. The project still closes when the test that
// created it ends.
func (p *Project) WithT(t testing.TB) *Project {
	c := *p
	c.t = t
	return &c
}

// ListenerURL returns "http://ADDRESS" for the listener configured with
// port, such as 8090, on the address it is bound to. It fails the test
// when no listener has that port.
func (p *Project) ListenerURL(port int) string {
	p.t.Helper()
	addr := p.ListenerAddr(port)
	if addr == nil {
		p.t.Fatalf("tethertest: no listener is configured with port %d", port)
	}
	return "http://" + addr.String()
}

// ControllerURL returns "http://ADDRESS" of the controller. It fails the
// test when the configuration disables the controller.
func (p *Project) ControllerURL() string {
	p.t.Helper()
	addr := p.ControllerAddr()
	if addr == nil {
		p.t.Fatalf("tethertest: the project has no controller")
	}
	return "http://" + addr.String()
}

// StartRun starts a run of the workflow with input and returns its id.
// An empty workflowID means the default workflow.
func (p *Project) StartRun(workflowID string, input any) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	run, err := p.Start(ctx, workflowID, input)
	if err != nil {
		p.t.Fatalf("tethertest: start workflow %q: %v", workflowID, err)
	}
	return run.ID
}

// RunWorkflow starts a run and waits until it ends, in any state.
func (p *Project) RunWorkflow(workflowID string, input any) *workflow.Run {
	p.t.Helper()
	return p.WaitDone(p.StartRun(workflowID, input))
}

// Run returns the stored record of a run.
func (p *Project) Run(runID string) *workflow.Run {
	p.t.Helper()
	return p.runs().Get(runID)
}

// WaitState waits until the run is in state want and returns its
// record. It fails the test at once when the run ends in another state,
// and after the project's timeout when the run stays elsewhere.
func (p *Project) WaitState(runID string, want workflow.State) *workflow.Run {
	p.t.Helper()
	return p.runs().WaitState(runID, want)
}

// WaitDone waits until the run has ended (completed, failed or
// cancelled) and returns its record.
func (p *Project) WaitDone(runID string) *workflow.Run {
	p.t.Helper()
	return p.runs().WaitDone(runID)
}

// WaitJobState waits until the job jobID of the run is in state want.
func (p *Project) WaitJobState(runID, jobID string, want workflow.State) *workflow.Run {
	p.t.Helper()
	return p.runs().WaitJobState(runID, jobID, want)
}

// RequireCompleted waits until the run ends, fails the test unless it
// completed, and returns its output.
func (p *Project) RequireCompleted(runID string) any {
	p.t.Helper()
	return p.runs().RequireCompleted(runID)
}

// RequireFailed waits until the run ends, fails the test unless it
// failed, and returns its error message.
func (p *Project) RequireFailed(runID string) string {
	p.t.Helper()
	return p.runs().RequireFailed(runID)
}

func (p *Project) runs() *Runs {
	return &Runs{t: p.t, engine: p.Engine(), clock: p.Clock, timeout: p.timeout}
}

// WaitUntilWaiting waits until a job has received the response to its
// request and called Wait for the callback id. A test can then deliver
// a callback that resolves the wait, or advance the clock past the
// wait's timeout. It returns at once when a job has already called
// Wait for id, even if that wait has ended. It fails the test when
// WithOptions replaced the waiter.
func (p *Project) WaitUntilWaiting(id string) {
	p.t.Helper()
	if p.waiter == nil {
		p.t.Fatalf("tethertest: WaitUntilWaiting needs the project's own waiter; WithOptions replaced it")
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	err := p.waiter.waitFor(ctx, "a job waits for callback "+id, func() bool { return p.waiter.inWait[id] })
	if err != nil {
		p.t.Fatalf("tethertest: %v; ids registered: %q", err, p.Waiting())
	}
}

// Waiting returns the callback ids that jobs have registered and wait
// for or will wait for once their request returns, sorted. It
// is nil when WithOptions replaced the waiter.
func (p *Project) Waiting() []string {
	if p.waiter == nil {
		return nil
	}
	ids := p.waiter.waiting()
	sort.Strings(ids)
	return ids
}

// Deliver hands the outcome o for callback id to the project's waiter,
// as an http-callback listener does, without HTTP. It returns what the
// waiter did: Delivered to a waiting job, Stored for a job that waits
// later, or Duplicate.
func (p *Project) Deliver(id string, o waiter.Outcome) waiter.Delivery {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	d, err := p.Waiter().Deliver(ctx, id, o)
	if err != nil {
		p.t.Fatalf("tethertest: deliver callback %q: %v", id, err)
	}
	return d
}
