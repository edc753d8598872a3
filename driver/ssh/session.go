package ssh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/tether-go/tether/driver"
)

// session is one SSH connection, replaced by a new one after an outage,
// and the forwards it carries.
//
// A supervisor goroutine owns the connection: it watches it, reconnects,
// and is the only one that sends tcpip-forward requests (in bind), so
// that a forward is never requested twice on one connection.
type session struct {
	driver   *Driver
	settings settings
	auth     []ssh.AuthMethod
	logger   *slog.Logger

	mu       sync.Mutex
	client   *ssh.Client       // guarded by mu; nil while reconnecting
	forwards map[*forward]bool // guarded by mu; open forwards
	closed   bool              // guarded by mu
	failed   error             // guarded by mu; why reconnecting stopped for good

	wake     chan struct{} // signals the supervisor to bind new forwards
	done     chan struct{} // closed by Close
	ctx      context.Context
	cancel   context.CancelFunc // cancels ctx; called by Close
	wg       sync.WaitGroup     // the supervisor
	handlers sync.WaitGroup     // forwarded connections
}

var (
	_ driver.Session   = (*session)(nil)
	_ driver.Listening = (*session)(nil)
)

func newSession(d *Driver, s settings, auth []ssh.AuthMethod, logger *slog.Logger) *session {
	ctx, cancel := context.WithCancel(context.Background())
	return &session{
		ctx:      ctx,
		cancel:   cancel,
		driver:   d,
		settings: s,
		auth:     auth,
		logger:   logger,
		forwards: map[*forward]bool{},
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
}

func (sess *session) start(client *ssh.Client) {
	sess.wg.Add(1)
	go sess.supervise(client)
}

// supervise runs one connection after another until Close, or until
// reconnecting fails for good.
func (sess *session) supervise(client *ssh.Client) {
	defer sess.wg.Done()
	for {
		sess.serve(client)

		select {
		case <-sess.done:
			return
		default:
		}
		next, err := sess.reconnect()
		if err != nil {
			sess.failAll(err)
			return
		}
		client = next
	}
}

// serve runs one connection until it ends or the session closes.
func (sess *session) serve(client *ssh.Client) {
	sess.mu.Lock()
	sess.client = client
	sess.mu.Unlock()

	// Forwarded connections arrive as "forwarded-tcpip" channels.
	// Handling them here, instead of through Client.Listen, lets a
	// connection addressed to 0.0.0.0, localhost or the requested host
	// reach its forward: servers differ in which one they report.
	channels := client.HandleChannelOpen("forwarded-tcpip")

	lost := make(chan error, 1)
	go func() { lost <- client.Wait() }()

	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(3)
	go func() { defer wg.Done(); sess.dispatch(client, channels) }()
	go func() { defer wg.Done(); sess.keepalive(client, stop) }()
	go func() { defer wg.Done(); sess.bindLoop(client, stop) }()

	select {
	case <-sess.done:
	case err := <-lost:
		sess.logger.Warn("ssh: connection lost; reconnecting", "error", err)
	}
	close(stop)
	_ = client.Close()

	sess.mu.Lock()
	sess.client = nil
	sess.mu.Unlock()
	wg.Wait()
}

// keepalive sends keepalive@openssh.com every keepalive_interval and
// closes the connection when no reply has come for keepalive_interval ×
// keepalive_count. Because the deadline counts from the last reply,
// which came before the server stopped replying, a dead connection is
// noticed within keepalive_interval × keepalive_count of its failure.
func (sess *session) keepalive(client *ssh.Client, stop <-chan struct{}) {
	interval := sess.settings.keepaliveInterval
	if interval <= 0 {
		return
	}
	limit := interval * time.Duration(sess.settings.keepaliveCount)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()

	replies := make(chan error, 1)
	pending := false
	for {
		select {
		case <-stop:
			return
		case err := <-replies:
			pending = false
			if err != nil {
				return // the connection is closed, and serve notices
			}
			deadline.Reset(limit)
		case <-ticker.C:
			if pending {
				continue
			}
			pending = true
			go func() {
				// A reply, even a refusal, proves the server is alive.
				_, _, err := client.SendRequest("keepalive@openssh.com", true, nil)
				replies <- err
			}()
		case <-deadline.C:
			sess.logger.Warn("ssh: server stopped answering keepalives; closing the connection",
				"silent_for", limit, "interval", interval, "count", sess.settings.keepaliveCount)
			_ = client.Close()
			return
		}
	}
}

// reconnect dials again with exponential backoff, until it succeeds,
// the error is permanent, max_retry_count is reached or Close.
func (sess *session) reconnect() (*ssh.Client, error) {
	s := sess.settings
	delay := s.retryInterval
	for attempt := 1; ; attempt++ {
		timer := time.NewTimer(delay)
		select {
		case <-sess.done:
			timer.Stop()
			return nil, driver.ErrClosed
		case <-timer.C:
		}

		client, err := sess.connect(sess.ctx)
		if err == nil {
			sess.logger.Info("ssh: reconnected", "attempt", attempt)
			return client, nil
		}
		if permanent(err) {
			sess.logger.Error("ssh: reconnect failed; not retrying", "attempt", attempt, "error", err)
			return nil, fmt.Errorf("reconnect to ssh server %s: %w", s.address(), err)
		}
		if s.maxRetryCount > 0 && attempt >= s.maxRetryCount {
			sess.logger.Error("ssh: reconnect failed; giving up", "attempt", attempt, "error", err)
			return nil, fmt.Errorf("reconnect to ssh server %s: gave up after %d attempts (max_retry_count): %w",
				s.address(), attempt, err)
		}
		delay = min(delay*2, s.maxRetryInterval)
		sess.logger.Warn("ssh: reconnect failed; retrying", "attempt", attempt, "retry_in", delay, "error", err)
	}
}

func (sess *session) failAll(err error) {
	sess.mu.Lock()
	sess.failed = err
	forwards := make([]*forward, 0, len(sess.forwards))
	for fw := range sess.forwards {
		forwards = append(forwards, fw)
	}
	sess.mu.Unlock()
	for _, fw := range forwards {
		fw.fail(err)
	}
}

// bindLoop requests every forward that is not bound on this connection:
// at once, whenever Forward adds one, and every retry_interval for
// forwards the server denied.
func (sess *session) bindLoop(client *ssh.Client, stop <-chan struct{}) {
	ticker := time.NewTicker(sess.settings.retryInterval)
	defer ticker.Stop()
	for {
		sess.bindAll(client)
		select {
		case <-stop:
			return
		case <-sess.wake:
		case <-ticker.C:
		}
	}
}

func (sess *session) bindAll(client *ssh.Client) {
	sess.mu.Lock()
	var unbound []*forward
	for fw := range sess.forwards {
		if fw.boundTo() != client {
			unbound = append(unbound, fw)
		}
	}
	sess.mu.Unlock()

	for _, fw := range unbound {
		err := sess.bind(client, fw)
		if err == nil {
			continue
		}
		if !errors.Is(err, ErrForwardDenied) {
			return // the connection is failing; serve will notice
		}
		fw.denied(err, sess.logger)
	}
}

type forwardRequest struct {
	Host string
	Port uint32
}

// bind sends tcpip-forward for fw on client.
func (sess *session) bind(client *ssh.Client, fw *forward) error {
	request := forwardRequest{Host: fw.bindHost, Port: uint32(fw.remotePort)}
	fw.setBinding(client)
	defer fw.setBinding(nil) // after bound has set fw.client
	ok, _, err := client.SendRequest("tcpip-forward", true, ssh.Marshal(&request))
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: the server rejected binding %s: %s", ErrForwardDenied,
			net.JoinHostPort(displayHost(fw.bindHost), strconv.Itoa(fw.remotePort)), sess.diagnose(client, fw))
	}

	sess.mu.Lock()
	open := sess.forwards[fw]
	sess.mu.Unlock()
	if !open {
		// Closed while the request was under way.
		_, _, _ = client.SendRequest("cancel-tcpip-forward", true, ssh.Marshal(&request))
		return nil
	}
	fw.bound(client, sess.logger)
	return nil
}

