package redisstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tether-go/tether/internal/redisurl"
	"github.com/tether-go/tether/workflow"
)

// Page sizes of the Redis reads in List and in the index pruning.
const (
	listPage  = 256
	prunePage = 1000
	// pruneEvery is the number of saves of ended runs between two pruning
	// passes over the index.
	pruneEvery = 1024
)

// Retries of a failed Save: the first after saveRetryFirst, each later
// one after twice the delay (at most saveRetryMax), for at most
// saveRetryWindow in all or until the caller's context ends.
const (
	saveRetryFirst  = 50 * time.Millisecond
	saveRetryMax    = time.Second
	saveRetryWindow = 10 * time.Second
)

// Store is a [workflow.SharedStore] on Redis. Engines on several replicas
// that share one Store configuration see the same runs, cancel each
// other's runs, and learn when a run ends without polling. All methods
// are safe for concurrent use.
type Store struct {
	client     goredis.UniversalClient
	ownsClient bool // Open made the client, so Close closes it
	opts       Options
	addr       string // for messages
	indexKey   string // sorted set of run ids, scored by creation time
	channel    string // pub/sub channel of "end:ID" and "cancel:ID"
	pubsub     *goredis.PubSub
	stop       chan struct{} // closed by Close to stop the listener
	listening  sync.WaitGroup

	mu      sync.Mutex // guards closed, cancels, ends and nextID
	closed  bool
	cancels map[string]map[uint64]func()        // cancel watches, by run id and watch id
	ends    map[string]map[uint64]chan struct{} // end watches, by run id and watch id
	nextID  uint64

	endedSaves  atomic.Uint64 // saves of ended runs, to space the pruning passes
	pruneOffset atomic.Int64  // start position of the next pruning pass in the index
	pruning     atomic.Bool   // set while a pruning pass runs
}

var _ workflow.SharedStore = (*Store)(nil)

// New returns a Store on client. It sends PING and subscribes to the
// store's channel, both bounded by Options.PingTimeout, and fails with an
// error naming the address when Redis cannot be reached. Close does not
// close client. opts may be nil.
//
// NOTE: List reads records with MGET across keys of many runs, so a Redis
// Cluster client fails with CROSSSLOT errors. Use a single server, or a
// primary with replicas through Sentinel.
func New(client goredis.UniversalClient, opts *Options) (*Store, error) {
	return newStore(context.Background(), client, false, opts)
}

// Open connects to the Redis server at url (redis://, rediss:// or
// unix://) and returns a Store that owns the connection: Close closes it.
// It fails when url is invalid, or when Redis does not reply before ctx
// ends or Options.PingTimeout passes. opts may be nil.
func Open(ctx context.Context, url string, opts *Options) (*Store, error) {
	clientOpts, err := redisurl.Parse(url)
	if err != nil {
		return nil, err
	}
	client := goredis.NewClient(clientOpts)
	s, err := newStore(ctx, client, true, opts)
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	return s, nil
}

func newStore(ctx context.Context, client goredis.UniversalClient, owns bool, opts *Options) (*Store, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Store{
		client:     client,
		ownsClient: owns,
		opts:       o,
		addr:       clientAddr(client),
		indexKey:   o.KeyPrefix + "runs",
		channel:    o.KeyPrefix + "run-events",
		stop:       make(chan struct{}),
		cancels:    make(map[string]map[uint64]func()),
		ends:       make(map[string]map[uint64]chan struct{}),
	}

	ctx, cancel := context.WithTimeout(ctx, o.PingTimeout)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("ping redis at %s: %w; check that Redis runs there and accepts connections", s.addr, err)
	}
	// Wait for the subscription before returning, so that no event sent
	// after New returns is missed.
	s.pubsub = client.Subscribe(ctx, s.channel)
	if _, err := s.pubsub.Receive(ctx); err != nil {
		_ = s.pubsub.Close()
		return nil, fmt.Errorf("subscribe to channel %s on redis at %s: %w", s.channel, s.addr, err)
	}
	messages := s.pubsub.ChannelWithSubscriptions(goredis.WithChannelSize(4096))
	s.listening.Add(1)
	go s.listen(messages)
	o.Logger.Info("redis run store started", "addr", s.addr, "key_prefix", o.KeyPrefix)
	return s, nil
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

func (s *Store) runKey(id string) string    { return s.opts.KeyPrefix + "run:" + id }
func (s *Store) cancelKey(id string) string { return s.opts.KeyPrefix + "cancel:" + id }

// Save stores run as JSON and adds it to the index that List reads. The
// record of an ended run expires after Options.Retention, and its save
// notifies the engines that wait for it. The record, the index entry and
// the notification are written in one MULTI transaction. A failed write is
// tried again for up to 10 seconds, or until ctx ends, so that a Redis
// restart does not lose the end of a run.
func (s *Store) Save(ctx context.Context, run *workflow.Run) error {
	data, err := json.Marshal(run)
	if err != nil {
		return fmt.Errorf("save run %s: %w", run.ID, err)
	}
	ended := run.State.Done()
	write := func(tx goredis.Pipeliner) error {
		var ttl time.Duration
		if ended {
			ttl = s.opts.Retention
		}
		tx.Set(ctx, s.runKey(run.ID), data, ttl)
		tx.ZAdd(ctx, s.indexKey, goredis.Z{Score: score(run.CreatedAt), Member: run.ID})
		if ended {
			tx.Publish(ctx, s.channel, endEvent+run.ID)
		}
		return nil
	}
	// A lost save of an end state would leave the run processing for
	// ever, so failed saves are tried again while Redis restarts.
	deadline := time.Now().Add(saveRetryWindow)
	for delay := saveRetryFirst; ; delay = min(2*delay, saveRetryMax) {
		_, err = s.client.TxPipelined(ctx, write)
		if err == nil || errors.Is(err, goredis.ErrClosed) || ctx.Err() != nil || time.Now().Add(delay).After(deadline) {
			break
		}
		s.opts.Logger.Warn("redis run store: save failed, retrying", "run_id", run.ID, "retry_in", delay, "error", err)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
		}
	}
	if err != nil {
		return fmt.Errorf("save run %s to redis at %s: %w", run.ID, s.addr, err)
	}
	if ended && s.endedSaves.Add(1)%pruneEvery == 0 {
		s.pruneIndex(ctx)
	}
	return nil
}

