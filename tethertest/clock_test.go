package tethertest_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/tethertest"
)

func TestClockFiresOnlyDueTimers(t *testing.T) {
	c := tethertest.NewClock()
	fired := make(chan string, 3)
	c.AfterFunc(time.Second, func() { fired <- "1s" })
	c.AfterFunc(time.Minute, func() { fired <- "1m" })

	c.Advance(999 * time.Millisecond)
	assert.Equal(t, []time.Duration{time.Second, time.Minute}, c.Timers())

	c.Advance(time.Millisecond)
	assert.Equal(t, "1s", <-fired)
	assert.Equal(t, []time.Duration{time.Minute}, c.Timers())
	assert.Equal(t, tethertest.Epoch.Add(time.Second), c.Now())
}

func TestClockStoppedTimerNeverFires(t *testing.T) {
	c := tethertest.NewClock()
	var fired atomic.Bool
	timer := c.AfterFunc(time.Second, func() { fired.Store(true) })

	assert.True(t, timer.Stop())
	assert.False(t, timer.Stop())
	c.Advance(time.Hour)

	assert.False(t, fired.Load())
	assert.Empty(t, c.Timers())
}

func TestClockZeroDurationFiresOnAdvance(t *testing.T) {
	c := tethertest.NewClock()
	fired := make(chan struct{})
	c.AfterFunc(0, func() { close(fired) })

	c.Advance(-time.Second)

	<-fired
	assert.Equal(t, tethertest.Epoch, c.Now())
}

func TestClockWaitForTimerArmedLater(t *testing.T) {
	c := tethertest.NewClock()
	fired := make(chan struct{})
	go func() {
		time.Sleep(10 * time.Millisecond)
		c.AfterFunc(5*time.Second, func() { close(fired) })
	}()

	c.AdvanceTimer(t, 5*time.Second)

	<-fired
}

func TestClockBlockUntilTimerContextEnds(t *testing.T) {
	c := tethertest.NewClock()
	c.AfterFunc(time.Second, func() {})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()

	err := c.BlockUntilTimer(ctx, time.Minute)

	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "armed: [1s]")
}
