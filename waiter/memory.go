package waiter

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tether-go/tether/clock"
)

// Defaults of [MemoryOptions].
const (
	DefaultRetention     = 10 * time.Minute
	DefaultMaxStored     = 100_000
	DefaultMaxRemembered = 1_000_000
	// DefaultMaxStoredBytes bounds the estimated size of the early
	// outcomes kept at once.
	DefaultMaxStoredBytes = 64 << 20
)

// MemoryOptions configures [NewMemory]. A zero or negative field takes its
// default.
type MemoryOptions struct {
	// Retention is how long an outcome that arrived before any Expect is
	// kept. Default [DefaultRetention].
	Retention time.Duration
	// MaxStored is the maximum number of such early outcomes kept at once.
	// Over it, Deliver returns [ErrFull]. Default [DefaultMaxStored].
	MaxStored int
	// MaxStoredBytes is the maximum size of the early outcomes kept at
	// once, each estimated as the length of its id plus its JSON
	// encoding. An outcome that would take the total over it is rejected
	// with [ErrFull]. An outcome delivered to a waiting registration is
	// not measured. Default [DefaultMaxStoredBytes].
	MaxStoredBytes int64
	// DuplicateRetention is how long an id stays marked as delivered, so
	// that a second outcome for it is reported as [Duplicate]. Default
	// Retention.
	DuplicateRetention time.Duration
	// MaxRemembered is the maximum number of ids marked as delivered. Over
	// it, the oldest marker is forgotten early, and a late duplicate of
	// that id would be stored as a new outcome. A marker whose outcome Wait
	// has not returned yet is kept, because its registration is still
	// live. A marker costs about 100
	// bytes plus the id (measured by BenchmarkMemoryRememberedBytes).
	// Default [DefaultMaxRemembered].
	MaxRemembered int
	// Clock is the time source for retention and the expiry timer.
	// Default [clock.Real].
	Clock clock.Clock
	// Logger receives debug records about stored, duplicate and expired
	// outcomes and a warning when the store is full. Default: discard.
	Logger *slog.Logger
}

// Stats is a snapshot of a waiter's state and counters, for metrics.
type Stats struct {
	// Pending is the number of registrations waiting for their outcome.
	Pending int
	// Stored is the number of early outcomes kept for a future Expect.
	Stored int
	// StoredBytes is the estimated size of those outcomes, as counted
	// against MaxStoredBytes.
	StoredBytes int64
	// Remembered is the number of ids marked as delivered.
	Remembered int
	// Delivered counts outcomes handed to a registration since start.
	Delivered uint64
	// Duplicates counts outcomes dropped as duplicates since start.
	Duplicates uint64
	// Expired counts early outcomes dropped at the end of Retention.
	Expired uint64
}

// Memory is the in-process [Waiter]. It is the default, and it serves a
// single process: use a shared backend such as waiter/redis when several
// replicas receive callbacks for the same waits.
//
// Expiry of early outcomes and of duplicate markers uses two
// first-in-first-out queues, ordered by deadline because each kind has one
// fixed retention, and a single timer armed for the earliest deadline.
// There is no goroutine per id.
//
// All methods are safe for concurrent use.
type Memory struct {
	clock         clock.Clock
	logger        *slog.Logger
	retention     time.Duration
	dupRetention  time.Duration
	maxStored     int
	maxBytes      int64
	maxRemembered int
	start         time.Time // origin of the int64 deadlines, read through clock

	mu         sync.Mutex // guards every field below and the state of each pending
	closed     bool
	slots      map[string]slot
	stored     deadlineQueue // ids with early outcomes, oldest first
	remembered deadlineQueue // ids marked as delivered, oldest first
	nPending   int
	nStored    int
	nBytes     int64 // estimated size of the stored outcomes
	nRemember  int
	sweep      clock.Timer // nil when no expiry is scheduled
	sweepAt    int64
	sweepGen   uint64 // identifies the armed timer, so a replaced one does nothing
	delivered  uint64
	duplicates uint64
	expired    uint64
}

var _ Waiter = (*Memory)(nil)

// slotKind is the kind of entry that the waiter keeps for one id.
type slotKind uint8

const (
	slotPending   slotKind = iota + 1 // a live registration
	slotStored                        // an early outcome
	slotDelivered                     // a duplicate marker
)

type slot struct {
	kind    slotKind
	pending *pending       // for slotPending, and slotDelivered when delivered to a registration
	outcome *storedOutcome // for slotStored
	expires int64          // for slotStored and slotDelivered, see Memory.now
}

// storedOutcome is an early outcome with the size counted for it.
type storedOutcome struct {
	outcome Outcome
	size    int64
}

