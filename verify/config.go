package verify

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// Scheme names accepted in [Config.Type].
const (
	TypeGitHub           = "github"
	TypeStripe           = "stripe"
	TypeSlack            = "slack"
	TypeStandardWebhooks = "standard-webhooks"
	TypeDiscord          = "discord"
	TypeHMAC             = "hmac"
)

// DefaultTolerance is the timestamp window used when [Config.Tolerance]
// is zero. Stripe, Slack and Standard Webhooks all document five minutes.
const DefaultTolerance = 5 * time.Minute

// Types returns the accepted scheme names in alphabetical order.
func Types() []string {
	return []string{
		TypeDiscord, TypeGitHub, TypeHMAC, TypeSlack, TypeStandardWebhooks, TypeStripe,
	}
}

// Config is one verify: block of a listener's callback or trigger. Secrets
// arrive already resolved: the caller expands ${env.X} before calling
// [New]. Secret fields print as "[redacted]", so a Config is safe to pass
// to fmt and slog.
type Config struct {
	// Type is the scheme: github, stripe, slack, standard-webhooks,
	// discord or hmac. Case and surrounding spaces are ignored.
	Type string `yaml:"type" json:"type"`
	// Secret is the shared secret of the HMAC schemes. For
	// standard-webhooks it is base64, with or without the "whsec_"
	// prefix. For the others its bytes are the HMAC key as written.
	Secret Secret `yaml:"secret,omitempty" json:"secret,omitempty"`
	// Secrets lists further secrets, in the same form as Secret. A
	// request is accepted when it matches any of them, which lets a
	// secret be rotated without rejecting requests signed with the old
	// one.
	Secrets []Secret `yaml:"secrets,omitempty" json:"secrets,omitempty"`
	// PublicKey is an Ed25519 public key, which is not secret. For
	// discord it is the application's key as 64 hex digits. For
	// standard-webhooks it is "whpk_" and the base64 key, and it checks
	// v1a signatures in place of or beside the secrets.
	PublicKey string `yaml:"public_key,omitempty" json:"public_key,omitempty"`
	// Tolerance is how far a signed timestamp may lie from the current
	// time, in either direction. Zero means DefaultTolerance. It applies
	// to stripe, slack, standard-webhooks, discord, and to hmac when
	// TimestampHeader is set.
	Tolerance Duration `yaml:"tolerance,omitempty" json:"tolerance,omitempty"`

	// Header names the header carrying the signature (hmac only).
	Header string `yaml:"header,omitempty" json:"header,omitempty"`
	// Algorithm is the HMAC hash: sha1, sha256 (the default), sha384 or
	// sha512 (hmac only).
	Algorithm string `yaml:"algorithm,omitempty" json:"algorithm,omitempty"`
	// Encoding is the text encoding of the signature: hex (the default),
	// base64 or base64url, with or without padding (hmac only).
	Encoding string `yaml:"encoding,omitempty" json:"encoding,omitempty"`
	// Prefix is text that must precede the encoded signature in Header,
	// such as "sha256=" (hmac only).
	Prefix string `yaml:"prefix,omitempty" json:"prefix,omitempty"`
	// SignedContent is the template of the signed bytes, such as
	// "${header.X-Timestamp}.${body}". The default is "${body}" (hmac
	// only). See the package documentation for the syntax.
	SignedContent string `yaml:"signed_content,omitempty" json:"signed_content,omitempty"`
	// TimestampHeader names a header containing the Unix time in seconds
	// at which the request was signed. When set, that time must lie
	// within Tolerance, and SignedContent must contain the header
	// (hmac only).
	TimestampHeader string `yaml:"timestamp_header,omitempty" json:"timestamp_header,omitempty"`
}

// LogValue returns the fields that are set, with secrets redacted.
func (c Config) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("type", c.Type)}
	if c.Secret != "" {
		attrs = append(attrs, slog.String("secret", c.Secret.String()))
	}
	if len(c.Secrets) > 0 {
		attrs = append(attrs, slog.Int("secrets", len(c.Secrets)))
	}
	optional := []struct{ key, value string }{
		{"public_key", c.PublicKey},
		{"header", c.Header},
		{"algorithm", c.Algorithm},
		{"encoding", c.Encoding},
		{"prefix", c.Prefix},
		{"signed_content", c.SignedContent},
		{"timestamp_header", c.TimestampHeader},
	}
	for _, field := range optional {
		if field.value != "" {
			attrs = append(attrs, slog.String(field.key, field.value))
		}
	}
	if c.Tolerance != 0 {
		attrs = append(attrs, slog.String("tolerance", c.Tolerance.String()))
	}
	return slog.GroupValue(attrs...)
}

