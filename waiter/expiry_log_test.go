package waiter_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/waiter"
)

// An acknowledged callback that no wait claims is lost at the end of the
// retention period. That loss is logged as a warning with the ids.
func TestExpiredEarlyOutcomeIsWarned(t *testing.T) {
	var logs bytes.Buffer
	c := newFakeClock()
	m := waiter.NewMemory(&waiter.MemoryOptions{Retention: time.Minute, Clock: c, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	t.Cleanup(func() { _ = m.Close() })

	for _, id := range []string{"task-1", "task-2"} {
		d, err := m.Deliver(context.Background(), id, waiter.Outcome{Result: "done"})
		require.NoError(t, err)
		require.Equal(t, waiter.Stored, d)
	}
	c.Advance(2 * time.Minute)
	st := m.Stats()

	assert.EqualValues(t, 2, st.Expired)
	assert.Contains(t, logs.String(), "level=WARN")
	assert.Contains(t, logs.String(), "dropped early outcomes that no wait claimed")
	assert.Contains(t, logs.String(), "count=2")
	assert.Contains(t, logs.String(), "task-1")
}
