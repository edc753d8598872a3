package listener

import (
	"container/list"
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/tether-go/tether/clock"
)

// idempotencyStore remembers the reply sent for each idempotency key of
// one trigger endpoint, for a fixed window and up to a maximum number of
// keys. Keys come from requests and may be large, so the store keeps a
// SHA-256 digest of each key instead of the key. Its methods are safe
// for concurrent use.
//
// NOTE: memory is bounded by the key count only. A bulk endpoint whose
// replies list many runs keeps each list whole, so its store can grow
// to IdempotencyMaxKeys times the largest reply.
type idempotencyStore struct {
	window time.Duration
	max    int
	clock  clock.Clock

	mu      sync.Mutex // guards entries and order
	entries map[keyDigest]*idempotencyEntry
	order   *list.List // of *idempotencyEntry, oldest first
}

// keyDigest is the SHA-256 digest of an idempotency key.
type keyDigest = [sha256.Size]byte

// idempotencyEntry is one key. done is closed once reply is set or the
// first request gave up; reply stays nil in the second case.
type idempotencyEntry struct {
	key     keyDigest
	expires time.Time
	done    chan struct{}
	reply   *reply
	elem    *list.Element
}

func newIdempotencyStore(window time.Duration, max int, c clock.Clock) *idempotencyStore {
	return &idempotencyStore{
		window:  window,
		max:     max,
		clock:   c,
		entries: make(map[keyDigest]*idempotencyEntry),
		order:   list.New(),
	}
}

// begin claims key. It returns first=true with a new entry that the
// caller must pass to complete or abandon. Otherwise it waits for the
// first request of the key to finish and returns its reply. It returns
// a nil reply and a nil entry when ctx ends first.
func (s *idempotencyStore) begin(ctx context.Context, key string) (entry *idempotencyEntry, first bool, replay *reply) {
	digest := sha256.Sum256([]byte(key))
	for {
		s.mu.Lock()
		now := s.clock.Now()
		s.expire(now)
		existing := s.entries[digest]
		if existing == nil {
			entry = &idempotencyEntry{key: digest, expires: now.Add(s.window), done: make(chan struct{})}
			entry.elem = s.order.PushBack(entry)
			s.entries[digest] = entry
			s.evictOverflow()
			s.mu.Unlock()
			return entry, true, nil
		}
		s.mu.Unlock()

		select {
		case <-existing.done:
		case <-ctx.Done():
			return nil, false, nil
		}
		if existing.reply != nil {
			return nil, false, existing.reply
		}
		// The first request gave up without a reply to repeat, so this
		// one tries to claim the key itself.
	}
}

// complete stores the reply for e's key and wakes the requests waiting
// on it.
func (s *idempotencyStore) complete(e *idempotencyEntry, rp *reply) {
	s.mu.Lock()
	e.reply = rp
	s.mu.Unlock()
	close(e.done)
}

// abandon removes e's key, so that a retry starts afresh.
func (s *idempotencyStore) abandon(e *idempotencyEntry) {
	s.mu.Lock()
	if s.entries[e.key] == e {
		delete(s.entries, e.key)
		s.order.Remove(e.elem)
	}
	s.mu.Unlock()
	close(e.done)
}

// expire drops keys whose window has passed. Every entry has the same
// window, so the list is in expiry order.
func (s *idempotencyStore) expire(now time.Time) {
	for front := s.order.Front(); front != nil; front = s.order.Front() {
		e := front.Value.(*idempotencyEntry)
		if now.Before(e.expires) {
			return
		}
		s.order.Remove(front)
		delete(s.entries, e.key)
	}
}

// evictOverflow drops the oldest keys beyond the maximum. An evicted key
// that is still in progress finishes normally, but is not remembered.
func (s *idempotencyStore) evictOverflow() {
	for s.order.Len() > s.max {
		front := s.order.Front()
		e := front.Value.(*idempotencyEntry)
		s.order.Remove(front)
		delete(s.entries, e.key)
	}
}

func (s *idempotencyStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}
