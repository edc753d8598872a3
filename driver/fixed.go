package driver

import (
	"context"
	"fmt"
	"strconv"
	"sync"
)

// NewFixedSession returns a [Session] for drivers that open no
// connection, such as "local" and "static": each Forward gets the
// endpoint that endpoint returns for it, which never changes, and Close
// ends every tunnel still open. Forward rejects a remote port or host,
// since such drivers have no remote side. name appears in errors.
//
// The session and its tunnels are safe for concurrent use.
func NewFixedSession(name string, endpoint func(Forward) (Endpoint, error)) Session {
	return &fixedSession{name: name, endpoint: endpoint}
}

type fixedSession struct {
	name     string
	endpoint func(Forward) (Endpoint, error)

	mu      sync.Mutex
	closed  bool                  // guarded by mu
	tunnels map[*fixedTunnel]bool // guarded by mu
}

func (s *fixedSession) Forward(ctx context.Context, f Forward) (Tunnel, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open %s tunnel: %w", s.name, err)
	}
	if f.RemotePort != 0 || f.RemoteHost != "" {
		return nil, &ConfigError{Field: "port", Value: strconv.Itoa(f.RemotePort),
			Reason: "the " + s.name + " driver has no remote side; give only the local port"}
	}
	ep, err := s.endpoint(f)
	if err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	t := &fixedTunnel{session: s}
	t.Set(ep)
	if s.tunnels == nil {
		s.tunnels = map[*fixedTunnel]bool{}
	}
	s.tunnels[t] = true
	return t, nil
}

func (s *fixedSession) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = true
	tunnels := s.tunnels
	s.tunnels = nil
	s.mu.Unlock()

	for t := range tunnels {
		t.Stop()
	}
	return nil
}

type fixedTunnel struct {
	TunnelState
	session *fixedSession
}

func (t *fixedTunnel) Close() error {
	if !t.Stop() {
		return ErrClosed
	}
	t.session.mu.Lock()
	delete(t.session.tunnels, t)
	t.session.mu.Unlock()
	return nil
}
