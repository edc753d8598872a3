package workflow

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sharedMemoryStore is a SharedStore in memory, for engines in one
// process. RequestCancelFunc, when set, replaces RequestCancel.
type sharedMemoryStore struct {
	*MemoryStore
	RequestCancelFunc func(ctx context.Context, runID string) error

	mu      sync.Mutex                       // guards cancels, ends and nextID
	cancels map[string]map[int]func()        // by run id, then watch id
	ends    map[string]map[int]chan struct{} // by run id, then watch id
	nextID  int
}

var _ SharedStore = (*sharedMemoryStore)(nil)

func newSharedMemoryStore() *sharedMemoryStore {
	return &sharedMemoryStore{
		MemoryStore: NewMemoryStore(0),
		cancels:     map[string]map[int]func(){},
		ends:        map[string]map[int]chan struct{}{},
	}
}

func (s *sharedMemoryStore) Save(ctx context.Context, run *Run) error {
	if err := s.MemoryStore.Save(ctx, run); err != nil {
		return err
	}
	if !run.State.Done() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, ch := range s.ends[run.ID] {
		close(ch)
		delete(s.ends[run.ID], id)
	}
	return nil
}

func (s *sharedMemoryStore) RequestCancel(ctx context.Context, runID string) error {
	if s.RequestCancelFunc != nil {
		return s.RequestCancelFunc(ctx, runID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cancel := range s.cancels[runID] {
		cancel()
	}
	return nil
}

func (s *sharedMemoryStore) WatchCancel(runID string, cancel func()) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	id := s.nextID
	if s.cancels[runID] == nil {
		s.cancels[runID] = map[int]func(){}
	}
	s.cancels[runID][id] = cancel
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.cancels[runID], id)
	}
}

func (s *sharedMemoryStore) WatchEnd(runID string) (<-chan struct{}, func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	id := s.nextID
	ch := make(chan struct{})
	if s.ends[runID] == nil {
		s.ends[runID] = map[int]chan struct{}{}
	}
	s.ends[runID][id] = ch
	return ch, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.ends[runID], id)
	}
}

// watchCount returns the number of cancel and end watches in place.
func (s *sharedMemoryStore) watchCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.cancels {
		n += len(m)
	}
	for _, m := range s.ends {
		n += len(m)
	}
	return n
}

// sharedEngines returns two engines on one shared store, each with the
// workflow "block" of blockingEngine, and a fake clock that never moves,
// so that any polling would hang the test.
func sharedEngines(t *testing.T, store *sharedMemoryStore, release chan struct{}, started chan string) (a, b *Engine) {
	t.Helper()
	clk := newFakeClock()
	block := componentFunc(func(ctx context.Context, call *Call) (any, error) {
		started <- call.RunID
		select {
		case <-release:
			return "released", nil
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	})
	for _, e := range []**Engine{&a, &b} {
		*e = newTestEngine(t, &Options{Store: store, Clock: clk})
		require.NoError(t, (*e).AddComponent("block", block))
		require.NoError(t, (*e).AddWorkflow(&Workflow{ID: "block", Component: "block"}))
	}
	return a, b
}

func TestSharedStoreCancelFromOtherEngine(t *testing.T) {
	store := newSharedMemoryStore()
	started := make(chan string, 1)
	a, b := sharedEngines(t, store, make(chan struct{}), started)
	run, err := a.Start(context.Background(), "block", nil)
	require.NoError(t, err)
	<-started

	require.NoError(t, b.Cancel(context.Background(), run.ID))
	stored, err := b.Get(context.Background(), run.ID)
	require.NoError(t, err)
	assert.Equal(t, StateCancelled, stored.State, "Cancel returns after the end state is saved")
	assert.Contains(t, stored.Error, "cancel requested by another engine")

	_, err = a.Wait(context.Background(), run.ID)
	assert.ErrorIs(t, err, ErrCancelled)
	assert.NoError(t, b.Cancel(context.Background(), run.ID), "cancelling an ended run does nothing")
	// The engine that ran the run releases its watch after it has saved
	// the end state, so the release may come just after Wait returns.
	assert.Eventually(t, func() bool { return store.watchCount() == 0 }, 5*time.Second, time.Millisecond, "watches are released")
}

func TestSharedStoreWaitWithoutPolling(t *testing.T) {
	store := newSharedMemoryStore()
	release := make(chan struct{})
	started := make(chan string, 1)
	a, b := sharedEngines(t, store, release, started)
	run, err := a.Start(context.Background(), "block", map[string]any{"n": 1})
	require.NoError(t, err)
	<-started

	type result struct {
		run *Run
		err error
	}
	waited := make(chan result, 1)
	go func() {
		r, err := b.Wait(context.Background(), run.ID)
		waited <- result{r, err}
	}()
	close(release)

	select {
	case r := <-waited:
		require.NoError(t, r.err)
		assert.Equal(t, StateCompleted, r.run.State)
		assert.Equal(t, "released", r.run.Output)
	case <-time.After(5 * time.Second):
		t.Fatal("Wait on the other engine did not return after the run completed; the clock never moves, so it must not poll")
	}
	// The engine that ran the run releases its watch after it has saved
	// the end state, so the release may come just after Wait returns.
	assert.Eventually(t, func() bool { return store.watchCount() == 0 }, 5*time.Second, time.Millisecond, "watches are released")
}

func TestSharedStoreWaitContextEnds(t *testing.T) {
	store := newSharedMemoryStore()
	started := make(chan string, 1)
	a, b := sharedEngines(t, store, make(chan struct{}), started)
	run, err := a.Start(context.Background(), "block", nil)
	require.NoError(t, err)
	<-started

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = b.Wait(ctx, run.ID)
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	_, err = b.Wait(context.Background(), "no-such-run")
	assert.ErrorIs(t, err, ErrUnknownRun)
}

func TestSharedStoreCancelRequestFails(t *testing.T) {
	store := newSharedMemoryStore()
	store.RequestCancelFunc = func(ctx context.Context, runID string) error {
		return assert.AnError
	}
	started := make(chan string, 1)
	a, b := sharedEngines(t, store, make(chan struct{}), started)
	run, err := a.Start(context.Background(), "block", nil)
	require.NoError(t, err)
	<-started

	err = b.Cancel(context.Background(), run.ID)
	assert.ErrorIs(t, err, assert.AnError)
	assert.ErrorContains(t, err, run.ID)
	assert.ErrorIs(t, b.Cancel(context.Background(), "no-such-run"), ErrUnknownRun)
}

func TestSharedStoreCancelUnanswered(t *testing.T) {
	store := newSharedMemoryStore()
	// The request reaches no engine, as when the executing one crashed.
	store.RequestCancelFunc = func(ctx context.Context, runID string) error { return nil }
	started := make(chan string, 1)
	a, _ := sharedEngines(t, store, make(chan struct{}), started)
	run, err := a.Start(context.Background(), "block", nil)
	require.NoError(t, err)
	<-started

	clk := newFakeClock()
	b := newTestEngine(t, &Options{Store: store, Clock: clk})
	errs := make(chan error, 1)
	go func() { errs <- b.Cancel(context.Background(), run.ID) }()
	clk.WaitForTimer(t, remoteCancelTimeout)
	clk.Advance(remoteCancelTimeout)
	select {
	case err := <-errs:
		assert.ErrorIs(t, err, errStillProcessing)
		assert.ErrorContains(t, err, "may have stopped")
	case <-time.After(5 * time.Second):
		t.Fatal("Cancel did not give up after its timeout")
	}
}
