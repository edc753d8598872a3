package ssh_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
)

// fakeServer is an SSH server built on golang.org/x/crypto/ssh that
// accepts a password and serves remote forwards on loopback. It stands
// in for sshd where sshd cannot be set up without changing system
// accounts (password login), and where a test needs to control what the
// server reports (the address of a forwarded connection).
type fakeServer struct {
	Addr     string
	HostKey  ssh.PublicKey
	Password string
	// ReportAddr, when not nil, returns the address the server puts in
	// forwarded-tcpip channels for a forward requested on host.
	ReportAddr func(host string) string

	listener net.Listener
	config   *ssh.ServerConfig
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn // guarded by mu
}

func startFakeServer(t *testing.T, password string) *fakeServer {
	t.Helper()
	_, private, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(private)
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{HostKey: signer.PublicKey(), Password: password}
	s.config = &ssh.ServerConfig{
		PasswordCallback: func(c ssh.ConnMetadata, pass []byte) (*ssh.Permissions, error) {
			if string(pass) == s.Password {
				return nil, nil
			}
			return nil, fmt.Errorf("wrong password for %s", c.User())
		},
	}
	s.config.AddHostKey(signer)

	s.listener, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = s.listener.Addr().String()
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.Close)
	return s
}

func (s *fakeServer) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr)
	n, _ := strconv.Atoi(p)
	return n
}

func (s *fakeServer) Close() {
	_ = s.listener.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *fakeServer) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.listener.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, conn)
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handle(conn)
		}()
	}
}

type forwardRequest struct {
	Host string
	Port uint32
}

type forwardedPayload struct {
	Addr       string
	Port       uint32
	OriginAddr string
	OriginPort uint32
}

func (s *fakeServer) handle(conn net.Conn) {
	sconn, channels, requests, err := ssh.NewServerConn(conn, s.config)
	if err != nil {
		_ = conn.Close()
		return
	}
	go func() {
		for ch := range channels {
			_ = ch.Reject(ssh.Prohibited, "no sessions here")
		}
	}()

	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	for req := range requests {
		switch req.Type {
		case "tcpip-forward":
			var fr forwardRequest
			if err := ssh.Unmarshal(req.Payload, &fr); err != nil {
				_ = req.Reply(false, nil)
				continue
			}
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(fr.Port))))
			if err != nil {
				_ = req.Reply(false, nil)
				continue
			}
			listeners = append(listeners, l)
			_ = req.Reply(true, nil)
			go s.forward(sconn, l, fr)
		case "cancel-tcpip-forward":
			_ = req.Reply(true, nil)
		default:
			if req.WantReply {
				_ = req.Reply(false, nil)
			}
		}
	}
}

func (s *fakeServer) forward(sconn *ssh.ServerConn, l net.Listener, fr forwardRequest) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		addr := fr.Host
		if s.ReportAddr != nil {
			addr = s.ReportAddr(fr.Host)
		}
		origin := c.RemoteAddr().(*net.TCPAddr)
		payload := ssh.Marshal(&forwardedPayload{Addr: addr, Port: fr.Port,
			OriginAddr: origin.IP.String(), OriginPort: uint32(origin.Port)})
		go func() {
			ch, reqs, err := sconn.OpenChannel("forwarded-tcpip", payload)
			if err != nil {
				_ = c.Close()
				return
			}
			go ssh.DiscardRequests(reqs)
			go func() { _, _ = io.Copy(ch, c); _ = ch.CloseWrite() }()
			_, _ = io.Copy(c, ch)
			_ = c.Close()
			_ = ch.Close()
		}()
	}
}
