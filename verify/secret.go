package verify

import (
	"fmt"
	"io"
	"log/slog"
)

// redacted replaces a secret wherever one would be printed.
const redacted = "[redacted]"

// Secret is a shared secret or signing key. It prints as "[redacted]" with
// every fmt verb, in slog output and when marshaled to text, JSON or YAML,
// so that a Config can be logged whole. An empty Secret prints as "" so
// that a missing secret stays visible. Convert with string(s) to read
// the value.
type Secret string

// String returns "[redacted]", or "" for an empty Secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString returns the quoted form of [Secret.String], for %#v.
func (s Secret) GoString() string { return fmt.Sprintf("%q", s.String()) }

// Format writes [Secret.String] for every verb, including %x and %d, so
// that no verb reaches the underlying bytes.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, s.GoString())
		return
	}
	io.WriteString(f, s.String())
}

// LogValue returns [Secret.String] as a slog string value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText returns [Secret.String]. Marshaling a Config therefore never
// writes its secrets, and the output cannot be loaded back with them.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText stores text as the secret.
func (s *Secret) UnmarshalText(text []byte) error {
	*s = Secret(text)
	return nil
}

var (
	_ fmt.Stringer   = Secret("")
	_ fmt.GoStringer = Secret("")
	_ fmt.Formatter  = Secret("")
	_ slog.LogValuer = Secret("")
)
