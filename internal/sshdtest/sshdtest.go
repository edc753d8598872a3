//go:build unix

package sshdtest

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// Options adjusts the server. A nil *Options means the defaults.
type Options struct {
	// Config holds extra sshd_config lines, such as "AllowTcpForwarding
	// no". They override the defaults.
	Config []string
	// RSAHostKey adds an RSA host key, offered besides the ed25519 one.
	RSAHostKey bool
}

// Server is a running sshd. Its methods are safe for concurrent use.
type Server struct {
	// Host is "127.0.0.1".
	Host string
	// Port is the port sshd listens on. It stays the same across
	// [Server.Restart].
	Port int
	// Dir is the temporary directory with the keys and the config.
	Dir string
	// User is the user that may log in with ClientKeyFile.
	User string
	// ClientKeyFile is the path of an unencrypted ed25519 private key in
	// OpenSSH format that is authorized for User.
	ClientKeyFile string
	// HostKey is the server's ed25519 host key.
	HostKey ssh.PublicKey
	// RSAHostKey is the server's RSA host key, when [Options.RSAHostKey]
	// is set. KnownHostsFile does not list it.
	RSAHostKey ssh.PublicKey
	// KnownHostsFile lists HostKey for "[127.0.0.1]:Port".
	KnownHostsFile string

	tb         testing.TB
	binary     string
	configFile string

	mu   sync.Mutex
	cmd  *exec.Cmd     // guarded by mu; nil while stopped
	logs *bytes.Buffer // guarded by mu
	exit chan struct{} // guarded by mu; closed when cmd has exited
}

// Start starts sshd and stops it when the test ends.
func Start(tb testing.TB, opts *Options) *Server {
	tb.Helper()
	if opts == nil {
		opts = &Options{}
	}
	binary := findSSHD()
	if runtime.GOOS != "linux" {
		// Stop and Restart find sshd's children in /proc.
		binary = ""
	}
	if binary == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal("sshd not found in /usr/sbin or on PATH; install openssh-server (CI=true, so this is not skipped)")
		}
		tb.Skip("sshd not found in /usr/sbin or on PATH, or not on Linux; install openssh-server to run this test")
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil && os.Geteuid() == 0 {
		tb.Fatalf("create sshd privilege separation directory: %v", err)
	}

	current, err := user.Current()
	if err != nil {
		tb.Fatalf("look up current user: %v", err)
	}
	s := &Server{
		Host:   "127.0.0.1",
		Port:   FreePort(tb),
		Dir:    tb.TempDir(),
		User:   current.Username,
		tb:     tb,
		binary: binary,
		logs:   &bytes.Buffer{},
	}
	s.writeFiles(opts)
	s.start()
	tb.Cleanup(s.Stop)
	return s
}

func findSSHD() string {
	if _, err := os.Stat("/usr/sbin/sshd"); err == nil {
		return "/usr/sbin/sshd"
	}
	if p, err := exec.LookPath("sshd"); err == nil {
		return p
	}
	return ""
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *Server) writeFiles(opts *Options) {
	hostKeyFile := filepath.Join(s.Dir, "ssh_host_ed25519_key")
	hostSigner := writeKey(s.tb, hostKeyFile)
	s.HostKey = hostSigner.PublicKey()

	var rsaLine string
	if opts.RSAHostKey {
		rsaFile := filepath.Join(s.Dir, "ssh_host_rsa_key")
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			s.tb.Fatalf("generate RSA host key: %v", err)
		}
		block, err := ssh.MarshalPrivateKey(key, "")
		if err != nil {
			s.tb.Fatalf("marshal RSA host key: %v", err)
		}
		mustWrite(s.tb, rsaFile, pem.EncodeToMemory(block), 0o600)
		s.RSAHostKey, _ = ssh.NewPublicKey(&key.PublicKey)
		rsaLine = "HostKey " + rsaFile
	}

	s.ClientKeyFile = filepath.Join(s.Dir, "id_ed25519")
	clientSigner := writeKey(s.tb, s.ClientKeyFile)
	authorized := filepath.Join(s.Dir, "authorized_keys")
	mustWrite(s.tb, authorized, ssh.MarshalAuthorizedKey(clientSigner.PublicKey()), 0o600)

	s.KnownHostsFile = filepath.Join(s.Dir, "known_hosts")
	line := fmt.Sprintf("[%s]:%d %s", s.Host, s.Port, ssh.MarshalAuthorizedKey(s.HostKey))
	mustWrite(s.tb, s.KnownHostsFile, []byte(line), 0o600)

	lines := []string{
		fmt.Sprintf("ListenAddress %s:%d", s.Host, s.Port),
		"HostKey " + hostKeyFile,
		rsaLine,
		"PidFile " + filepath.Join(s.Dir, "sshd.pid"),
		"AuthorizedKeysFile " + authorized,
		"StrictModes no",
		"UsePAM no",
		"PermitRootLogin yes",
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"AllowTcpForwarding yes",
		"GatewayPorts clientspecified",
		"PrintMotd no",
		"LogLevel VERBOSE",
		"MaxStartups 100",
	}
	// sshd keeps the first value it reads for a keyword, so the extra
	// lines go first to override the defaults.
	lines = append(append([]string{}, opts.Config...), lines...)
	s.configFile = filepath.Join(s.Dir, "sshd_config")
	mustWrite(s.tb, s.configFile, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
}

