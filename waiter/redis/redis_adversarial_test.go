package redis_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/internal/redistest"
	"github.com/tether-go/tether/waiter"
	redisw "github.com/tether-go/tether/waiter/redis"
)

// Copies of each outcome arrive at two replicas at once while a third
// replica registers: exactly one copy is accepted and returned once.
func TestAdversarialRedisDuplicateStorm(t *testing.T) {
	srv := redistest.Start(t, nil)
	prefix := uniquePrefix()
	waiting := newWaiter(t, srv, &redisw.Options{KeyPrefix: prefix})
	senders := []*redisw.Waiter{
		newWaiter(t, srv, &redisw.Options{KeyPrefix: prefix}),
		newWaiter(t, srv, &redisw.Options{KeyPrefix: prefix}),
	}

	const ids, copies = 50, 6
	var accepted, duplicates, received atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < ids; i++ {
		id := fmt.Sprint("storm-", i)
		wg.Add(1 + copies)
		go func() {
			defer wg.Done()
			p, err := waiting.Expect(ctx, id)
			if !assert.NoError(t, err) {
				return
			}
			waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			o, err := p.Wait(waitCtx)
			if assert.NoError(t, err, id) {
				assert.Equal(t, id, o.Result)
				received.Add(1)
			}
		}()
		for c := 0; c < copies; c++ {
			sender := senders[c%len(senders)]
			go func() {
				defer wg.Done()
				d, err := sender.Deliver(ctx, id, waiter.Outcome{Result: id})
				if !assert.NoError(t, err) {
					return
				}
				switch d {
				case waiter.Delivered, waiter.Stored:
					accepted.Add(1)
				case waiter.Duplicate:
					duplicates.Add(1)
				}
			}()
		}
	}
	wg.Wait()

	assert.Equal(t, int64(ids), accepted.Load())
	assert.Equal(t, int64(ids*(copies-1)), duplicates.Load())
	assert.Equal(t, int64(ids), received.Load())
}

// Ids with the characters that key layouts use, or binary and long ids,
// stay apart from each other and from the waiter's own keys.
func TestAdversarialRedisOddIDs(t *testing.T) {
	srv := redistest.Start(t, nil)
	w := newWaiter(t, srv, &redisw.Options{KeyPrefix: uniquePrefix()})
	ids := []string{"stored", "delivered", "out:x", "x", "dup:x", "{x}", "*", "a b", "\x00", "\xff", string(make([]byte, 64<<10))}
	for i, id := range ids {
		d, err := w.Deliver(ctx, id, waiter.Outcome{Result: fmt.Sprint(i)})
		require.NoError(t, err, "%q", id)
		assert.Equal(t, waiter.Stored, d, "%q", id)
	}
	for i, id := range ids {
		p, err := w.Expect(ctx, id)
		require.NoError(t, err, "%q", id)
		waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		o, err := p.Wait(waitCtx)
		cancel()
		require.NoError(t, err, "%q", id)
		assert.Equal(t, fmt.Sprint(i), o.Result, "%q", id)
	}
}
