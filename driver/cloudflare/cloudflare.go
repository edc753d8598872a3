package cloudflare

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"github.com/tether-go/tether/driver"
)

// Name is the name under which the driver registers itself.
const Name = "cloudflare"

func init() { driver.Register(Name, New(nil)) }

// Defaults of the settings.
const (
	DefaultURLTimeout   = 30 * time.Second
	DefaultRestartDelay = time.Second
	maxRestartDelay     = 30 * time.Second
	stopGrace           = 5 * time.Second
)

// Sentinel errors, usable with errors.Is.
var (
	// ErrNotInstalled is returned when the cloudflared program is not
	// found.
	ErrNotInstalled = errors.New("cloudflare: cloudflared not found")
	// ErrNoURL is wrapped when cloudflared exits or times out before it
	// reports a public URL. The message carries its last log lines.
	ErrNoURL = errors.New("cloudflare: no public URL from cloudflared")
)

// Options configures the driver. A nil *Options is valid.
type Options struct {
	// LookPath finds the cloudflared program when the settings name
	// none. Nil means exec.LookPath.
	LookPath func(file string) (string, error)
}

// Driver is the cloudflare driver. It is safe for concurrent use.
type Driver struct {
	lookPath func(string) (string, error)
}

var (
	_ driver.Driver    = (*Driver)(nil)
	_ driver.Validator = (*Driver)(nil)
)

// New returns the driver. opts may be nil.
func New(opts *Options) *Driver {
	d := &Driver{lookPath: exec.LookPath}
	if opts != nil && opts.LookPath != nil {
		d.lookPath = opts.LookPath
	}
	return d
}

// settings is the parsed form of the driver's settings. It holds the
// token: never print it.
type settings struct {
	program         string
	token           string
	tunnel          string
	credentialsFile string
	hostname        string
	urlTimeout      time.Duration
	restartDelay    time.Duration
	maxRestarts     int
}

func (s settings) named() bool { return s.token != "" || s.tunnel != "" }

func parseSettings(m map[string]any) (settings, error) {
	r := driver.NewSettings(m)
	out := settings{
		program:         r.Path("cloudflared", ""),
		token:           r.Secret("token"),
		tunnel:          r.String("tunnel", ""),
		credentialsFile: r.Path("credentials_file", ""),
		hostname:        r.String("hostname", ""),
		urlTimeout:      r.Duration("url_timeout", DefaultURLTimeout),
		restartDelay:    r.Duration("restart_delay", DefaultRestartDelay),
		maxRestarts:     r.Int("max_restarts", 0),
	}
	switch {
	case out.token != "" && out.tunnel != "":
		r.Fail("tunnel", out.tunnel, "set either token or tunnel with credentials_file, not both")
	case out.tunnel != "" && out.credentialsFile == "":
		r.Fail("credentials_file", "", "missing; a tunnel by name needs the credentials file that "+
			"\"cloudflared tunnel create\" wrote, or use token instead")
	case out.credentialsFile != "" && out.tunnel == "":
		r.Fail("tunnel", "", "missing; credentials_file belongs to a named tunnel, so set tunnel to its name or id")
	}
	if out.named() && out.hostname == "" {
		r.Fail("hostname", "", "missing; a named tunnel needs the public hostname routed to it, such as api.example.com")
	}
	if !out.named() && out.hostname != "" {
		r.Fail("hostname", out.hostname, "only named tunnels have a hostname; set token or tunnel, or remove hostname")
	}
	if out.urlTimeout <= 0 {
		r.Fail("url_timeout", out.urlTimeout.String(), "expected a positive duration")
	}
	if out.restartDelay <= 0 {
		r.Fail("restart_delay", out.restartDelay.String(), "expected a positive duration")
	}
	if out.maxRestarts < 0 {
		r.Fail("max_restarts", strconv.Itoa(out.maxRestarts), "expected 0 (never give up) or more")
	}
	return out, r.Err()
}

// Validate checks the settings without looking for cloudflared.
func (d *Driver) Validate(cfg driver.Config) error {
	_, err := parseSettings(cfg.Settings)
	return err
}

// Open checks the settings and finds cloudflared. Processes start in
// Forward.
func (d *Driver) Open(ctx context.Context, cfg driver.Config) (driver.Session, error) {
	s, err := parseSettings(cfg.Settings)
	if err != nil {
		return nil, err
	}
	if s.program == "" {
		path, err := d.lookPath("cloudflared")
		if err != nil {
			return nil, fmt.Errorf("%w on PATH: install cloudflared, or set the cloudflared setting to its path", ErrNotInstalled)
		}
		s.program = path
	} else if info, err := os.Stat(s.program); err != nil || info.IsDir() {
		return nil, fmt.Errorf("%w at %s (the cloudflared setting): install it there or fix the path", ErrNotInstalled, s.program)
	}
	if s.credentialsFile != "" {
		if _, err := os.Stat(s.credentialsFile); err != nil {
			return nil, &driver.ConfigError{Field: "credentials_file", Value: s.credentialsFile,
				Reason: "cannot read the file: " + errors.Unwrap(err).Error()}
		}
	}

	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &session{settings: s, logger: logger, tunnels: map[*tunnel]bool{}}, nil
}

type session struct {
	settings settings
	logger   *slog.Logger

	mu      sync.Mutex
	closed  bool             // guarded by mu
	tunnels map[*tunnel]bool // guarded by mu
}

var _ driver.Session = (*session)(nil)

func (s *session) Forward(ctx context.Context, f driver.Forward) (driver.Tunnel, error) {
	if f.RemotePort != 0 || f.RemoteHost != "" {
		return nil, &driver.ConfigError{Field: "port", Value: strconv.Itoa(f.RemotePort),
			Reason: "cloudflare chooses the public side; give only the local port"}
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, driver.ErrClosed
	}
	if s.settings.named() && len(s.tunnels) > 0 {
		s.mu.Unlock()
		return nil, &driver.ConfigError{Field: "port", Value: strconv.Itoa(f.LocalPort),
			Reason: "a named tunnel serves one local port; use a gateway per port, or quick tunnels"}
	}
	t := newTunnel(s, f)
	s.tunnels[t] = true
	s.mu.Unlock()

	if err := t.start(ctx); err != nil {
		s.mu.Lock()
		delete(s.tunnels, t)
		s.mu.Unlock()
		return nil, err
	}
	return t, nil
}

func (s *session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return driver.ErrClosed
	}
	s.closed = true
	tunnels := s.tunnels
	s.tunnels = map[*tunnel]bool{}
	s.mu.Unlock()

	var wg sync.WaitGroup
	for t := range tunnels {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = t.Close()
		}()
	}
	wg.Wait()
	return nil
}
