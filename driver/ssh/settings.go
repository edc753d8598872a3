package ssh

import (
	"fmt"
	"net"
	"os/user"
	"strconv"
	"time"

	"github.com/tether-go/tether/driver"
)

// Defaults of the settings.
const (
	DefaultPort              = 22
	DefaultKnownHosts        = "~/.ssh/known_hosts"
	DefaultKeyfile           = "~/.ssh/id_rsa"
	DefaultKeepaliveInterval = 15 * time.Second
	DefaultKeepaliveCount    = 3
	DefaultRetryInterval     = 2 * time.Second
	DefaultMaxRetryInterval  = 30 * time.Second
	DefaultConnectTimeout    = 15 * time.Second
)

// settings is the parsed form of the driver's settings. It holds
// secrets: never print it.
type settings struct {
	host       string
	port       int
	username   string
	authType   string // "keyfile" or "password"
	keyfile    string
	privateKey string // inline key, secret
	passphrase string // secret
	password   string // secret

	knownHosts     []string
	insecureNoHost bool
	publicHost     string

	keepaliveInterval time.Duration
	keepaliveCount    int
	retryInterval     time.Duration
	maxRetryInterval  time.Duration
	maxRetryCount     int
	connectTimeout    time.Duration
}

func (s settings) address() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

func parseSettings(m map[string]any) (settings, error) {
	r := driver.NewSettings(m)
	var out settings

	conn := r.Map("connection")
	out.host = conn.String("host", "")
	if out.host == "" {
		conn.Fail("host", "", "missing; set connection.host to the SSH server's name or address")
	}
	out.port = conn.Int("port", DefaultPort)
	if out.port < 1 || out.port > 65535 {
		conn.Fail("port", strconv.Itoa(out.port), "expected a port from 1 to 65535")
	}

	auth := conn.Map("auth")
	out.authType = auth.String("type", "keyfile")
	out.username = auth.String("username", "")
	if out.username == "" {
		if u, err := user.Current(); err == nil {
			out.username = u.Username
		} else {
			auth.Fail("username", "", "missing and the current user is unknown; set connection.auth.username")
		}
	}
	switch out.authType {
	case "keyfile":
		out.privateKey = auth.Secret("private_key")
		out.keyfile = auth.Path("keyfile", "")
		if out.keyfile == "" && out.privateKey == "" {
			out.keyfile, _ = driver.ExpandHome(DefaultKeyfile)
		}
		if out.keyfile != "" && out.privateKey != "" {
			auth.Fail("private_key", "", "set either keyfile or private_key, not both")
		}
		out.passphrase = auth.Secret("passphrase")
	case "password":
		out.password = auth.Secret("password")
		if out.password == "" {
			auth.Fail("password", "", "missing or empty; set connection.auth.password, for example to ${env.SSH_PASSWORD}")
		}
	default:
		auth.Fail("type", out.authType, `expected "keyfile" or "password"`)
	}

	out.knownHosts = r.Strings("known_hosts")
	for i, p := range out.knownHosts {
		expanded, err := driver.ExpandHome(p)
		if err != nil {
			r.Fail("known_hosts", p, err.Error())
		}
		out.knownHosts[i] = expanded
	}
	if len(out.knownHosts) == 0 {
		p, _ := driver.ExpandHome(DefaultKnownHosts)
		out.knownHosts = []string{p}
	}
	out.insecureNoHost = r.Bool("insecure_ignore_host_key", false)
	out.publicHost = r.String("public_host", "")

	out.keepaliveInterval = r.Duration("keepalive_interval", DefaultKeepaliveInterval)
	out.keepaliveCount = r.Int("keepalive_count", DefaultKeepaliveCount)
	if out.keepaliveCount < 1 {
		r.Fail("keepalive_count", strconv.Itoa(out.keepaliveCount), "expected at least 1")
	}
	out.retryInterval = r.Duration("retry_interval", DefaultRetryInterval)
	if out.retryInterval <= 0 {
		r.Fail("retry_interval", out.retryInterval.String(), "expected a positive duration")
	}
	out.maxRetryInterval = r.Duration("max_retry_interval", max(DefaultMaxRetryInterval, out.retryInterval))
	if out.maxRetryInterval < out.retryInterval {
		r.Fail("max_retry_interval", out.maxRetryInterval.String(),
			fmt.Sprintf("must not be shorter than retry_interval (%s)", out.retryInterval))
	}
	out.maxRetryCount = r.Int("max_retry_count", 0)
	if out.maxRetryCount < 0 {
		r.Fail("max_retry_count", strconv.Itoa(out.maxRetryCount), "expected 0 (retry forever) or more")
	}
	out.connectTimeout = r.Duration("connect_timeout", DefaultConnectTimeout)
	if out.connectTimeout <= 0 {
		r.Fail("connect_timeout", out.connectTimeout.String(), "expected a positive duration")
	}
	return out, r.Err()
}
