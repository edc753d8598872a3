package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/tether-go/tether/driver"
)

// forward is one remote forward: a tunnel to a local port, or a
// listener that hands connections to the host program.
type forward struct {
	driver.TunnelState
	session    *session
	bindHost   string
	remotePort int
	local      string        // local address to dial; empty for a listener
	accepted   chan net.Conn // for a listener: connections to hand out

	mu       sync.Mutex
	client   *ssh.Client       // guarded by mu; the connection it is bound on
	binding  *ssh.Client       // guarded by mu; the connection a bind request is under way on
	opening  chan error        // guarded by mu; receives the first bind failure; nil once bound
	lastDeny string            // guarded by mu; the last denial logged, to log each reason once
	conns    map[net.Conn]bool // guarded by mu; open forwarded connections
}

func (fw *forward) boundTo() *ssh.Client {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	return fw.client
}

// servedBy reports whether connections that arrive on client belong to
// fw: it is bound there, or its bind request is under way, in which case
// the server may forward a connection before its reply arrives.
func (fw *forward) servedBy(client *ssh.Client) bool {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	return fw.client == client || fw.binding == client
}

func (fw *forward) setBinding(client *ssh.Client) {
	fw.mu.Lock()
	fw.binding = client
	fw.mu.Unlock()
}

func (fw *forward) bound(client *ssh.Client, logger *slog.Logger) {
	fw.mu.Lock()
	fw.client = client
	fw.opening = nil
	hadDeny := fw.lastDeny != ""
	fw.lastDeny = ""
	fw.mu.Unlock()

	if hadDeny {
		logger.Info("ssh: remote forward bound after being denied", "remote_port", fw.remotePort)
	}
	// The endpoint stays the same across reconnects, so Set reports a
	// change only the first time.
	fw.Set(fw.endpoint())
}

// denied records a denial: it fails an opening Forward, and logs each
// distinct reason once for a forward that is being bound again.
func (fw *forward) denied(err error, logger *slog.Logger) {
	fw.mu.Lock()
	opening := fw.opening
	fw.opening = nil
	repeat := err.Error() == fw.lastDeny
	fw.lastDeny = err.Error()
	fw.mu.Unlock()

	if opening != nil {
		opening <- err
		return
	}
	if !repeat {
		logger.Error("ssh: the server denied a remote forward after reconnecting; retrying every retry_interval",
			"remote_port", fw.remotePort, "error", err)
	}
}

func (fw *forward) endpoint() driver.Endpoint {
	s := fw.session.settings
	host := s.publicHost
	if host == "" {
		host = s.host
		if !wildcard(fw.bindHost) && !loopback(fw.bindHost) {
			host = fw.bindHost
		}
	}
	address := net.JoinHostPort(host, strconv.Itoa(fw.remotePort))
	port := fw.remotePort
	if fw.local != "" {
		_, p, _ := net.SplitHostPort(fw.local)
		port, _ = strconv.Atoi(p)
	}
	return driver.Endpoint{PublicURL: "http://" + address, PublicAddress: address, Port: port}
}

