package cloudflare

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tether-go/tether/driver"
)

// tunnel is one cloudflared process, restarted when it dies.
type tunnel struct {
	driver.TunnelState
	session *session
	forward driver.Forward
	logger  *slog.Logger

	stopping chan struct{} // closed by Close
	wg       sync.WaitGroup

	mu     sync.Mutex
	proc   *process // guarded by mu; the running process
	closed bool     // guarded by mu
}

var _ driver.Tunnel = (*tunnel)(nil)

func newTunnel(s *session, f driver.Forward) *tunnel {
	return &tunnel{
		session:  s,
		forward:  f,
		logger:   s.logger.With("port", f.LocalPort),
		stopping: make(chan struct{}),
	}
}

// process is one run of cloudflared.
type process struct {
	cmd     *exec.Cmd
	dir     string
	metrics string // host:port of its metrics server
	tail    *tailLines
	found   chan string   // receives the public URL once
	exited  chan struct{} // closed after Wait and after both pipes end
	err     error         // set before exited is closed
}

// start runs the first process and waits for its URL.
func (t *tunnel) start(ctx context.Context) error {
	p, url, err := t.launch(ctx)
	if err != nil {
		return err
	}
	t.Set(t.endpoint(url))
	t.wg.Add(1)
	go t.supervise(p)
	return nil
}

func (t *tunnel) endpoint(url string) driver.Endpoint {
	host := strings.TrimPrefix(url, "https://")
	return driver.Endpoint{PublicURL: url, PublicAddress: net.JoinHostPort(host, "443"), Port: t.forward.LocalPort}
}

// launch starts cloudflared and waits for its public URL, within ctx
// and url_timeout. On failure the process is stopped.
func (t *tunnel) launch(ctx context.Context) (*process, string, error) {
	p, err := t.spawn()
	if err != nil {
		return nil, "", err
	}
	timeout := t.session.settings.urlTimeout
	timer := time.NewTimer(timeout)
	defer timer.Stop()

	var failure error
	select {
	case url := <-p.found:
		return p, url, nil
	case <-p.exited:
		failure = fmt.Errorf("%w: cloudflared exited (%v) before reporting one; its last log lines:\n%s",
			ErrNoURL, p.err, p.tail)
	case <-timer.C:
		failure = fmt.Errorf("%w after %s (url_timeout); its last log lines:\n%s", ErrNoURL, timeout, p.tail)
	case <-ctx.Done():
		failure = fmt.Errorf("wait for cloudflared's public URL: %w", ctx.Err())
	case <-t.stopping:
		failure = driver.ErrClosed
	}
	t.kill(p)
	return nil, "", failure
}

// spawn starts one cloudflared process and its readers.
func (t *tunnel) spawn() (*process, error) {
	s := t.session.settings
	dir, err := os.MkdirTemp("", "tether-cloudflared-")
	if err != nil {
		return nil, fmt.Errorf("create cloudflared directory: %w", err)
	}
	// An empty configuration keeps ~/.cloudflared/config.yml out.
	config := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(config, []byte("{}\n"), 0o600); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("write cloudflared configuration: %w", err)
	}
	metrics, err := freeLoopbackAddress()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}

	args := []string{"tunnel", "--no-autoupdate", "--config", config, "--metrics", metrics,
		"--url", "http://" + t.forward.LocalAddress()}
	if s.named() {
		// --credentials-file is a flag of the run subcommand, so it
		// follows "run" (cloudflared's buildRunCommand).
		args = append(args, "run")
		if s.credentialsFile != "" {
			args = append(args, "--credentials-file", s.credentialsFile)
		}
		if s.tunnel != "" {
			args = append(args, s.tunnel)
		}
	}

	cmd := exec.Command(s.program, args...)
	cmd.Dir = dir
	cmd.Env = environment(s.token)
	setProcessGroup(cmd)

	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("create pipe: %w", err)
	}
	stderrR, stderrW, err := os.Pipe()
	if err != nil {
		_ = stdoutR.Close()
		_ = stdoutW.Close()
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("create pipe: %w", err)
	}
	cmd.Stdout, cmd.Stderr = stdoutW, stderrW

	err = cmd.Start()
	_ = stdoutW.Close()
	_ = stderrW.Close()
	if err != nil {
		_ = stdoutR.Close()
		_ = stderrR.Close()
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start cloudflared %s: %w", s.program, err)
	}
	t.logger.Debug("cloudflare: started cloudflared", "pid", cmd.Process.Pid, "metrics", metrics)

	p := &process{cmd: cmd, dir: dir, metrics: metrics, tail: &tailLines{size: 20},
		found: make(chan string, 1), exited: make(chan struct{})}

	var readers sync.WaitGroup
	readers.Add(2)
	for _, r := range []io.ReadCloser{stdoutR, stderrR} {
		go func() {
			defer readers.Done()
			defer r.Close()
			readLines(r, func(line string) { t.handleLine(p, line) })
		}()
	}
	go t.pollMetrics(p)
	go func() {
		p.err = cmd.Wait()
		readers.Wait()
		close(p.exited)
	}()
	return p, nil
}