// ErrInvalidConfig is wrapped by every [ConfigError].
var ErrInvalidConfig = errors.New("verify: invalid config")

// ConfigError reports a field of a [Config] that [New] rejected.
type ConfigError struct {
	// Field is the YAML key at fault, such as "secret" or "secrets[1]".
	Field string
	// Message describes the fault and how to fix it. It never contains
	// a secret.
	Message string
}

// Error returns a message such as "verify.secret: required for type
// github".
func (e *ConfigError) Error() string { return "verify." + e.Field + ": " + e.Message }

// Unwrap returns [ErrInvalidConfig].
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

// New checks cfg and returns the Verifier for its scheme. A nil opts is
// allowed. The error joins one [ConfigError] per field at fault.
func New(cfg Config, opts *Options) (Verifier, error) {
	if opts == nil {
		opts = &Options{}
	}
	typ := strings.ToLower(strings.TrimSpace(cfg.Type))
	c := &checker{cfg: cfg, typ: typ}

	var v Verifier
	switch typ {
	case TypeGitHub:
		v = c.newGitHub()
	case TypeStripe:
		v = c.newStripe(opts)
	case TypeSlack:
		v = c.newSlack(opts)
	case TypeStandardWebhooks:
		v = c.newStandardWebhooks(opts)
	case TypeDiscord:
		v = c.newDiscord(opts)
	case TypeHMAC:
		v = c.newHMAC(opts)
	case "":
		c.fail("type", "required; valid types: %s", strings.Join(Types(), ", "))
	default:
		c.fail("type", "unknown type %q; valid types: %s", cfg.Type, strings.Join(Types(), ", "))
	}
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	return v, nil
}

// checker collects the field errors of one Config.
type checker struct {
	cfg  Config
	typ  string
	errs []error
}

func (c *checker) fail(field, format string, args ...any) {
	c.errs = append(c.errs, &ConfigError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// namedSecret is a configured secret with the YAML key it came from.
type namedSecret struct {
	field string
	value string
}

// secrets returns Secret followed by the entries of Secrets. It fails
// when there is no secret at all or when an entry of Secrets is empty.
func (c *checker) secrets() []namedSecret {
	var all []namedSecret
	if c.cfg.Secret != "" {
		all = append(all, namedSecret{"secret", string(c.cfg.Secret)})
	}
	for i, s := range c.cfg.Secrets {
		field := fmt.Sprintf("secrets[%d]", i)
		if s == "" {
			c.fail(field, "empty; remove the entry or set its value")
			continue
		}
		all = append(all, namedSecret{field, string(s)})
	}
	if c.cfg.Secret == "" && len(c.cfg.Secrets) == 0 {
		c.fail("secret", "required for type %s", c.typ)
	}
	return all
}

// hmacKeys returns the configured secrets as HMAC keys, byte for byte.
func (c *checker) hmacKeys() [][]byte {
	var keys [][]byte
	for _, s := range c.secrets() {
		keys = append(keys, []byte(s.value))
	}
	return keys
}

// window returns the timestamp window from Tolerance and opts.
func (c *checker) window(opts *Options) window {
	tolerance := time.Duration(c.cfg.Tolerance)
	switch {
	case tolerance < 0:
		c.fail("tolerance", "negative (%s); use a positive duration such as \"5m\"", tolerance)
	case tolerance == 0:
		tolerance = DefaultTolerance
	}
	return window{clock: opts.clock(), tolerance: tolerance}
}

// unused fails for each set field that the scheme does not read, so that
// a typo such as public_key on a github block does not pass silently.
func (c *checker) unused(fields ...string) {
	values := map[string]bool{
		"secret":           c.cfg.Secret != "",
		"secrets":          len(c.cfg.Secrets) > 0,
		"public_key":       c.cfg.PublicKey != "",
		"tolerance":        c.cfg.Tolerance != 0,
		"header":           c.cfg.Header != "",
		"algorithm":        c.cfg.Algorithm != "",
		"encoding":         c.cfg.Encoding != "",
		"prefix":           c.cfg.Prefix != "",
		"signed_content":   c.cfg.SignedContent != "",
		"timestamp_header": c.cfg.TimestampHeader != "",
	}
	for _, field := range fields {
		if values[field] {
			c.fail(field, "not used by type %s; remove it", c.typ)
		}
	}
}

// hmacOnlyFields are the fields that only type hmac reads.
var hmacOnlyFields = []string{
	"header", "algorithm", "encoding", "prefix", "signed_content", "timestamp_header",
}

// withHMACFields returns hmacOnlyFields followed by extra.
func withHMACFields(extra ...string) []string {
	return slices.Concat(hmacOnlyFields, extra)
}