func wildcard(host string) bool {
	return host == "" || host == "*" || host == "0.0.0.0" || host == "::"
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Forward opens a remote forward from f.RemoteHost:f.RemotePort on the
// server to f.LocalHost:f.LocalPort. It returns when the server has
// bound the port.
func (sess *session) Forward(ctx context.Context, f driver.Forward) (driver.Tunnel, error) {
	if f.LocalPort < 1 || f.LocalPort > 65535 {
		return nil, &driver.ConfigError{Field: "port", Value: strconv.Itoa(f.LocalPort),
			Reason: "expected a local port from 1 to 65535"}
	}
	fw := sess.newForward(f)
	fw.local = f.LocalAddress()
	if err := sess.open(ctx, fw); err != nil {
		return nil, err
	}
	return &tunnel{fw}, nil
}

// Listen opens a remote forward from f.RemoteHost:f.RemotePort on the
// server whose connections are returned by the listener's Accept.
// f.RemotePort is required.
func (sess *session) Listen(ctx context.Context, f driver.Forward) (driver.Listener, error) {
	if f.RemotePort < 1 || f.RemotePort > 65535 {
		return nil, &driver.ConfigError{Field: "port", Value: strconv.Itoa(f.RemotePort),
			Reason: "a listener needs a remote port from 1 to 65535"}
	}
	fw := sess.newForward(f)
	fw.accepted = make(chan net.Conn)
	if err := sess.open(ctx, fw); err != nil {
		return nil, err
	}
	return &listener{fw}, nil
}

func (sess *session) newForward(f driver.Forward) *forward {
	remote := f.RemotePort
	if remote == 0 {
		remote = f.LocalPort
	}
	return &forward{
		session:    sess,
		bindHost:   f.RemoteHost,
		remotePort: remote,
		opening:    make(chan error, 1),
		conns:      map[net.Conn]bool{},
	}
}

// open registers fw and waits until the supervisor has bound it.
func (sess *session) open(ctx context.Context, fw *forward) error {
	sess.mu.Lock()
	if sess.closed {
		sess.mu.Unlock()
		return driver.ErrClosed
	}
	if sess.failed != nil {
		sess.mu.Unlock()
		return sess.failed
	}
	sess.forwards[fw] = true
	sess.mu.Unlock()

	fw.mu.Lock()
	opening := fw.opening
	fw.mu.Unlock()

	select {
	case sess.wake <- struct{}{}:
	default:
	}

	var err error
	select {
	case <-fw.Ready():
		return nil
	case err = <-opening:
	case <-fw.Done():
		err = fw.Err()
		if err == nil {
			err = driver.ErrClosed
		}
	case <-ctx.Done():
		err = fmt.Errorf("bind remote port %d: %w", fw.remotePort, ctx.Err())
	}
	fw.close()
	return err
}

// close removes fw from the session, cancels it on the server and
// closes its connections. It reports whether this call closed it.
func (fw *forward) close() bool {
	sess := fw.session
	sess.mu.Lock()
	_, open := sess.forwards[fw]
	delete(sess.forwards, fw)
	sess.mu.Unlock()

	fw.mu.Lock()
	client := fw.client
	fw.client = nil
	fw.mu.Unlock()
	if client != nil {
		request := forwardRequest{Host: fw.bindHost, Port: uint32(fw.remotePort)}
		go func() { _, _, _ = client.SendRequest("cancel-tcpip-forward", true, ssh.Marshal(&request)) }()
	}
	stopped := fw.stop()
	return open || stopped
}

// stop marks fw stopped and closes its connections.
func (fw *forward) stop() bool {
	stopped := fw.Stop()
	fw.closeConns()
	return stopped
}

func (fw *forward) fail(err error) {
	fw.Fail(err)
	fw.closeConns()
}

func (fw *forward) closeConns() {
	fw.mu.Lock()
	conns := fw.conns
	fw.conns = map[net.Conn]bool{}
	fw.mu.Unlock()
	for c := range conns {
		_ = c.Close()
	}
}

func (fw *forward) track(c net.Conn) bool {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if fw.Stopped() {
		return false
	}
	fw.conns[c] = true
	return true
}

func (fw *forward) untrack(c net.Conn) {
	fw.mu.Lock()
	delete(fw.conns, c)
	fw.mu.Unlock()
}

type forwardedPayload struct {
	Addr       string
	Port       uint32
	OriginAddr string
	OriginPort uint32
}

// dispatch hands each forwarded connection of client to its forward.
func (sess *session) dispatch(client *ssh.Client, channels <-chan ssh.NewChannel) {
	for ch := range channels {
		var p forwardedPayload
		if err := ssh.Unmarshal(ch.ExtraData(), &p); err != nil {
			_ = ch.Reject(ssh.ConnectionFailed, "could not parse forwarded-tcpip payload")
			continue
		}
		fw := sess.match(client, p)
		if fw == nil {
			sess.logger.Warn("ssh: rejected a forwarded connection for an address with no forward",
				"address", net.JoinHostPort(p.Addr, strconv.Itoa(int(p.Port))))
			_ = ch.Reject(ssh.Prohibited, "no forward for address")
			continue
		}
		sess.handlers.Add(1)
		go func() {
			defer sess.handlers.Done()
			sess.handle(fw, ch, p)
		}()
	}
}

// match finds the forward bound on client for the address the server
// reports. The port decides; the host only breaks ties, because a
// server may report 0.0.0.0, localhost or the requested host.
func (sess *session) match(client *ssh.Client, p forwardedPayload) *forward {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	var found *forward
	for fw := range sess.forwards {
		if fw.remotePort != int(p.Port) || !fw.servedBy(client) {
			continue
		}
		if fw.bindHost == p.Addr {
			return fw
		}
		found = fw
	}
	return found
}

func (sess *session) handle(fw *forward, ch ssh.NewChannel, p forwardedPayload) {
	var local net.Conn
	if fw.local != "" {
		var err error
		local, err = net.DialTimeout("tcp", fw.local, 5*time.Second)
		if err != nil {
			sess.logger.Warn("ssh: forwarded connection could not reach the local port", "local", fw.local, "error", err)
			_ = ch.Reject(ssh.ConnectionFailed, "local port not reachable")
			return
		}
	}
	channel, requests, err := ch.Accept()
	if err != nil {
		if local != nil {
			_ = local.Close()
		}
		return
	}
	go ssh.DiscardRequests(requests)
	remote := &channelConn{Channel: channel,
		local:  &net.TCPAddr{IP: net.ParseIP(p.Addr), Port: int(p.Port)},
		remote: &net.TCPAddr{IP: net.ParseIP(p.OriginAddr), Port: int(p.OriginPort)}}

	if local == nil {
		select {
		case fw.accepted <- remote:
		case <-fw.Done():
			_ = remote.Close()
		}
		return
	}

	if !fw.track(remote) {
		_ = remote.Close()
		_ = local.Close()
		return
	}
	defer fw.untrack(remote)
	pipe(remote, local)
}

// pipe copies both ways until one side ends, then closes both.
func pipe(a net.Conn, b net.Conn) {
	done := make(chan struct{}, 2)
	copyHalf := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		done <- struct{}{}
	}
	go copyHalf(a, b)
	go copyHalf(b, a)
	<-done
	<-done
	_ = a.Close()
	_ = b.Close()
}

