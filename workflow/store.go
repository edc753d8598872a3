package workflow

import (
	"container/list"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"
)

// DefaultMaxRuns is the number of runs a [MemoryStore] keeps when
// NewMemoryStore is given zero.
const DefaultMaxRuns = 10000

// MemoryStore is the default [Store]: it keeps runs as JSON in the
// process's memory. When it holds more than its maximum, it drops the
// oldest ended runs; runs still pending or processing are never dropped.
// A MemoryStore is safe for concurrent use.
type MemoryStore struct {
	maxRuns int

	mu    sync.Mutex            // guards runs and order
	runs  map[string]*storedRun // by run id
	order *list.List            // of run ids, oldest first
}

type storedRun struct {
	data       []byte
	workflowID string
	state      State
	createdAt  time.Time
	elem       *list.Element
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty store that keeps at most maxRuns ended
// runs; zero or less means [DefaultMaxRuns].
func NewMemoryStore(maxRuns int) *MemoryStore {
	if maxRuns <= 0 {
		maxRuns = DefaultMaxRuns
	}
	return &MemoryStore{maxRuns: maxRuns, runs: make(map[string]*storedRun), order: list.New()}
}

// Save stores a JSON copy of run.
func (s *MemoryStore) Save(ctx context.Context, run *Run) error {
	data, err := json.Marshal(run)
	if err != nil {
		return fmt.Errorf("save run %s: %w", run.ID, err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.runs[run.ID]; ok {
		old.data = data
		old.state = run.State
		return nil
	}
	stored := &storedRun{data: data, workflowID: run.WorkflowID, state: run.State, createdAt: run.CreatedAt}
	stored.elem = s.order.PushBack(run.ID)
	s.runs[run.ID] = stored
	s.evictLocked()
	return nil
}

// evictLocked drops the oldest ended runs while the store holds more than
// maxRuns.
func (s *MemoryStore) evictLocked() {
	for e := s.order.Front(); e != nil && len(s.runs) > s.maxRuns; {
		next := e.Next()
		id := e.Value.(string)
		if s.runs[id].state.Done() {
			s.order.Remove(e)
			delete(s.runs, id)
		}
		e = next
	}
}

// Get returns a copy of the run with the given id.
func (s *MemoryStore) Get(ctx context.Context, id string) (*Run, error) {
	s.mu.Lock()
	stored, ok := s.runs[id]
	var data []byte
	if ok {
		data = stored.data
	}
	s.mu.Unlock()

	if !ok {
		return nil, fmt.Errorf("get run %q: %w", id, ErrUnknownRun)
	}
	return decodeRun(data)
}

// List returns copies of the runs selected by q, newest first.
func (s *MemoryStore) List(ctx context.Context, q Query) ([]*Run, error) {
	type match struct {
		data      []byte
		createdAt time.Time
	}
	s.mu.Lock()
	var matches []match
	for _, stored := range s.runs {
		if q.WorkflowID != "" && stored.workflowID != q.WorkflowID {
			continue
		}
		if q.State != "" && stored.state != q.State {
			continue
		}
		matches = append(matches, match{stored.data, stored.createdAt})
	}
	s.mu.Unlock()

	slices.SortFunc(matches, func(a, b match) int { return b.createdAt.Compare(a.createdAt) })
	if q.Limit > 0 && len(matches) > q.Limit {
		matches = matches[:q.Limit]
	}
	runs := make([]*Run, 0, len(matches))
	for _, m := range matches {
		run, err := decodeRun(m.data)
		if err != nil {
			return nil, err
		}
		runs = append(runs, run)
	}
	return runs, nil
}

func decodeRun(data []byte) (*Run, error) {
	var run Run
	if err := json.Unmarshal(data, &run); err != nil {
		return nil, fmt.Errorf("decode run: %w", err)
	}
	return &run, nil
}