func (t *tunnel) handleLine(p *process, line string) {
	if token := t.session.settings.token; token != "" {
		line = strings.ReplaceAll(line, token, "[REDACTED]")
	}
	p.tail.add(line)
	t.logger.Debug("cloudflared: " + line)

	if t.session.settings.named() {
		if registeredLine(line) {
			p.publish("https://" + t.session.settings.hostname)
		}
		return
	}
	if url := urlFromLine(line); url != "" {
		p.publish(url)
	}
}

func (p *process) publish(url string) {
	select {
	case p.found <- url:
	default:
	}
}

// pollMetrics polls cloudflared's metrics server until the URL is known
// or the process exits. For a quick tunnel it reads the hostname from
// GET /quicktunnel ({"hostname":"..."}). For a named tunnel it waits for
// GET /ready to return 200.
func (t *tunnel) pollMetrics(p *process) {
	client := &http.Client{Timeout: time.Second}
	ticker := time.NewTicker(200 * time.Millisecond)
	defer ticker.Stop()
	named := t.session.settings.named()
	for {
		select {
		case <-p.exited:
			return
		case <-ticker.C:
		}
		if len(p.found) > 0 {
			return
		}
		if named {
			if ready(client, "http://"+p.metrics+"/ready") {
				p.publish("https://" + t.session.settings.hostname)
				return
			}
			continue
		}
		if host := quickHostname(client, "http://"+p.metrics+"/quicktunnel"); host != "" {
			p.publish("https://" + host)
			return
		}
	}
}

func ready(client *http.Client, url string) bool {
	resp, err := client.Get(url)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func quickHostname(client *http.Client, url string) string {
	resp, err := client.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var body struct {
		Hostname string `json:"hostname"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&body) != nil {
		return ""
	}
	if !validQuickHost(body.Hostname) {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(body.Hostname))
}

// supervise restarts cloudflared whenever it exits, until Close.
func (t *tunnel) supervise(p *process) {
	defer t.wg.Done()
	s := t.session.settings
	delay := s.restartDelay
	failures := 0
	for {
		t.mu.Lock()
		t.proc = p
		t.mu.Unlock()
		started := time.Now()

		select {
		case <-t.stopping:
			t.kill(p)
			return
		case <-p.exited:
		}
		t.cleanup(p)
		t.logger.Warn("cloudflare: cloudflared exited; restarting it", "error", p.err,
			"restart_in", delay, "last_lines", p.tail.String())
		if time.Since(started) > time.Minute {
			delay = s.restartDelay
		}

		for {
			timer := time.NewTimer(delay)
			select {
			case <-t.stopping:
				timer.Stop()
				return
			case <-timer.C:
			}
			delay = min(delay*2, maxRestartDelay)

			next, url, err := t.launch(context.Background())
			if err == nil {
				failures = 0
				old := t.Endpoint().PublicURL
				if t.Set(t.endpoint(url)) {
					t.logger.Warn("cloudflare: cloudflared restarted with a new public URL", "old", old, "new", url)
				}
				p = next
				break
			}
			if errors.Is(err, driver.ErrClosed) {
				return
			}
			failures++
			if s.maxRestarts > 0 && failures >= s.maxRestarts {
				t.logger.Error("cloudflare: giving up restarting cloudflared", "failures", failures, "error", err)
				t.Fail(fmt.Errorf("restart cloudflared: gave up after %d attempts (max_restarts): %w", failures, err))
				return
			}
			t.logger.Warn("cloudflare: restarting cloudflared failed; retrying", "attempt", failures,
				"retry_in", delay, "error", err)
		}
	}
}

// kill stops p: SIGTERM to its process group, SIGKILL after stopGrace,
// and waits for it and its pipes to end.
func (t *tunnel) kill(p *process) {
	select {
	case <-p.exited:
	default:
		terminate(p.cmd)
		select {
		case <-p.exited:
		case <-time.After(stopGrace):
			t.logger.Warn("cloudflare: cloudflared ignored SIGTERM; killing it", "pid", p.cmd.Process.Pid)
			forceKill(p.cmd)
			<-p.exited
		}
	}
	t.cleanup(p)
}

func (t *tunnel) cleanup(p *process) {
	// A process group may outlive its leader: kill what is left.
	forceKill(p.cmd)
	_ = os.RemoveAll(p.dir)
}

// Close stops cloudflared and waits until it has exited.
func (t *tunnel) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return driver.ErrClosed
	}
	t.closed = true
	t.mu.Unlock()

	close(t.stopping)
	t.wg.Wait()
	t.Stop()

	t.session.mu.Lock()
	delete(t.session.tunnels, t)
	t.session.mu.Unlock()
	return nil
}

// environment returns the process environment for cloudflared: this
// process's environment without cloudflared's own TUNNEL_ variables,
// which could turn a quick tunnel into a named one, plus the token.
func environment(token string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TUNNEL_") {
			env = append(env, kv)
		}
	}
	if token != "" {
		env = append(env, "TUNNEL_TOKEN="+token)
	}
	return env
}

func freeLoopbackAddress() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port for cloudflared's metrics: %w", err)
	}
	defer l.Close()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Addr().(*net.TCPAddr).Port)), nil
}
