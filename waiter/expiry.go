package waiter

import "time"

// deadlineItem is one id queued for expiry at a deadline (see Memory.now).
type deadlineItem struct {
	id string
	at int64
}

// deadlineQueue is a first-in-first-out queue of deadlines. Items are
// pushed in deadline order because every item of one queue gets the same
// retention, so the head is always the earliest deadline.
type deadlineQueue struct {
	items []deadlineItem
	head  int // index of the first item in items
}

func (q *deadlineQueue) len() int { return len(q.items) - q.head }

func (q *deadlineQueue) push(id string, at int64) {
	q.items = append(q.items, deadlineItem{id: id, at: at})
}

func (q *deadlineQueue) peek() (deadlineItem, bool) {
	if q.head == len(q.items) {
		return deadlineItem{}, false
	}
	return q.items[q.head], true
}

// pop removes the head. It moves the remaining items to the front once
// the consumed part is the larger half, so memory stays proportional to
// the queue's length.
func (q *deadlineQueue) pop() {
	q.items[q.head] = deadlineItem{} // release the id string
	q.head++
	if q.head == len(q.items) {
		q.items = q.items[:0]
		q.head = 0
		return
	}
	if q.head >= 1024 && 2*q.head >= len(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items = q.items[:n]
		q.head = 0
	}
}

// filter keeps the items for which keep returns true, in order.
func (q *deadlineQueue) filter(keep func(deadlineItem) bool) {
	kept := q.items[:0]
	for _, item := range q.items[q.head:] {
		if keep(item) {
			kept = append(kept, item)
		}
	}
	clear(q.items[len(kept):])
	q.items = kept
	q.head = 0
}

// expireLocked drops early outcomes and duplicate markers whose deadline
// is at or before now. Items whose slot changed since they were queued are
// skipped.
func (m *Memory) expireLocked(now int64) {
	var dropped []string // the first few ids, for the warning below
	droppedCount := 0
	defer func() {
		if droppedCount > 0 {
			// An acknowledged callback that no job ever claimed is lost
			// here, so this is a warning, summarised per pass.
			m.logger.Warn("waiter: dropped early outcomes that no wait claimed within the retention period",
				"count", droppedCount, "ids", dropped)
		}
	}()
	for {
		item, ok := m.stored.peek()
		if !ok || item.at > now {
			break
		}
		m.stored.pop()
		s, live := m.slots[item.id]
		if live && s.kind == slotStored && s.expires == item.at {
			delete(m.slots, item.id)
			m.nStored--
			m.nBytes -= s.outcome.size
			m.expired++
			droppedCount++
			if len(dropped) < 10 {
				dropped = append(dropped, item.id)
			}
		}
	}
	for {
		item, ok := m.remembered.peek()
		if !ok || item.at > now {
			break
		}
		m.remembered.pop()
		s, live := m.slots[item.id]
		if live && s.kind == slotDelivered && s.expires == item.at {
			if s.pending.holdsOutcome() {
				// Wait has not returned the outcome yet, so the
				// registration is still live.
				m.requeueLocked(item.id, s, now)
				continue
			}
			delete(m.slots, item.id)
			m.nRemember--
		}
	}
}

// armLocked makes sure the sweep timer fires no later than at, so that
// expired entries are freed even when no call arrives to expire them.
func (m *Memory) armLocked(at int64) {
	if m.sweep != nil {
		if m.sweepAt <= at {
			return
		}
		m.sweep.Stop()
	}
	m.sweepAt = at
	m.sweepGen++
	gen := m.sweepGen
	m.sweep = m.clock.AfterFunc(time.Duration(at-m.now()), func() { m.runSweep(gen) })
}

// runSweep is the timer's function: it expires due entries and arms the
// timer for the next deadline.
func (m *Memory) runSweep(gen uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || gen != m.sweepGen {
		return // a newer timer replaced this one
	}
	m.sweep = nil
	now := m.now()
	m.expireLocked(now)
	next, ok := int64(0), false
	if item, queued := m.stored.peek(); queued {
		next, ok = item.at, true
	}
	if item, queued := m.remembered.peek(); queued && (!ok || item.at < next) {
		next, ok = item.at, true
	}
	if ok {
		m.armLocked(next)
	}
}