func displayHost(host string) string {
	if host == "" {
		return "*"
	}
	return host
}

// diagnose finds the likely reason for a denied forward, because the
// SSH reply carries none. It connects to the port through the server: a
// listener there means the port is taken, and a refusal to open the
// channel names the server's forwarding policy.
func (sess *session) diagnose(client *ssh.Client, fw *forward) string {
	host := fw.bindHost
	if host == "" || host == "0.0.0.0" || host == "::" || host == "*" {
		host = "127.0.0.1"
	}
	target := net.JoinHostPort(host, strconv.Itoa(fw.remotePort))

	type result struct {
		conn net.Conn
		err  error
	}
	results := make(chan result, 1)
	go func() {
		conn, err := client.Dial("tcp", target)
		results <- result{conn, err}
	}()
	var r result
	select {
	case r = <-results:
	case <-time.After(5 * time.Second):
		return "no reason given by the server, and probing the port timed out; " + denyHint
	}
	if r.err == nil {
		_ = r.conn.Close()
		return fmt.Sprintf("port %d is already in use on the server; choose another remote port", fw.remotePort)
	}
	var open *ssh.OpenChannelError
	if errors.As(r.err, &open) && open.Reason == ssh.Prohibited {
		return fmt.Sprintf("the server prohibits TCP forwarding (%q); set AllowTcpForwarding yes in its "+
			"sshd_config and check permitlisten/no-port-forwarding in authorized_keys", open.Message)
	}
	if fw.remotePort < 1024 {
		return fmt.Sprintf("port %d is privileged, and only root may bind it on the server; use a port from 1024 up",
			fw.remotePort)
	}
	return "no reason given by the server; " + denyHint
}

const denyHint = "check AllowTcpForwarding, permitlisten and GatewayPorts in the server's sshd_config " +
	"and its log, and whether the port is free"

func (sess *session) Close() error {
	sess.mu.Lock()
	if sess.closed {
		sess.mu.Unlock()
		return driver.ErrClosed
	}
	sess.closed = true
	forwards := make([]*forward, 0, len(sess.forwards))
	for fw := range sess.forwards {
		forwards = append(forwards, fw)
	}
	sess.forwards = map[*forward]bool{}
	sess.mu.Unlock()

	close(sess.done)
	sess.cancel()
	sess.wg.Wait()
	for _, fw := range forwards {
		fw.stop()
	}
	sess.handlers.Wait()
	return nil
}
