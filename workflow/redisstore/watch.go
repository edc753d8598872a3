package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// ErrClosed is returned by a second Close and by RequestCancel after
// Close.
var ErrClosed = errors.New("redis run store closed")

// Event prefixes on the store's channel.
const (
	endEvent    = "end:"
	cancelEvent = "cancel:"
)

// RequestCancel stores a cancel request for the run and publishes it to
// every Store with the same key prefix. The Store whose engine executes
// the run calls that engine's cancel function. The stored request expires
// after Options.Retention. A Store that resubscribes after a lost
// connection checks the stored requests of the runs it watches, so a
// request sent while its connection was down still arrives.
func (s *Store) RequestCancel(ctx context.Context, runID string) error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return fmt.Errorf("request cancel of run %s: %w", runID, ErrClosed)
	}
	_, err := s.client.TxPipelined(ctx, func(tx goredis.Pipeliner) error {
		tx.Set(ctx, s.cancelKey(runID), "1", s.opts.Retention)
		tx.Publish(ctx, s.channel, cancelEvent+runID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("request cancel of run %s in redis at %s: %w", runID, s.addr, err)
	}
	return nil
}

// WatchCancel arranges for cancel to be called once, from the store's
// listener goroutine, when a cancel request for runID arrives, until stop
// is called. cancel must not block.
func (s *Store) WatchCancel(runID string, cancel func()) (stop func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	id := s.nextID
	if s.cancels[runID] == nil {
		s.cancels[runID] = make(map[uint64]func())
	}
	s.cancels[runID][id] = cancel
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.cancels[runID], id)
		if len(s.cancels[runID]) == 0 {
			delete(s.cancels, runID)
		}
	}
}

// WatchEnd returns a channel that is closed when a Store with the same key
// prefix saves the run with runID in an end state. It is also closed when
// this Store has resubscribed after a lost connection, so that the caller
// reads the record again. After Close, the channel is never closed. stop
// releases the watch.
func (s *Store) WatchEnd(runID string) (ended <-chan struct{}, stop func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := make(chan struct{})
	if s.closed {
		return ch, func() {}
	}
	s.nextID++
	id := s.nextID
	if s.ends[runID] == nil {
		s.ends[runID] = make(map[uint64]chan struct{})
	}
	s.ends[runID][id] = ch
	return ch, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.ends[runID][id]; !ok {
			return
		}
		delete(s.ends[runID], id)
		if len(s.ends[runID]) == 0 {
			delete(s.ends, runID)
		}
	}
}

// listen receives the store's events and wakes the watches they name.
// After go-redis has reconnected and subscribed again, it wakes every end
// watch and checks the stored cancel requests of the watched runs,
// because events published while the connection was down are lost.
func (s *Store) listen(messages <-chan any) {
	defer s.listening.Done()
	for {
		select {
		case <-s.stop:
			return
		case msg, ok := <-messages:
			if !ok {
				return
			}
			switch m := msg.(type) {
			case *goredis.Message:
				s.handle(m.Payload)
			case *goredis.Subscription:
				if m.Kind == "subscribe" {
					s.opts.Logger.Info("redis run store resubscribed after a lost connection, checking for missed events",
						"addr", s.addr, "channel", s.channel)
					s.catchUp()
				}
			}
		}
	}
}

// handle applies one event from the channel.
func (s *Store) handle(payload string) {
	if runID, ok := strings.CutPrefix(payload, endEvent); ok {
		s.wakeEnd(runID)
		return
	}
	if runID, ok := strings.CutPrefix(payload, cancelEvent); ok {
		s.fireCancel(runID)
		return
	}
	s.opts.Logger.Warn("redis run store: unknown event on the channel", "channel", s.channel, "payload_bytes", len(payload))
}

// wakeEnd closes and removes the end watches of runID.
func (s *Store) wakeEnd(runID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range s.ends[runID] {
		close(ch)
	}
	delete(s.ends, runID)
}

// fireCancel calls and removes the cancel watches of runID.
func (s *Store) fireCancel(runID string) {
	s.mu.Lock()
	watches := s.cancels[runID]
	delete(s.cancels, runID)
	s.mu.Unlock()
	for _, cancel := range watches {
		cancel()
	}
}

// catchUp wakes every end watch and fires the cancel watches whose run
// has a stored cancel request.
func (s *Store) catchUp() {
	s.mu.Lock()
	for runID, watches := range s.ends {
		for _, ch := range watches {
			close(ch)
		}
		delete(s.ends, runID)
	}
	runIDs := make([]string, 0, len(s.cancels))
	for runID := range s.cancels {
		runIDs = append(runIDs, runID)
	}
	s.mu.Unlock()

	for start := 0; start < len(runIDs); start += listPage {
		batch := runIDs[start:min(start+listPage, len(runIDs))]
		keys := make([]string, len(batch))
		for i, runID := range batch {
			keys[i] = s.cancelKey(runID)
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.PingTimeout)
		values, err := s.client.MGet(ctx, keys...).Result()
		cancel()
		if err != nil {
			// NOTE: a cancel request sent during the outage is then
			// missed until the next resubscribe.
			s.opts.Logger.Error("redis run store: check cancel requests after resubscribing failed",
				"runs", len(batch), "error", err)
			continue
		}
		for i, v := range values {
			if v != nil {
				s.fireCancel(batch[i])
			}
		}
	}
}
