package redis

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tether-go/tether/internal/redisurl"
	"github.com/tether-go/tether/waiter"
)

// releaseTimeout bounds the Redis calls made without a caller's context,
// which end registrations after Wait, Cancel or Close.
const releaseTimeout = 2 * time.Second

// Waiter is a [waiter.Waiter] whose registrations and outcomes live in
// Redis, so that several replicas share one set of waits. All methods are
// safe for concurrent use.
type Waiter struct {
	client     goredis.UniversalClient
	ownsClient bool // Open made the client, so Close closes it
	opts       Options
	addr       string // for messages
	channel    string // pub/sub channel that carries the ids of delivered outcomes
	storedKey  string // sorted set of ids with a stored outcome
	replicaID  string // random, starts every token of this Waiter
	tokenSeq   atomic.Uint64
	pubsub     *goredis.PubSub
	stop       chan struct{} // closed by Close to stop the goroutines
	goroutines sync.WaitGroup

	mu          sync.Mutex // guards closed, pending, retryFinish and the state of each pending
	closed      bool
	pending     map[string]*pending // live registrations of this Waiter, by id
	retryFinish []finishCall        // finishScript calls that failed, retried by the renew pass

	delivered  atomic.Uint64
	duplicates atomic.Uint64
}

var _ waiter.Waiter = (*Waiter)(nil)

// New returns a Waiter on client. It sends PING, bounded by
// Options.PingTimeout, and fails with an error naming the address when
// Redis cannot be reached. Close does not close client. opts may be nil.
//
// NOTE: the scripts touch a key shared by all ids (the index of stored
// outcomes), so a Redis Cluster client fails with CROSSSLOT errors. Use a
// single server, or a primary with replicas through Sentinel.
func New(client goredis.UniversalClient, opts *Options) (*Waiter, error) {
	return newWaiter(context.Background(), client, false, opts)
}

// Open connects to the Redis server at url (redis://, rediss:// or
// unix://) and returns a Waiter that owns the connection: Close closes
// it. It fails when url is invalid, or when Redis does not reply to PING
// before ctx ends or Options.PingTimeout passes. opts may be nil.
func Open(ctx context.Context, url string, opts *Options) (*Waiter, error) {
	clientOpts, err := redisurl.Parse(url)
	if err != nil {
		return nil, err
	}
	client := goredis.NewClient(clientOpts)
	w, err := newWaiter(ctx, client, true, opts)
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	return w, nil
}

func newWaiter(ctx context.Context, client goredis.UniversalClient, owns bool, opts *Options) (*Waiter, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	idBytes := make([]byte, 8)
	_, _ = rand.Read(idBytes)
	w := &Waiter{
		client:     client,
		ownsClient: owns,
		opts:       o,
		addr:       clientAddr(client),
		channel:    o.KeyPrefix + "delivered",
		storedKey:  o.KeyPrefix + "stored",
		replicaID:  hex.EncodeToString(idBytes),
		stop:       make(chan struct{}),
		pending:    make(map[string]*pending),
	}

	ctx, cancel := context.WithTimeout(ctx, o.PingTimeout)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("ping redis at %s: %w; check that Redis runs there and accepts connections", w.addr, err)
	}
	// Wait for the subscription before returning, so that no notification
	// for an Expect made after New returns can be missed.
	w.pubsub = client.Subscribe(ctx, w.channel)
	if _, err := w.pubsub.Receive(ctx); err != nil {
		_ = w.pubsub.Close()
		return nil, fmt.Errorf("subscribe to channel %s on redis at %s: %w", w.channel, w.addr, err)
	}
	messages := w.pubsub.ChannelWithSubscriptions(goredis.WithChannelSize(4096))

	w.goroutines.Add(2)
	go w.listen(messages)
	go w.renewLoop()
	w.opts.Logger.Info("redis waiter started", "addr", w.addr, "key_prefix", o.KeyPrefix, "replica", w.replicaID)
	return w, nil
}

// clientAddr returns the server address of client, for messages.
func clientAddr(client goredis.UniversalClient) string {
	switch c := client.(type) {
	case *goredis.Client:
		return c.Options().Addr
	case *goredis.ClusterClient:
		return strings.Join(c.Options().Addrs, ",")
	}
	return fmt.Sprintf("(address of %T)", client)
}

// keys returns the keys of id in the order the scripts expect.
func (w *Waiter) keys(id string) []string {
	p := w.opts.KeyPrefix
	return []string{p + "out:" + id, p + "dup:" + id, p + "reg:" + id, w.storedKey}
}

func ms(d time.Duration) int64 { return d.Milliseconds() }

