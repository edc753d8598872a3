package ssh

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/tether-go/tether/driver"
)

// Name is the name under which the driver registers itself.
const Name = "ssh"

func init() { driver.Register(Name, New(nil)) }

// Sentinel errors, usable with errors.Is, besides those of package
// driver.
var (
	// ErrHostKey is wrapped when the server's host key is unknown,
	// different from known_hosts, or cannot be checked. It is never
	// retried.
	ErrHostKey = errors.New("ssh: host key check failed")
	// ErrForwardDenied is wrapped when the server rejects a remote
	// forward.
	ErrForwardDenied = errors.New("ssh: remote forward denied")
)

// Options configures the driver. A nil *Options is valid.
type Options struct {
	// Dial opens the TCP connection to the server. Nil means a
	// net.Dialer. Tests use it to reach servers on loopback.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

// Driver is the ssh driver. It is safe for concurrent use.
type Driver struct {
	dial func(ctx context.Context, network, address string) (net.Conn, error)
}

var (
	_ driver.Driver    = (*Driver)(nil)
	_ driver.Validator = (*Driver)(nil)
)

// New returns the driver. opts may be nil.
func New(opts *Options) *Driver {
	d := &Driver{}
	if opts != nil {
		d.dial = opts.Dial
	}
	if d.dial == nil {
		d.dial = (&net.Dialer{}).DialContext
	}
	return d
}

// Validate checks the settings without reading files or dialing.
func (d *Driver) Validate(cfg driver.Config) error {
	_, err := parseSettings(cfg.Settings)
	return err
}

// Open checks the settings, reads the key, connects and authenticates.
// Failures of the first connection are returned, not retried.
func (d *Driver) Open(ctx context.Context, cfg driver.Config) (driver.Session, error) {
	s, err := parseSettings(cfg.Settings)
	if err != nil {
		return nil, err
	}
	auth, err := authMethods(s)
	if err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("ssh_server", s.address())

	sess := newSession(d, s, auth, logger)
	client, err := sess.connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to ssh server %s: %w", s.address(), err)
	}
	sess.start(client)
	return sess, nil
}

func authMethods(s settings) ([]ssh.AuthMethod, error) {
	if s.authType == "password" {
		answer := func(user, instruction string, questions []string, echos []bool) ([]string, error) {
			answers := make([]string, len(questions))
			for i := range questions {
				if !echos[i] {
					answers[i] = s.password
				}
			}
			return answers, nil
		}
		return []ssh.AuthMethod{ssh.Password(s.password), ssh.KeyboardInteractive(answer)}, nil
	}

	key := []byte(s.privateKey)
	source := "connection.auth.private_key"
	if s.keyfile != "" {
		var err error
		source = s.keyfile
		if key, err = os.ReadFile(s.keyfile); err != nil {
			return nil, &driver.ConfigError{Field: "connection.auth.keyfile", Value: s.keyfile,
				Reason: fmt.Sprintf("cannot read the key: %v", errors.Unwrap(err))}
		}
	}

	var signer ssh.Signer
	var err error
	if s.passphrase != "" {
		signer, err = ssh.ParsePrivateKeyWithPassphrase(key, []byte(s.passphrase))
	} else {
		signer, err = ssh.ParsePrivateKey(key)
	}
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
		return nil, &driver.ConfigError{Field: "connection.auth.passphrase",
			Reason: "the key in " + source + " is encrypted; set connection.auth.passphrase"}
	case errors.Is(err, x509.IncorrectPasswordError):
		return nil, &driver.ConfigError{Field: "connection.auth.passphrase",
			Reason: "the passphrase does not decrypt the key in " + source}
	case err != nil:
		// The parser's message names the problem, not the key contents.
		return nil, &driver.ConfigError{Field: "connection.auth.keyfile", Value: s.keyfile,
			Reason: "not a private key that golang.org/x/crypto/ssh can read: " + err.Error()}
	}
	return []ssh.AuthMethod{ssh.PublicKeys(signer)}, nil
}

// connect dials the server and logs in, within connect_timeout and ctx.
func (sess *session) connect(ctx context.Context) (*ssh.Client, error) {
	s := sess.settings
	ctx, cancel := context.WithTimeout(ctx, s.connectTimeout)
	defer cancel()

	conn, err := sess.driver.dial(ctx, "tcp", s.address())
	if err != nil {
		return nil, err
	}
	callback, algorithms, err := hostKeyCheck(s, conn.RemoteAddr(), sess.logger)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	config := &ssh.ClientConfig{
		User:              s.username,
		Auth:              sess.auth,
		HostKeyCallback:   callback,
		HostKeyAlgorithms: algorithms,
		Timeout:           s.connectTimeout,
	}

	// The handshake has no context parameter: a deadline on the
	// connection and a watcher that closes it bound it instead.
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	c, chans, reqs, err := ssh.NewClientConn(conn, s.address(), config)
	stop()
	if err != nil {
		_ = conn.Close()
		if ctx.Err() != nil && !errors.Is(err, ErrHostKey) {
			return nil, fmt.Errorf("ssh handshake: %w", ctx.Err())
		}
		return nil, classify(err)
	}
	_ = conn.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), nil
}

// classify wraps driver.ErrAuth around rejected credentials.
func classify(err error) error {
	if errors.Is(err, ErrHostKey) {
		return err
	}
	if strings.Contains(err.Error(), "unable to authenticate") {
		return fmt.Errorf("%w: the server rejected the credentials (%w); check connection.auth",
			driver.ErrAuth, err)
	}
	return err
}

// permanent reports whether err will not go away by retrying.
func permanent(err error) bool {
	return errors.Is(err, driver.ErrAuth) || errors.Is(err, ErrHostKey) || errors.Is(err, driver.ErrInvalidConfig)
}
