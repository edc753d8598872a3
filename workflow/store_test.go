package workflow

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMemoryStoreRoundTrip(t *testing.T) {
	s := NewMemoryStore(0)
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	run := &Run{
		ID: "r1", WorkflowID: "w", State: StateCompleted,
		Input: map[string]any{"a": "b"}, Output: []any{"x"},
		Jobs:      []JobRun{{ID: "j", State: StateCompleted, Attempts: 2, StartedAt: &now}},
		CreatedAt: now, UpdatedAt: now,
	}
	require.NoError(t, s.Save(ctx, run))
	run.Jobs[0].State = StateFailed // the store keeps its own copy

	got, err := s.Get(ctx, "r1")
	require.NoError(t, err)
	assert.Equal(t, StateCompleted, got.Jobs[0].State)
	assert.Equal(t, map[string]any{"a": "b"}, got.Input)
	assert.Equal(t, []any{"x"}, got.Output)
	assert.True(t, got.Jobs[0].StartedAt.Equal(now))

	_, err = s.Get(ctx, "r2")
	assert.ErrorIs(t, err, ErrUnknownRun)
}

func TestMemoryStoreListAndEviction(t *testing.T) {
	s := NewMemoryStore(3)
	ctx := context.Background()
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	save := func(id string, state State, minute int) {
		t.Helper()
		require.NoError(t, s.Save(ctx, &Run{ID: id, WorkflowID: "w", State: state, CreatedAt: base.Add(time.Duration(minute) * time.Minute)}))
	}
	save("running", StateProcessing, 0)
	save("old", StateCompleted, 1)
	save("mid", StateFailed, 2)
	save("new", StateCompleted, 3) // evicts "old", the oldest ended run

	list, err := s.List(ctx, Query{})
	require.NoError(t, err)
	var ids []string
	for _, r := range list {
		ids = append(ids, r.ID)
	}
	assert.Equal(t, []string{"new", "mid", "running"}, ids)

	list, err = s.List(ctx, Query{State: StateCompleted})
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "new", list[0].ID)

	list, err = s.List(ctx, Query{Limit: 1})
	require.NoError(t, err)
	require.Len(t, list, 1)

	list, err = s.List(ctx, Query{WorkflowID: "other"})
	require.NoError(t, err)
	assert.Empty(t, list)
}

func TestMemoryStoreKeepsActiveRuns(t *testing.T) {
	s := NewMemoryStore(2)
	ctx := context.Background()
	for i := range 5 {
		require.NoError(t, s.Save(ctx, &Run{ID: fmt.Sprint(i), State: StateProcessing}))
	}
	list, err := s.List(ctx, Query{})
	require.NoError(t, err)
	assert.Len(t, list, 5, "runs in progress are never dropped")
}