// NewMemory returns an in-memory waiter. opts may be nil.
func NewMemory(opts *MemoryOptions) *Memory {
	var o MemoryOptions
	if opts != nil {
		o = *opts
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.MaxStored <= 0 {
		o.MaxStored = DefaultMaxStored
	}
	if o.MaxStoredBytes <= 0 {
		o.MaxStoredBytes = DefaultMaxStoredBytes
	}
	if o.DuplicateRetention <= 0 {
		o.DuplicateRetention = o.Retention
	}
	if o.MaxRemembered <= 0 {
		o.MaxRemembered = DefaultMaxRemembered
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	c := clock.Or(o.Clock)
	return &Memory{
		clock:         c,
		logger:        o.Logger,
		retention:     o.Retention,
		dupRetention:  o.DuplicateRetention,
		maxStored:     o.MaxStored,
		maxBytes:      o.MaxStoredBytes,
		maxRemembered: o.MaxRemembered,
		start:         c.Now(),
		slots:         make(map[string]slot),
	}
}

// now returns the clock's time as nanoseconds since the waiter started.
// Time.Sub uses the monotonic reading of the real clock, so the expiry
// queues stay ordered when the wall clock jumps.
func (m *Memory) now() int64 {
	return int64(m.clock.Now().Sub(m.start))
}

// Expect registers interest in id. When an early outcome for id is stored,
// the returned Pending holds it and Wait returns at once. Expect fails
// with [ErrInvalidID] for an empty id, [ErrAlreadyWaiting] when id has a
// live registration, and [ErrClosed] after Close. It is safe for
// concurrent use.
func (m *Memory) Expect(ctx context.Context, id string) (Pending, error) {
	if id == "" {
		return nil, fmt.Errorf("expect id: %w", ErrInvalidID)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("expect id %q: %w", id, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	now := m.now()
	m.expireLocked(now)

	s, ok := m.slots[id]
	if ok && (s.kind == slotPending ||
		s.kind == slotDelivered && s.pending != nil && s.pending.state.Load() == stateArrived) {
		return nil, fmt.Errorf("expect id %q: %w", id, ErrAlreadyWaiting)
	}

	p := &pending{m: m, id: id, done: make(chan struct{}), registered: now}
	if ok && s.kind == slotStored {
		m.nStored--
		m.nBytes -= s.outcome.size
		m.delivered++
		p.arrive(s.outcome.outcome)
		m.rememberLocked(id, p, now)
		return p, nil
	}
	if ok && s.kind == slotDelivered {
		// A retried job reuses its id: forget the earlier delivery.
		m.nRemember--
	}
	m.slots[id] = slot{kind: slotPending, pending: p}
	m.nPending++
	return p, nil
}

// Deliver hands o to the live registration for id and returns [Delivered],
// stores it for Retention when id has none and returns [Stored], or drops
// it and returns [Duplicate] when an outcome for id was already delivered
// or stored. It fails with [ErrFull] when MaxStored early outcomes are
// kept or the outcome would take their size over MaxStoredBytes,
// [ErrInvalidID] for an empty id, and [ErrClosed] after Close. It does
// not block, and it is safe for concurrent use.
func (m *Memory) Deliver(ctx context.Context, id string, o Outcome) (Delivery, error) {
	if id == "" {
		return 0, fmt.Errorf("deliver outcome: %w", ErrInvalidID)
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("deliver outcome for id %q: %w", id, err)
	}
	// The size is measured only when the outcome has to be stored, and
	// outside the lock, since encoding a large outcome takes a while.
	// The state may change meanwhile, so the second pass decides again.
	size := int64(-1)
	for {
		d, measure, err := m.deliver(id, o, size)
		if !measure {
			return d, err
		}
		size = outcomeSize(id, o)
	}
}

// deliver is one pass of Deliver. It reports measure=true, and does
// nothing, when o has to be stored and size is not known yet (negative).
func (m *Memory) deliver(id string, o Outcome, size int64) (d Delivery, measure bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, false, ErrClosed
	}
	now := m.now()
	m.expireLocked(now)

	s, ok := m.slots[id]
	if ok {
		if s.kind == slotPending {
			m.delivered++
			m.nPending--
			s.pending.arrive(o)
			m.rememberLocked(id, s.pending, now)
			return Delivered, false, nil
		}
		m.duplicates++
		m.logger.Debug("waiter: dropped duplicate outcome", "id", id)
		return Duplicate, false, nil
	}
	if m.nStored >= m.maxStored {
		m.logger.Warn("waiter: rejected early outcome, store is full",
			"id", id, "max_stored", m.maxStored)
		return 0, false, fmt.Errorf("store outcome for id %q: %d early outcomes are kept, raise MaxStored or shorten Retention: %w",
			id, m.maxStored, ErrFull)
	}
	if size < 0 {
		return 0, true, nil
	}
	if size > m.maxBytes-m.nBytes {
		m.logger.Warn("waiter: rejected early outcome, store is full",
			"id", id, "size", size, "stored_bytes", m.nBytes, "max_stored_bytes", m.maxBytes)
		return 0, false, fmt.Errorf("store outcome for id %q: its %d bytes would take the early outcomes over %d bytes, raise MaxStoredBytes or shorten Retention: %w",
			id, size, m.maxBytes, ErrFull)
	}
	expires := now + int64(m.retention)
	m.slots[id] = slot{kind: slotStored, outcome: &storedOutcome{outcome: o, size: size}, expires: expires}
	m.nStored++
	m.nBytes += size
	m.stored.push(id, expires)
	m.compactLocked(&m.stored, slotStored, m.nStored)
	m.armLocked(expires)
	m.logger.Debug("waiter: stored early outcome", "id", id, "size", size)
	return Stored, false, nil
}

// outcomeSize estimates the memory that storing o under id keeps: the
// length of id and of o's JSON encoding. An outcome that does not
// encode, which the [Outcome] contract rules out, counts as its id.
func outcomeSize(id string, o Outcome) int64 {
	var n byteCounter
	enc := json.NewEncoder(&n)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(o)
	return int64(len(id)) + int64(n)
}

// byteCounter is an io.Writer that counts the bytes written to it.
type byteCounter int64

func (c *byteCounter) Write(p []byte) (int, error) {
	*c += byteCounter(len(p))
	return len(p), nil
}

// Stats returns the current counts. It is safe for concurrent use.
func (m *Memory) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.expireLocked(m.now())
	}
	return Stats{
		Pending:     m.nPending,
		Stored:      m.nStored,
		StoredBytes: m.nBytes,
		Remembered:  m.nRemember,
		Delivered:   m.delivered,
		Duplicates:  m.duplicates,
		Expired:     m.expired,
	}
}

// Close ends every waiting Wait with [ErrClosed] and drops stored outcomes
// and duplicate markers. A Wait whose outcome had already arrived still
// returns it. A second Close returns [ErrClosed]. It is safe for
// concurrent use.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.closed = true
	for _, s := range m.slots {
		if s.kind == slotPending {
			s.pending.end(fmt.Errorf("wait for id %q: %w", s.pending.id, ErrClosed))
		}
	}
	m.slots = nil
	m.stored = deadlineQueue{}
	m.remembered = deadlineQueue{}
	m.nPending, m.nStored, m.nRemember = 0, 0, 0
	m.nBytes = 0
	if m.sweep != nil {
		m.sweep.Stop()
		m.sweep = nil
	}
	return nil
}

