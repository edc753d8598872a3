package driver

import (
	"sync"
)

// TunnelState holds the endpoint and the life of a tunnel, and implements
// every [Tunnel] method except Close. Drivers embed it and call Set,
// Stop and Fail. The zero value is ready to use and has no endpoint. All
// methods are safe for concurrent use.
type TunnelState struct {
	mu       sync.Mutex
	endpoint Endpoint      // guarded by mu
	changed  chan struct{} // guarded by mu; closed and replaced by Set
	done     chan struct{} // guarded by mu; closed by Stop and Fail
	stopped  bool          // guarded by mu
	err      error         // guarded by mu
	ready    chan struct{} // guarded by mu; closed by the first Set
	hasReady bool          // guarded by mu
}

func (s *TunnelState) init() {
	if s.changed == nil {
		s.changed = make(chan struct{})
		s.done = make(chan struct{})
		s.ready = make(chan struct{})
	}
}

// Endpoint returns the last endpoint given to Set.
func (s *TunnelState) Endpoint() Endpoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.endpoint
}

// Changed returns a channel that is closed by the next Set that changes
// the endpoint, and by Stop and Fail.
func (s *TunnelState) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	return s.changed
}

// Done returns a channel that is closed by Stop and Fail.
func (s *TunnelState) Done() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	return s.done
}

// Ready returns a channel that is closed by the first Set.
func (s *TunnelState) Ready() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	return s.ready
}

// Err returns the error given to Fail, or nil.
func (s *TunnelState) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Set stores a new endpoint and wakes the watchers of Changed when it
// differs from the previous one. It reports whether the endpoint
// changed. Set after Stop or Fail does nothing.
func (s *TunnelState) Set(e Endpoint) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	if s.stopped {
		return false
	}
	if !s.hasReady {
		s.hasReady = true
		close(s.ready)
	}
	if e == s.endpoint {
		return false
	}
	s.endpoint = e
	close(s.changed)
	s.changed = make(chan struct{})
	return true
}

// Stop marks the tunnel as stopped without an error. It reports whether
// this call stopped it.
func (s *TunnelState) Stop() bool { return s.finish(nil) }

// Fail marks the tunnel as stopped by err. It reports whether this call
// stopped it.
func (s *TunnelState) Fail(err error) bool { return s.finish(err) }

func (s *TunnelState) finish(err error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	if s.stopped {
		return false
	}
	s.stopped = true
	s.err = err
	close(s.done)
	close(s.changed)
	return true
}

// Stopped reports whether Stop or Fail was called.
func (s *TunnelState) Stopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}