// score orders the index by creation time, in microseconds since 1970,
// which a float64 holds exactly until the year 2255.
func score(t time.Time) float64 {
	return float64(t.UnixMicro())
}

// Get returns the run with the given id, or an error wrapping
// [workflow.ErrUnknownRun] when it is not stored or has expired.
func (s *Store) Get(ctx context.Context, id string) (*workflow.Run, error) {
	data, err := s.client.Get(ctx, s.runKey(id)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("get run %q: %w", id, workflow.ErrUnknownRun)
	}
	if err != nil {
		return nil, fmt.Errorf("get run %q from redis at %s: %w", id, s.addr, err)
	}
	return decodeRun(data)
}

// List returns the runs selected by q, newest first by creation time. It
// reads the index in pages of 256 runs and filters the records in the
// store's process, so its cost grows with the number of runs stored, not
// with the number returned. Index entries of expired records are removed.
func (s *Store) List(ctx context.Context, q workflow.Query) ([]*workflow.Run, error) {
	var runs []*workflow.Run
	var expired []any
	for start := int64(0); ; start += listPage {
		ids, err := s.client.ZRevRange(ctx, s.indexKey, start, start+listPage-1).Result()
		if err != nil {
			return nil, fmt.Errorf("list runs in redis at %s: %w", s.addr, err)
		}
		if len(ids) == 0 {
			break
		}
		keys := make([]string, len(ids))
		for i, id := range ids {
			keys[i] = s.runKey(id)
		}
		values, err := s.client.MGet(ctx, keys...).Result()
		if err != nil {
			return nil, fmt.Errorf("list runs in redis at %s: %w", s.addr, err)
		}
		for i, v := range values {
			text, ok := v.(string)
			if !ok {
				expired = append(expired, ids[i])
				continue
			}
			run, err := decodeRun([]byte(text))
			if err != nil {
				return nil, err
			}
			if q.WorkflowID != "" && run.WorkflowID != q.WorkflowID {
				continue
			}
			if q.State != "" && run.State != q.State {
				continue
			}
			runs = append(runs, run)
			if q.Limit > 0 && len(runs) == q.Limit {
				s.removeFromIndex(ctx, expired)
				return runs, nil
			}
		}
		if len(ids) < listPage {
			break
		}
	}
	s.removeFromIndex(ctx, expired)
	return runs, nil
}

// removeFromIndex removes the ids of expired records from the index. A
// record never comes back once expired, because Save writes the record
// and the index entry in one transaction and the engine saves nothing
// after a run's end state, so the removal cannot hide a live run.
func (s *Store) removeFromIndex(ctx context.Context, ids []any) {
	if len(ids) == 0 {
		return
	}
	if err := s.client.ZRem(ctx, s.indexKey, ids...).Err(); err != nil {
		s.opts.Logger.Warn("redis run store: remove expired runs from the index failed", "count", len(ids), "error", err)
	}
}

// pruneIndex removes the entries of expired records from one page of the
// index, so that the index stays bounded when List is not called. Each
// pass starts where the previous one ended. Passes do not overlap.
func (s *Store) pruneIndex(ctx context.Context) {
	if !s.pruning.CompareAndSwap(false, true) {
		return
	}
	defer s.pruning.Store(false)

	start := s.pruneOffset.Load()
	ids, err := s.client.ZRange(ctx, s.indexKey, start, start+prunePage-1).Result()
	if err != nil {
		s.opts.Logger.Warn("redis run store: read the index for pruning failed", "error", err)
		return
	}
	if len(ids) < prunePage {
		s.pruneOffset.Store(0)
	} else {
		s.pruneOffset.Store(start + prunePage)
	}
	cmds, err := s.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for _, id := range ids {
			p.Exists(ctx, s.runKey(id))
		}
		return nil
	})
	if err != nil {
		s.opts.Logger.Warn("redis run store: check records for pruning failed", "error", err)
		return
	}
	var expired []any
	for i, cmd := range cmds {
		if cmd.(*goredis.IntCmd).Val() == 0 {
			expired = append(expired, ids[i])
		}
	}
	s.removeFromIndex(ctx, expired)
}

func decodeRun(data []byte) (*workflow.Run, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var run workflow.Run
	if err := dec.Decode(&run); err != nil {
		return nil, fmt.Errorf("decode run record: %w", err)
	}
	if dec.More() {
		return nil, errors.New("decode run record: unexpected data after the JSON value")
	}
	return &run, nil
}

// Close stops the store's subscription and closes the client when Open
// made it. Watches in place are left open: waits on them fall back to
// reading the record again. A second Close returns [ErrClosed].
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("close redis run store: %w", ErrClosed)
	}
	s.closed = true
	s.mu.Unlock()

	close(s.stop)
	err := s.pubsub.Close()
	s.listening.Wait()
	if s.ownsClient {
		err = errors.Join(err, s.client.Close())
	}
	s.opts.Logger.Info("redis run store stopped", "addr", s.addr)
	if err != nil {
		return fmt.Errorf("close redis run store: %w", err)
	}
	return nil
}