// Expect registers interest in id, in Redis, for every replica to see. An
// outcome stored for id resolves the returned Pending at once. Expect
// fails with [waiter.ErrAlreadyWaiting] when any replica holds a live
// registration for id, [waiter.ErrInvalidID] for an empty id,
// [waiter.ErrClosed] after Close, and with the Redis error when Redis
// cannot be reached. It is safe for concurrent use.
func (w *Waiter) Expect(ctx context.Context, id string) (waiter.Pending, error) {
	if id == "" {
		return nil, fmt.Errorf("expect id: %w", waiter.ErrInvalidID)
	}
	token := w.replicaID + ":" + strconv.FormatUint(w.tokenSeq.Add(1), 10)
	p := &pending{w: w, id: id, token: token, done: make(chan struct{}), registered: time.Now()}

	// Register locally first: a notification that arrives while the
	// script runs must find p.
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil, waiter.ErrClosed
	}
	if _, ok := w.pending[id]; ok {
		w.mu.Unlock()
		return nil, fmt.Errorf("expect id %q: %w", id, waiter.ErrAlreadyWaiting)
	}
	w.pending[id] = p
	w.mu.Unlock()

	res, err := expectScript.Run(ctx, w.client, w.keys(id), id, token, ms(w.opts.Lease)).Slice()
	if err != nil {
		// The script may have run before the reply was lost, so the next
		// renew pass ends the registration. Ending it here would block the
		// caller longer than ctx allows while Redis is unreachable.
		w.mu.Lock()
		if w.pending[id] == p {
			delete(w.pending, id)
		}
		if !w.closed {
			w.retryFinish = append(w.retryFinish, finishCall{id: id, token: token})
		}
		w.mu.Unlock()
		return nil, fmt.Errorf("expect id %q in redis at %s: %w", id, w.addr, err)
	}
	code, _ := res[0].(int64)
	switch code {
	case expectAlreadyWaiting:
		w.forget(p)
		return nil, fmt.Errorf("expect id %q: %w", id, waiter.ErrAlreadyWaiting)
	case expectResolved:
		raw, _ := res[1].(string)
		w.arrive(p, w.decodeOrFailure(id, raw))
	}

	w.mu.Lock()
	p.confirmed = true
	w.mu.Unlock()
	return p, nil
}

// Deliver writes o to Redis before it returns, so that a crash of any
// replica afterwards loses nothing. It returns [waiter.Delivered] when a
// replica holds a registration for id, which it then wakes through
// pub/sub, [waiter.Stored] when none does, and [waiter.Duplicate] when an
// outcome for id was already accepted. It fails with [waiter.ErrFull] when
// MaxStored outcomes wait for an Expect, and with the Redis error when
// Redis cannot be reached, in which case the sender should retry. It is
// safe for concurrent use.
func (w *Waiter) Deliver(ctx context.Context, id string, o waiter.Outcome) (waiter.Delivery, error) {
	if id == "" {
		return 0, fmt.Errorf("deliver outcome: %w", waiter.ErrInvalidID)
	}
	if w.isClosed() {
		return 0, waiter.ErrClosed
	}
	payload, err := json.Marshal(o)
	if err != nil {
		return 0, fmt.Errorf("encode outcome for id %q as JSON: %w", id, err)
	}
	code, err := deliverScript.Run(ctx, w.client, w.keys(id),
		id, payload, ms(w.opts.Retention), ms(w.opts.DuplicateRetention), w.opts.MaxStored, w.channel).Int64()
	if err != nil {
		return 0, fmt.Errorf("deliver outcome for id %q to redis at %s: %w", id, w.addr, err)
	}
	switch code {
	case deliverDelivered:
		return waiter.Delivered, nil
	case deliverStored:
		w.opts.Logger.Debug("redis waiter: stored early outcome", "id", id)
		return waiter.Stored, nil
	case deliverDuplicate:
		w.duplicates.Add(1)
		w.opts.Logger.Debug("redis waiter: dropped duplicate outcome", "id", id)
		return waiter.Duplicate, nil
	case deliverFull:
		w.opts.Logger.Warn("redis waiter: rejected early outcome, store is full", "id", id, "max_stored", w.opts.MaxStored)
		return 0, fmt.Errorf("store outcome for id %q: %d early outcomes are kept, raise MaxStored or shorten Retention: %w",
			id, w.opts.MaxStored, waiter.ErrFull)
	}
	return 0, fmt.Errorf("deliver outcome for id %q: unexpected script result %d", id, code)
}

// Stats returns the counts of this replica: its waiting registrations,
// the outcomes they received, and the duplicates its Deliver calls
// dropped. Stored, Remembered and Expired are not tracked and stay zero.
// It is safe for concurrent use.
func (w *Waiter) Stats() waiter.Stats {
	w.mu.Lock()
	n := 0
	for _, p := range w.pending {
		if p.state == stateWaiting {
			n++
		}
	}
	w.mu.Unlock()
	return waiter.Stats{
		Pending:    n,
		Delivered:  w.delivered.Load(),
		Duplicates: w.duplicates.Load(),
	}
}

