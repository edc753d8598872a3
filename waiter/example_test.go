package waiter_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/tether-go/tether/waiter"
)

func Example() {
	w := waiter.NewMemory(nil)
	defer w.Close()
	ctx := context.Background()

	// Register before sending the request, so the callback cannot be lost.
	p, err := w.Expect(ctx, "task-123")
	if err != nil {
		fmt.Println(err)
		return
	}

	// The callback listener delivers the outcome.
	d, _ := w.Deliver(ctx, "task-123", waiter.Outcome{Result: map[string]any{"url": "https://example.com/a.png"}})
	fmt.Println(d)

	o, err := p.Wait(ctx)
	fmt.Println(o.Result, err)

	// The sender retried its callback.
	d, _ = w.Deliver(ctx, "task-123", waiter.Outcome{})
	fmt.Println(d)
	// Output:
	// delivered
	// map[url:https://example.com/a.png] <nil>
	// duplicate
}

func ExampleMemory_Deliver_early() {
	w := waiter.NewMemory(nil)
	defer w.Close()
	ctx := context.Background()

	// The callback arrives before anyone waits: it is stored.
	d, _ := w.Deliver(ctx, "task-9", waiter.Outcome{
		Failed: true, Status: "failed", Payload: map[string]any{"error": "quota exceeded"},
	})
	fmt.Println(d)

	p, _ := w.Expect(ctx, "task-9")
	o, _ := p.Wait(ctx) // returns at once
	err := o.Err()
	fmt.Println(err)
	fmt.Println(errors.Is(err, waiter.ErrRemoteFailed))
	// Output:
	// stored
	// remote task failed with status "failed": {"error":"quota exceeded"}
	// true
}

func ExampleMemory_Expect_twice() {
	w := waiter.NewMemory(nil)
	defer w.Close()
	ctx := context.Background()

	p, _ := w.Expect(ctx, "task-1")
	defer p.Cancel()
	_, err := w.Expect(ctx, "task-1")
	fmt.Println(errors.Is(err, waiter.ErrAlreadyWaiting))
	// Output:
	// true
}

func ExampleMemory_Stats() {
	w := waiter.NewMemory(&waiter.MemoryOptions{MaxStored: 1000})
	defer w.Close()
	ctx := context.Background()

	_, _ = w.Expect(ctx, "a")
	_, _ = w.Deliver(ctx, "b", waiter.Outcome{})
	st := w.Stats()
	fmt.Println(st.Pending, st.Stored)
	// Output:
	// 1 1
}
