package gateway

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/tether-go/tether/driver"
)

// Gateway types accepted in [Config.Type].
const (
	// TypeHTTPTunnel needs a driver: "ngrok", "cloudflare", "local",
	// "static" or a custom one.
	TypeHTTPTunnel = "http-tunnel"
	// TypeSSHTunnel uses the "ssh" driver.
	TypeSSHTunnel = "ssh-tunnel"
	// TypeLocal uses the "local" driver: the public URL is the local
	// address itself.
	TypeLocal = "local"
	// TypeStatic uses the "static" driver: the public URL comes from the
	// public_url setting.
	TypeStatic = "static"
)

// Config is one gateway of a configuration file.
type Config struct {
	// Type is "http-tunnel", "ssh-tunnel", "local" or "static". It may
	// be empty when Driver is set.
	Type string
	// Driver names the registered driver. It is required for
	// "http-tunnel", implied by the other types, and may name a custom
	// driver when Type is empty.
	Driver string
	// Ports lists the tunnels, one per local port.
	Ports []PortMapping
	// Settings are the driver's own settings (for ssh: connection,
	// known_hosts, keepalive_interval, ...), with environment references
	// already expanded.
	Settings map[string]any
}

// ParseConfig builds a Config from a gateway map decoded from YAML or
// JSON, such as {type: ssh-tunnel, port: ["9834:8090"], connection:
// {...}}. It reads "type", "driver" and "port", accepts "runtime" only
// when it is "native", and passes every other key to the driver as a
// setting.
func ParseConfig(m map[string]any) (Config, error) {
	var cfg Config
	settings := maps.Clone(m)
	if settings == nil {
		settings = map[string]any{}
	}

	var err error
	if cfg.Type, err = takeString(settings, "type"); err != nil {
		return Config{}, err
	}
	if cfg.Driver, err = takeString(settings, "driver"); err != nil {
		return Config{}, err
	}
	runtime, err := takeString(settings, "runtime")
	if err != nil {
		return Config{}, err
	}
	if runtime != "" && runtime != "native" {
		return Config{}, &driver.ConfigError{Field: "runtime", Value: runtime,
			Reason: `only "native" is supported: gateways run inside the process`}
	}

	port, ok := settings["port"]
	delete(settings, "port")
	if !ok {
		return Config{}, &driver.ConfigError{Field: "port", Reason: "missing; set the local port to expose, such as 8090"}
	}
	if cfg.Ports, err = ParsePorts(port); err != nil {
		return Config{}, fmt.Errorf("parse gateway port: %w", err)
	}
	cfg.Settings = settings
	return cfg, nil
}

func takeString(m map[string]any, key string) (string, error) {
	v, ok := m[key]
	delete(m, key)
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", &driver.ConfigError{Field: key, Value: fmt.Sprint(v), Reason: "expected text"}
	}
	return strings.TrimSpace(s), nil
}

// DriverName returns the name of the driver that c uses, after checking
// that Type and Driver fit together.
func (c Config) DriverName() (string, error) {
	typ := strings.ToLower(strings.TrimSpace(c.Type))
	name := driver.NormalizeName(c.Driver)

	switch typ {
	case TypeHTTPTunnel:
		if name == "" {
			return "", &driver.ConfigError{Field: "driver",
				Reason: `missing; type "http-tunnel" needs a driver such as "ngrok", "cloudflare", "local" or "static"`}
		}
		return name, nil
	case TypeSSHTunnel:
		if name != "" && name != "ssh" {
			return "", &driver.ConfigError{Field: "driver", Value: c.Driver,
				Reason: `type "ssh-tunnel" always uses the "ssh" driver; remove the driver setting`}
		}
		return "ssh", nil
	case TypeLocal, TypeStatic:
		if name != "" && name != typ {
			return "", &driver.ConfigError{Field: "driver", Value: c.Driver,
				Reason: fmt.Sprintf("type %q always uses the %q driver; remove the driver setting", typ, typ)}
		}
		return typ, nil
	case "":
		if name == "" {
			return "", &driver.ConfigError{Field: "type",
				Reason: `missing; set type to "http-tunnel" (with a driver), "ssh-tunnel", "local" or "static"`}
		}
		return name, nil
	}
	return "", &driver.ConfigError{Field: "type", Value: c.Type,
		Reason: `unknown gateway type; use "http-tunnel" (with a driver), "ssh-tunnel", "local" or "static"`}
}

// secretWords are parts of setting names whose values are redacted.
var secretWords = []string{"password", "passphrase", "token", "secret", "private_key", "privatekey"}

// IsSecretSetting reports whether the setting named key holds a secret
// (a password, passphrase, token or private key) that must not be
// printed.
func IsSecretSetting(key string) bool {
	k := strings.ToLower(key)
	if k == "key" {
		return true
	}
	return slices.ContainsFunc(secretWords, func(w string) bool { return strings.Contains(k, w) })
}

// Redacted returns a copy of c in which every secret setting, at any
// depth, is replaced by "[REDACTED]". Use it for configuration dumps.
func (c Config) Redacted() Config {
	c.Ports = slices.Clone(c.Ports)
	c.Settings = redactMap(c.Settings)
	return c
}

func redactMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch {
		case IsSecretSetting(k) && v != nil && v != "":
			out[k] = "[REDACTED]"
		default:
			out[k] = redactValue(v)
		}
	}
	return out
}

func redactValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return redactMap(v)
	case []any:
		out := make([]any, len(v))
		for i, item := range v {
			out[i] = redactValue(item)
		}
		return out
	}
	return v
}

// LogValue makes slog print c with its secrets redacted.
func (c Config) LogValue() slog.Value {
	r := c.Redacted()
	ports := make([]string, len(r.Ports))
	for i, p := range r.Ports {
		ports[i] = p.String()
	}
	return slog.GroupValue(
		slog.String("type", r.Type),
		slog.String("driver", r.Driver),
		slog.Any("ports", ports),
		slog.Any("settings", r.Settings),
	)
}

// String returns c with its secrets redacted, so that printing a Config
// with %v never shows a secret.
func (c Config) String() string {
	r := c.Redacted()
	return fmt.Sprintf("{Type:%s Driver:%s Ports:%v Settings:%v}", r.Type, r.Driver, r.Ports, r.Settings)
}
