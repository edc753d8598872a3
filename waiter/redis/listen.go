package redis

import (
	"context"
	"errors"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tether-go/tether/waiter"
)

// maxBatch bounds the number of ids claimed in one pipeline.
const maxBatch = 512

// listen receives the ids of delivered outcomes and claims those that
// this replica waits for. After go-redis has reconnected and subscribed
// again, it runs a renew pass, which claims the outcomes whose
// notifications were published while the connection was down.
func (w *Waiter) listen(messages <-chan any) {
	defer w.goroutines.Done()
	for {
		var first any
		select {
		case <-w.stop:
			return
		case msg, ok := <-messages:
			if !ok {
				return
			}
			first = msg
		}

		var ids []string
		resubscribed := false
		add := func(msg any) {
			switch m := msg.(type) {
			case *goredis.Message:
				ids = append(ids, m.Payload)
			case *goredis.Subscription:
				resubscribed = resubscribed || m.Kind == "subscribe"
			}
		}
		add(first)
	drain:
		for len(ids) < maxBatch {
			select {
			case msg, ok := <-messages:
				if !ok {
					break drain
				}
				add(msg)
			default:
				break drain
			}
		}

		if resubscribed {
			w.opts.Logger.Info("redis waiter resubscribed after a lost connection, checking for missed outcomes",
				"addr", w.addr, "channel", w.channel)
			w.renewAll()
		}
		if len(ids) > 0 {
			w.claimIDs(ids)
		}
	}
}

// claimIDs claims the outcomes of the ids that this replica waits for.
func (w *Waiter) claimIDs(ids []string) {
	var ps []*pending
	w.mu.Lock()
	for _, id := range ids {
		if p := w.pending[id]; p != nil && p.state == stateWaiting {
			ps = append(ps, p)
		}
	}
	w.mu.Unlock()
	if len(ps) == 0 {
		return
	}

	calls := make([]scriptCall, len(ps))
	for i, p := range ps {
		calls[i] = scriptCall{keys: w.keys(p.id), args: []any{p.id, p.token}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.opts.Lease)
	defer cancel()
	cmds, err := w.runBatch(ctx, claimScript, calls)
	if err != nil {
		w.opts.Logger.Warn("redis waiter: claim outcomes failed, the next renew pass retries",
			"count", len(ps), "error", err)
	}
	for i, cmd := range cmds {
		if raw, ok := cmd.Val().(string); ok {
			w.arrive(ps[i], w.decodeOrFailure(ps[i].id, raw))
		}
	}
}

// renewLoop runs a renew pass every Lease/3 until Close.
func (w *Waiter) renewLoop() {
	defer w.goroutines.Done()
	ticker := time.NewTicker(w.opts.Lease / 3)
	defer ticker.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-ticker.C:
			w.renewAll()
		}
	}
}

// renewAll retries the failed ends of registrations, extends the lease of
// every live registration of this replica, sets lost registrations again,
// and claims outcomes for the waiting ones. It is the safety net for a
// notification that never arrived.
func (w *Waiter) renewAll() {
	w.mu.Lock()
	retry := w.retryFinish
	w.retryFinish = nil
	w.mu.Unlock()
	if failed := w.finishAll(retry); len(failed) > 0 {
		w.mu.Lock()
		if !w.closed {
			w.retryFinish = append(w.retryFinish, failed...)
		}
		w.mu.Unlock()
	}

	var ps []*pending
	var claim []bool
	w.mu.Lock()
	for _, p := range w.pending {
		if p.confirmed && (p.state == stateWaiting || p.state == stateArrived) {
			ps = append(ps, p)
			claim = append(claim, p.state == stateWaiting)
		}
	}
	w.mu.Unlock()

	for start := 0; start < len(ps); start += maxBatch {
		end := min(start+maxBatch, len(ps))
		calls := make([]scriptCall, 0, end-start)
		for i := start; i < end; i++ {
			flag := "0"
			if claim[i] {
				flag = "1"
			}
			calls = append(calls, scriptCall{keys: w.keys(ps[i].id), args: []any{ps[i].id, ps[i].token, ms(w.opts.Lease), flag}})
		}
		ctx, cancel := context.WithTimeout(context.Background(), w.opts.Lease/3)
		cmds, err := w.runBatch(ctx, renewScript, calls)
		cancel()
		if err != nil {
			w.opts.Logger.Warn("redis waiter: renew registrations failed, retrying in Lease/3",
				"count", len(calls), "lease", w.opts.Lease, "error", err)
		}
		for i, cmd := range cmds {
			w.applyRenew(ps[start+i], cmd)
		}
	}
}

func (w *Waiter) applyRenew(p *pending, cmd *goredis.Cmd) {
	switch v := cmd.Val().(type) {
	case string:
		w.arrive(p, w.decodeOrFailure(p.id, v))
	case int64:
		switch v {
		case renewTaken:
			w.opts.Logger.Warn("redis waiter: registration was missing in redis and was set again", "id", p.id)
		case renewLost:
			w.mu.Lock()
			first := !p.lostLogged
			p.lostLogged = true
			w.mu.Unlock()
			if first {
				w.opts.Logger.Warn("redis waiter: registration was lost to another wait for the id; this wait receives no outcome and ends only by its context, Cancel or Close",
					"id", p.id)
			}
		}
	}
}

// decodeOrFailure decodes a stored outcome. An undecodable one, which only
// a writer other than Deliver can produce, becomes a failed outcome with
// status "invalid" and the raw text as payload, so the wait still ends.
func (w *Waiter) decodeOrFailure(id, raw string) waiter.Outcome {
	o, err := decodeOutcome([]byte(raw))
	if err != nil {
		w.opts.Logger.Error("redis waiter: stored outcome is not valid JSON", "id", id, "error", err)
		return waiter.Outcome{Failed: true, Status: "invalid", Payload: raw}
	}
	return o
}

// scriptCall is one run of a script in a batch.
type scriptCall struct {
	keys []string
	args []any
}

// runBatch runs script once per call in one pipeline. When Redis has lost
// its script cache, as after a restart, it loads the script and runs the
// affected calls again. The returned commands match calls by index, and
// the error is the first one other than a nil reply.
func (w *Waiter) runBatch(ctx context.Context, script *goredis.Script, calls []scriptCall) ([]*goredis.Cmd, error) {
	cmds := w.pipeline(ctx, script, calls)
	var retry []int
	for i, cmd := range cmds {
		if goredis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			retry = append(retry, i)
		}
	}
	if len(retry) > 0 {
		if err := script.Load(ctx, w.client).Err(); err != nil {
			return cmds, err
		}
		again := make([]scriptCall, len(retry))
		for j, i := range retry {
			again[j] = calls[i]
		}
		for j, cmd := range w.pipeline(ctx, script, again) {
			cmds[retry[j]] = cmd
		}
	}
	for _, cmd := range cmds {
		if err := cmd.Err(); err != nil && !errors.Is(err, goredis.Nil) {
			return cmds, err
		}
	}
	return cmds, nil
}

func (w *Waiter) pipeline(ctx context.Context, script *goredis.Script, calls []scriptCall) []*goredis.Cmd {
	pipe := w.client.Pipeline()
	cmds := make([]*goredis.Cmd, len(calls))
	for i, c := range calls {
		cmds[i] = script.EvalSha(ctx, pipe, c.keys, c.args...)
	}
	_, _ = pipe.Exec(ctx) // errors are read per command
	return cmds
}