// withdrawLocked removes the registration p, which never received an
// outcome.
func (m *Memory) withdrawLocked(p *pending) {
	s, ok := m.slots[p.id]
	if !ok || s.kind != slotPending || s.pending != p {
		return // closed, or already withdrawn
	}
	delete(m.slots, p.id)
	m.nPending--
}

// rememberLocked marks id as delivered to p until the end of
// DuplicateRetention. Until Wait returns the outcome or Cancel drops it,
// the marker also keeps id registered to p, so that a second Expect fails.
func (m *Memory) rememberLocked(id string, p *pending, now int64) {
	expires := now + int64(m.dupRetention)
	m.slots[id] = slot{kind: slotDelivered, pending: p, expires: expires}
	m.nRemember++
	m.remembered.push(id, expires)
	for m.nRemember > m.maxRemembered {
		if !m.forgetOldestLocked(now) {
			break
		}
	}
	m.compactLocked(&m.remembered, slotDelivered, m.nRemember)
	m.armLocked(expires)
}

// forgetOldestLocked drops the oldest live duplicate marker and reports
// whether it found one to drop. A marker whose registration holds an
// outcome that Wait has not returned yet is still a live registration, so
// it is queued again instead, and the count may stay over the maximum by
// the number of such registrations.
func (m *Memory) forgetOldestLocked(now int64) bool {
	for n := m.remembered.len(); n > 0; n-- {
		item, _ := m.remembered.peek()
		m.remembered.pop()
		s, live := m.slots[item.id]
		if !live || s.kind != slotDelivered || s.expires != item.at {
			continue
		}
		if s.pending.holdsOutcome() {
			m.requeueLocked(item.id, s, now)
			continue
		}
		delete(m.slots, item.id)
		m.nRemember--
		return true
	}
	return false
}

// requeueLocked keeps the duplicate marker s of id for another
// DuplicateRetention. The new deadline is the latest in the queue, so the
// queue stays in deadline order.
func (m *Memory) requeueLocked(id string, s slot, now int64) {
	s.expires = now + int64(m.dupRetention)
	m.slots[id] = s
	m.remembered.push(id, s.expires)
	m.armLocked(s.expires)
}

// compactLocked drops stale items from q, that is ids whose slot changed
// since they were queued, once they outnumber the live ones. Stale items
// would otherwise stay until their deadline, which lets the queue grow
// with every early outcome that an Expect consumed.
func (m *Memory) compactLocked(q *deadlineQueue, kind slotKind, live int) {
	if q.len() <= 2*live+1024 {
		return
	}
	q.filter(func(item deadlineItem) bool {
		s, ok := m.slots[item.id]
		return ok && s.kind == kind && s.expires == item.at
	})
}
