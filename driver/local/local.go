package local

import (
	"context"
	"net"
	"strconv"

	"github.com/tether-go/tether/driver"
)

// Name is the name under which the driver registers itself.
const Name = "local"

func init() { driver.Register(Name, New(nil)) }

// Options configures the driver. It has no fields yet, and a nil
// *Options is valid.
type Options struct{}

// Driver is the local driver. It is safe for concurrent use.
type Driver struct{}

var (
	_ driver.Driver    = (*Driver)(nil)
	_ driver.Validator = (*Driver)(nil)
)

// New returns the driver. opts may be nil.
func New(opts *Options) *Driver { return &Driver{} }

type settings struct {
	host   string
	scheme string
}

func parse(cfg driver.Config) (settings, error) {
	s := driver.NewSettings(cfg.Settings)
	out := settings{
		host:   s.String("host", "127.0.0.1"),
		scheme: s.String("scheme", "http"),
	}
	if out.scheme != "http" && out.scheme != "https" {
		s.Fail("scheme", out.scheme, `expected "http" or "https"`)
	}
	if out.host == "" {
		s.Fail("host", "", "must not be empty; remove it to use 127.0.0.1")
	}
	return out, s.Err()
}

// Validate checks the settings.
func (d *Driver) Validate(cfg driver.Config) error {
	_, err := parse(cfg)
	return err
}

// Open checks the settings and returns a session. It sends no traffic.
func (d *Driver) Open(ctx context.Context, cfg driver.Config) (driver.Session, error) {
	s, err := parse(cfg)
	if err != nil {
		return nil, err
	}
	return driver.NewFixedSession(Name, func(f driver.Forward) (driver.Endpoint, error) {
		address := net.JoinHostPort(s.host, strconv.Itoa(f.LocalPort))
		return driver.Endpoint{PublicURL: s.scheme + "://" + address, PublicAddress: address, Port: f.LocalPort}, nil
	}), nil
}
