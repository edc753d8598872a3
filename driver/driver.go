package driver

import (
	"context"
	"log/slog"
	"net"
	"strconv"
)

// Driver opens sessions with one tunnel service. Implementations must be
// safe for concurrent use, because a registered driver is shared by every
// gateway that names it.
type Driver interface {
	// Open checks cfg.Settings and connects to the tunnel service.
	//
	// Open must reject unknown or invalid settings with an error that
	// wraps [ErrInvalidConfig] (usually a *[ConfigError]) before it sends
	// any network traffic. It must not keep ctx after it returns: ctx
	// bounds the connection attempt only, and the session lives until
	// [Session.Close].
	Open(ctx context.Context, cfg Config) (Session, error)
}

// DriverFunc adapts a function to the [Driver] interface.
type DriverFunc func(ctx context.Context, cfg Config) (Session, error)

// Open calls f(ctx, cfg).
func (f DriverFunc) Open(ctx context.Context, cfg Config) (Session, error) {
	return f(ctx, cfg)
}

// Config is the input of [Driver.Open].
type Config struct {
	// Settings are the driver's own settings, as decoded from YAML or
	// JSON, with environment references already expanded. Read them with
	// [NewSettings], which reports unknown keys. A nil map means no
	// settings.
	Settings map[string]any
	// Logger receives the driver's log records. Nil means discard.
	Logger *slog.Logger
}

// Session is a connection to a tunnel service that can carry one tunnel
// per local port. The ngrok driver shares one agent session between all
// tunnels, the ssh driver one SSH connection, and the cloudflare driver
// starts one cloudflared process per tunnel.
//
// All methods are safe for concurrent use.
type Session interface {
	// Forward opens a tunnel that carries connections from the public
	// side to f.LocalHost:f.LocalPort. It returns when the tunnel has its
	// first endpoint, or with an error when ctx ends first. As with
	// [Driver.Open], ctx bounds only the opening.
	Forward(ctx context.Context, f Forward) (Tunnel, error)
	// Close closes every tunnel of the session and releases its
	// resources (connections, processes, goroutines). Close returns
	// after they are released. A second Close returns [ErrClosed].
	Close() error
}

// Listening is an optional interface of a [Session] whose public side
// can be served directly by the host program, without a local port. The
// ssh and ngrok drivers implement it.
type Listening interface {
	// Listen opens a tunnel whose connections are handed to the caller
	// through the returned [Listener]. f.LocalHost and f.LocalPort are
	// ignored.
	Listen(ctx context.Context, f Forward) (Listener, error)
}

// Listener is a [net.Listener] whose connections arrive through a tunnel.
// Closing it closes the tunnel, but not the session.
type Listener interface {
	net.Listener
	// Endpoint returns the public side of the tunnel.
	Endpoint() Endpoint
}

// Tunnel is one open tunnel. All methods are safe for concurrent use.
// [TunnelState] implements every method except Close, so that a driver
// can embed it.
type Tunnel interface {
	// Endpoint returns the current public endpoint. A tunnel that
	// reconnects keeps its last endpoint while it is away.
	Endpoint() Endpoint
	// Changed returns a channel that is closed at the next change of
	// the endpoint, and when the tunnel stops. Call it again after each
	// change to keep watching.
	Changed() <-chan struct{}
	// Done returns a channel that is closed when the tunnel has stopped
	// for good, by Close or by a failure the driver gave up on.
	Done() <-chan struct{}
	// Err returns the failure that stopped the tunnel, or nil while it
	// runs and after a plain Close.
	Err() error
	// Close closes the tunnel and waits until its goroutines and
	// processes are gone. A second Close returns [ErrClosed].
	Close() error
}

// Forward describes one tunnel: which public port leads to which local
// port.
type Forward struct {
	// LocalHost is the host the tunnel connects to. Empty means
	// "127.0.0.1".
	LocalHost string
	// LocalPort is the local port the tunnel connects to, from 1 to
	// 65535. It is also the port that ${gateway:PORT...} names.
	LocalPort int
	// RemoteHost is the address to bind on the public side, for drivers
	// that bind one (ssh). Empty means the driver's default.
	RemoteHost string
	// RemotePort is the port to bind on the public side, for drivers
	// that bind one (ssh). Zero means the driver's default: the ssh
	// driver uses LocalPort. Drivers that cannot choose the public port
	// (ngrok, cloudflare, local, static) reject a non-zero RemotePort.
	RemotePort int
}

// LocalAddress returns LocalHost:LocalPort, with "127.0.0.1" for an
// empty LocalHost.
func (f Forward) LocalAddress() string {
	host := f.LocalHost
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, strconv.Itoa(f.LocalPort))
}

// Endpoint is the public side of a tunnel, as ${gateway:PORT.public_url},
// ${gateway:PORT.public_address} and ${gateway:PORT.port} report it.
type Endpoint struct {
	// PublicURL is the URL that reaches the local port from outside,
	// such as "https://abc.trycloudflare.com" or "http://host:9834".
	PublicURL string
	// PublicAddress is the host:port that reaches the local port from
	// outside, such as "remote-server.com:9834".
	PublicAddress string
	// Port is the local port the tunnel leads to.
	Port int
}

// Field returns the value of one ${gateway:PORT.NAME} field:
// "public_url", "public_address" or "port". It makes Endpoint usable as
// an expression source.
func (e Endpoint) Field(name string) (any, bool) {
	switch name {
	case "public_url":
		return e.PublicURL, true
	case "public_address":
		return e.PublicAddress, true
	case "port":
		return e.Port, true
	}
	return nil, false
}

// IsZero reports whether e has neither a public URL nor a public address.
func (e Endpoint) IsZero() bool {
	return e.PublicURL == "" && e.PublicAddress == ""
}

// Validator is an optional interface of a [Driver] that can check
// settings without opening anything. A gateway calls it when it is
// built, so that a mistake in the settings is reported when the
// configuration loads rather than when the tunnel starts.
type Validator interface {
	// Validate returns the same configuration errors that Open would
	// return for cfg, and sends no network traffic.
	Validate(cfg Config) error
}
