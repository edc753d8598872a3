package static

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"

	"github.com/tether-go/tether/driver"
)

// Name is the name under which the driver registers itself.
const Name = "static"

func init() { driver.Register(Name, New(nil)) }

// Options configures the driver. It has no fields yet, and a nil
// *Options is valid.
type Options struct{}

// Driver is the static driver. It is safe for concurrent use.
type Driver struct{}

var (
	_ driver.Driver    = (*Driver)(nil)
	_ driver.Validator = (*Driver)(nil)
)

// New returns the driver. opts may be nil.
func New(opts *Options) *Driver { return &Driver{} }

type settings struct {
	all   *url.URL         // from public_url
	ports map[int]*url.URL // from public_urls
}

func parse(cfg driver.Config) (settings, error) {
	s := driver.NewSettings(cfg.Settings)
	var out settings
	if raw := s.String("public_url", ""); raw != "" {
		u, err := parseURL(raw)
		if err != nil {
			s.Fail("public_url", raw, err.Error())
		}
		out.all = u
	}
	perPort := s.Map("public_urls")
	for _, key := range perPort.Keys() {
		raw := perPort.String(key, "")
		port, err := strconv.Atoi(key)
		if err != nil || port < 1 || port > 65535 {
			perPort.Fail(key, raw, "the key must be a local port from 1 to 65535")
			continue
		}
		u, err := parseURL(raw)
		if err != nil {
			perPort.Fail(key, raw, err.Error())
			continue
		}
		if out.ports == nil {
			out.ports = map[int]*url.URL{}
		}
		out.ports[port] = u
	}
	if out.all == nil && len(out.ports) == 0 && s.Err() == nil {
		s.Fail("public_url", "", "missing; set the public URL that reaches this service, such as https://api.example.com")
	}
	return out, s.Err()
}

func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("not a URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("expected an absolute http or https URL such as https://api.example.com")
	}
	return u, nil
}

func address(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	port := "80"
	if u.Scheme == "https" {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port)
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
		u := s.ports[f.LocalPort]
		if u == nil {
			u = s.all
		}
		if u == nil {
			return driver.Endpoint{}, &driver.ConfigError{Field: "public_urls", Value: strconv.Itoa(f.LocalPort),
				Reason: "no public URL for this port; add it to public_urls or set public_url"}
		}
		return driver.Endpoint{PublicURL: u.String(), PublicAddress: address(u), Port: f.LocalPort}, nil
	}), nil
}
