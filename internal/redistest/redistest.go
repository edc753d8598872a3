package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Options configures [Start]. The zero value is ready to use.
type Options struct {
	// Binary is the program to run. Default "redis-server", looked up on
	// PATH.
	Binary string
	// Args are extra configuration arguments, such as
	// []string{"--maxmemory", "10mb"}.
	Args []string
	// StartTimeout bounds how long Start and Restart wait for the server
	// to reply PONG to PING. Default 10 seconds.
	StartTimeout time.Duration
}

// Server is a running redis-server owned by one test. Its methods are
// safe for concurrent use.
type Server struct {
	// Addr is the host:port the server listens on, on 127.0.0.1.
	Addr string
	// URL is Addr as a redis:// URL for database 0.
	URL string
	// Dir is the server's working directory, which holds its append-only
	// file and its log.
	Dir string

	binary  string
	args    []string
	timeout time.Duration

	mu  sync.Mutex // guards cmd and exited
	cmd *exec.Cmd  // nil while stopped
	// exited is closed when cmd has exited.
	exited chan struct{}
}

// Start runs redis-server on a free loopback port and stops it when the
// test ends. It skips the test when the binary is missing, or fails it
// when CI is "true". It fails the test when the server does not start.
// opts may be nil.
func Start(t testing.TB, opts *Options) *Server {
	t.Helper()
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Binary == "" {
		o.Binary = "redis-server"
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 10 * time.Second
	}
	binary, err := exec.LookPath(o.Binary)
	if err != nil {
		msg := fmt.Sprintf("redis-server not found (looked for %q): install it, for example with `apt-get install redis-server`", o.Binary)
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s; CI=true, so this test must not be skipped", msg)
			return nil
		}
		t.Skip(msg)
		return nil
	}

	s := &Server{binary: binary, args: o.Args, timeout: o.StartTimeout, Dir: t.TempDir()}
	// Another process can take the free port between the probe and the
	// server's bind, so try a few ports.
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("find a free loopback port for redis-server: %v", err)
			return nil
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		s.URL = "redis://" + s.Addr + "/0"
		err = s.start()
		if err == nil {
			break
		}
		if attempt == 3 {
			t.Fatalf("start redis-server: %v", err)
			return nil
		}
	}
	t.Cleanup(s.Stop)
	return s
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs the server on s.Addr and waits until it replies to PING.
func (s *Server) start() error {
	_, port, _ := net.SplitHostPort(s.Addr)
	args := []string{
		"--port", port,
		"--bind", "127.0.0.1",
		"--dir", s.Dir,
		"--appendonly", "yes",
		"--save", "",
		"--daemonize", "no",
		"--logfile", "redis.log",
	}
	args = append(args, s.args...)
	cmd := exec.Command(s.binary, args...)
	cmd.Dir = s.Dir
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", s.binary, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()

	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()

	if err := waitReady(s.Addr, exited, s.timeout); err != nil {
		s.Stop()
		return fmt.Errorf("%w\nredis-server log:\n%s", err, s.logTail())
	}
	return nil
}

// waitReady sends PING to addr until the reply is PONG. This also waits
// for the append-only file to load, because until then the server replies
// with a LOADING error.
func waitReady(addr string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("redis-server exited during start-up")
		default:
		}
		if lastErr = ping(addr); lastErr == nil {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("redis-server at %s did not reply PONG to PING within %s: %w", addr, timeout, lastErr)
}

func ping(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("unexpected reply to PING: %q", strings.TrimSpace(line))
	}
	return nil
}

// logTail returns the last lines of the server's log.
func (s *Server) logTail() string {
	b, err := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

// Stop shuts the server down with SIGTERM, which makes redis-server flush
// its append-only file, and waits for it to exit. It kills the server when
// it has not exited after 10 seconds. Stop on a stopped server does
// nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// StartAgain starts a stopped server again on the same address and
// directory, with the data it had when it stopped.
func (s *Server) StartAgain() error {
	s.mu.Lock()
	running := s.cmd != nil
	s.mu.Unlock()
	if running {
		return fmt.Errorf("start redis-server at %s: it is already running", s.Addr)
	}
	if err := s.start(); err != nil {
		return fmt.Errorf("start redis-server again at %s: %w", s.Addr, err)
	}
	return nil
}

// Restart stops the server and starts it again on the same address and
// directory. Data written before survive, because the server keeps an
// append-only file. Clients see their connections drop and must
// reconnect.
func (s *Server) Restart() error {
	s.Stop()
	if err := s.start(); err != nil {
		return fmt.Errorf("restart redis-server at %s: %w", s.Addr, err)
	}
	return nil
}