// channelConn is a forwarded SSH channel as a net.Conn.
type channelConn struct {
	ssh.Channel
	local, remote net.Addr
}

func (c *channelConn) LocalAddr() net.Addr  { return c.local }
func (c *channelConn) RemoteAddr() net.Addr { return c.remote }

var errDeadline = errors.New("ssh: deadlines are not supported on forwarded connections")

func (c *channelConn) SetDeadline(time.Time) error      { return errDeadline }
func (c *channelConn) SetReadDeadline(time.Time) error  { return errDeadline }
func (c *channelConn) SetWriteDeadline(time.Time) error { return errDeadline }

// tunnel is a forward to a local port.
type tunnel struct{ *forward }

var _ driver.Tunnel = (*tunnel)(nil)

func (t *tunnel) Close() error {
	if !t.close() {
		return driver.ErrClosed
	}
	return nil
}

// listener is a forward whose connections the host program accepts.
type listener struct{ *forward }

var _ driver.Listener = (*listener)(nil)

func (l *listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.accepted:
		return c, nil
	case <-l.Done():
		if err := l.Err(); err != nil {
			return nil, err
		}
		return nil, net.ErrClosed
	}
}

func (l *listener) Addr() net.Addr {
	return &net.TCPAddr{IP: net.ParseIP(l.bindHost), Port: l.remotePort}
}

func (l *listener) Close() error {
	if !l.close() {
		return driver.ErrClosed
	}
	return nil
}