func writeKey(tb testing.TB, path string) ssh.Signer {
	_, private, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatalf("generate key: %v", err)
	}
	block, err := ssh.MarshalPrivateKey(private, "")
	if err != nil {
		tb.Fatalf("marshal key: %v", err)
	}
	mustWrite(tb, path, pem.EncodeToMemory(block), 0o600)
	signer, err := ssh.NewSignerFromKey(private)
	if err != nil {
		tb.Fatalf("signer: %v", err)
	}
	return signer
}

func mustWrite(tb testing.TB, path string, data []byte, mode os.FileMode) {
	if err := os.WriteFile(path, data, mode); err != nil {
		tb.Fatalf("write %s: %v", path, err)
	}
}

// Addr returns "127.0.0.1:Port".
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

func (s *Server) start() {
	s.tb.Helper()
	cmd := exec.Command(s.binary, "-D", "-e", "-f", s.configFile)
	cmd.Stdout = &lockedWriter{mu: &s.mu, buf: s.logs}
	cmd.Stderr = cmd.Stdout
	cmd.SysProcAttr = processAttributes()
	if err := cmd.Start(); err != nil {
		s.tb.Fatalf("start sshd: %v", err)
	}
	exit := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exit)
	}()
	s.mu.Lock()
	s.cmd, s.exit = cmd, exit
	s.mu.Unlock()

	// Wait for the SSH banner, which sshd sends as soon as it accepts.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if banner(s.Addr()) {
			return
		}
		select {
		case <-exit:
			s.tb.Fatalf("sshd exited at start; its log:\n%s", s.Logs())
		default:
		}
		if time.Now().After(deadline) {
			s.tb.Fatalf("sshd not accepting on %s after 10s; its log:\n%s", s.Addr(), s.Logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func banner(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "SSH-")
}

type lockedWriter struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// Logs returns what sshd has written to its standard error so far.
func (s *Server) Logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

// Stop kills sshd and every process it started (the per-connection
// children call setsid, so a process group would miss them), and waits
// for the listener process to exit. Stop on a stopped server does
// nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, exit := s.cmd, s.exit
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	s.signalAll(cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-exit:
	case <-time.After(10 * time.Second):
		s.tb.Errorf("sshd pid %d did not exit after SIGKILL", cmd.Process.Pid)
	}
}

// Restart stops sshd and starts it again on the same port with the same
// keys.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Stop()
	s.start()
}

// Freeze stops (SIGSTOP) sshd and its children, so that connections
// stay open but get no reply, which is the case keepalives detect.
func (s *Server) Freeze() { s.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen server.
func (s *Server) Thaw() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if cmd != nil {
		s.signalAll(cmd.Process.Pid, sig)
	}
}

// signalAll sends sig to pid and all its descendants, children first.
func (s *Server) signalAll(pid int, sig syscall.Signal) {
	for _, child := range descendants(pid) {
		_ = syscall.Kill(child, sig)
	}
	_ = syscall.Kill(pid, sig)
}

// descendants lists the descendants of pid from /proc, deepest first.
func descendants(pid int) []int {
	parents := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The fields after the command name, which is in parentheses
		// and may contain spaces, start with the state and the ppid.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		parents[ppid] = append(parents[ppid], child)
	}
	var out []int
	var walk func(int)
	walk = func(p int) {
		for _, c := range parents[p] {
			walk(c)
			out = append(out, c)
		}
	}
	walk(pid)
	return out
}
