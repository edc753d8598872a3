package workflow

import (
	"context"
	"time"

	"github.com/tether-go/tether/clock"
)

// sleep waits for d on clk, or until ctx ends, when it returns the cause.
func sleep(ctx context.Context, clk clock.Clock, d time.Duration) error {
	if d <= 0 {
		return context.Cause(ctx)
	}
	elapsed := make(chan struct{})
	t := clk.AfterFunc(d, func() { close(elapsed) })
	select {
	case <-elapsed:
		return nil
	case <-ctx.Done():
		t.Stop()
		return context.Cause(ctx)
	}
}

// withTimeout returns a context that ends with cause err when d has
// elapsed on clk. The caller must call the returned function to release
// the timer.
func withTimeout(ctx context.Context, clk clock.Clock, d time.Duration, err error) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	t := clk.AfterFunc(d, func() { cancel(err) })
	return ctx, func() {
		t.Stop()
		cancel(nil)
	}
}