// Close ends every waiting Wait of this replica with [waiter.ErrClosed],
// removes its registrations from Redis so that other replicas can take
// the ids over at once, and stops its goroutines. Outcomes that had not
// reached this replica stay in Redis for the next Expect. A Wait whose
// outcome had already arrived still returns it, and that outcome is
// deleted from Redis. When Redis cannot be reached, Close gives up on
// Redis after two seconds, and the registrations end with their lease.
// Close closes the client only when Open made it. A second Close returns
// [waiter.ErrClosed]. It is safe for concurrent use.
func (w *Waiter) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return waiter.ErrClosed
	}
	w.closed = true
	// An outcome that arrived is consumed: the local Wait still returns it.
	calls := w.retryFinish
	w.retryFinish = nil
	for _, p := range w.pending {
		calls = append(calls, finishCall{id: p.id, token: p.token, consumed: p.state == stateArrived})
		if p.state == stateWaiting {
			p.end(fmt.Errorf("wait for id %q: %w", p.id, waiter.ErrClosed))
		}
	}
	clear(w.pending)
	w.mu.Unlock()

	close(w.stop)
	err := w.pubsub.Close()
	w.goroutines.Wait()
	w.finishAll(calls)
	if w.ownsClient {
		err = errors.Join(err, w.client.Close())
	}
	w.opts.Logger.Info("redis waiter stopped", "addr", w.addr, "replica", w.replicaID)
	if err != nil {
		return fmt.Errorf("close redis waiter: %w", err)
	}
	return nil
}

func (w *Waiter) isClosed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closed
}

// forget removes p from the local registrations.
func (w *Waiter) forget(p *pending) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pending[p.id] == p {
		delete(w.pending, p.id)
	}
}

// finishCall is one registration to end in Redis by finishScript.
type finishCall struct {
	id, token string
	consumed  bool // the outcome was handed over and can be deleted
}

func (w *Waiter) finishArgs(c finishCall) scriptCall {
	flag := "0"
	if c.consumed {
		flag = "1"
	}
	return scriptCall{keys: w.keys(c.id), args: []any{c.id, c.token, flag}}
}

// finish ends a registration in Redis. When Redis cannot be reached, the
// call is queued for the next renew pass, because an outcome that is not
// deleted after being handed over would reach the next Expect of the id.
//
// NOTE: if another replica registers the id before the queued call runs,
// the call leaves the old outcome in place and that Expect receives it a
// second time. This needs a Redis outage at the moment a Wait returns.
func (w *Waiter) finish(c finishCall) {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	sc := w.finishArgs(c)
	err := finishScript.Run(ctx, w.client, sc.keys, sc.args...).Err()
	if err == nil {
		return
	}
	w.mu.Lock()
	closed := w.closed
	if !closed {
		w.retryFinish = append(w.retryFinish, c)
	}
	w.mu.Unlock()
	w.opts.Logger.Warn("redis waiter: ending registration failed, retrying with the next renew pass",
		"id", c.id, "error", err, "closed", closed)
}

// finishAll ends registrations in one pipeline and returns the calls that
// failed.
func (w *Waiter) finishAll(calls []finishCall) []finishCall {
	if len(calls) == 0 {
		return nil
	}
	scs := make([]scriptCall, len(calls))
	for i, c := range calls {
		scs[i] = w.finishArgs(c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	cmds, err := w.runBatch(ctx, finishScript, scs)
	if err == nil {
		return nil
	}
	var failed []finishCall
	for i, cmd := range cmds {
		if cmd.Err() != nil {
			failed = append(failed, calls[i])
		}
	}
	w.opts.Logger.Warn("redis waiter: ending registrations failed",
		"count", len(failed), "lease", w.opts.Lease, "error", err)
	return failed
}

// arrive hands o to p when p still waits. When p has ended meanwhile, the
// outcome stays in Redis, and p's finishScript call decides its fate.
func (w *Waiter) arrive(p *pending, o waiter.Outcome) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if p.state != stateWaiting {
		return
	}
	p.outcome = o
	p.state = stateArrived
	close(p.done)
	w.delivered.Add(1)
}

// decodeOutcome parses an outcome stored by Deliver. Numbers are kept as
// json.Number, so integers above 2^53 keep every digit.
func decodeOutcome(b []byte) (waiter.Outcome, error) {
	var o waiter.Outcome
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&o); err != nil {
		return waiter.Outcome{}, fmt.Errorf("decode outcome: %w", err)
	}
	if dec.More() {
		return waiter.Outcome{}, errors.New("decode outcome: data after the JSON value")
	}
	return o, nil
}
