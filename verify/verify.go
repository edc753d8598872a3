package verify

import (
	"errors"
	"net/http"

	"github.com/tether-go/tether/clock"
)

// Verifier checks that a request was sent by the party holding the secret.
type Verifier interface {
	// Verify checks r's headers against body, the request body exactly as
	// it arrived. It returns nil when the request is authentic, and
	// otherwise an error that wraps [ErrUnverified] and one of
	// [ErrMissingHeader], [ErrMalformedHeader], [ErrStale] or
	// [ErrMismatch]. Verify does not read r.Body. Every Verifier built by
	// [New] is safe for concurrent use.
	Verify(r *http.Request, body []byte) error // nil = authentic
}

// VerifierFunc adapts a function to the [Verifier] interface, which makes
// fakes for tests easy to write.
type VerifierFunc func(r *http.Request, body []byte) error

// Verify calls f(r, body).
func (f VerifierFunc) Verify(r *http.Request, body []byte) error { return f(r, body) }

// Options configures [New]. A nil *Options is the same as the zero value.
type Options struct {
	// Clock supplies the current time for timestamp windows. Nil means
	// the wall clock.
	Clock clock.Clock
}

func (o *Options) clock() clock.Clock { return clock.Or(o.Clock) }

// ErrUnverified is wrapped by every rejection that a [Verifier] built by
// [New] returns, so a caller can respond with 401 after a single
// errors.Is check.
var ErrUnverified = errors.New("verify: request not verified")

// Rejection reasons. Each one also matches [ErrUnverified] with errors.Is.
var (
	// ErrMissingHeader means a header that the scheme requires is absent
	// or empty.
	ErrMissingHeader error = &reason{"missing header"}
	// ErrMalformedHeader means a header is present but cannot be parsed:
	// a missing prefix, bad hex or base64, a timestamp that is not a
	// whole number of seconds, or a header sent more than once.
	ErrMalformedHeader error = &reason{"malformed header"}
	// ErrStale means the signed timestamp lies outside the tolerance
	// window, in the past or in the future.
	ErrStale error = &reason{"timestamp outside the window"}
	// ErrMismatch means the headers are well formed but no signature
	// matched any configured secret or key.
	ErrMismatch error = &reason{"no signature matched"}
)

// reason is the type of the rejection sentinels. It matches ErrUnverified
// so that callers need not list every reason.
type reason struct{ text string }

func (r *reason) Error() string { return "verify: " + r.text }

func (r *reason) Is(target error) bool { return target == ErrUnverified }

// Error is the rejection returned by a [Verifier] built by [New]. Its
// message gives the reason for the rejection, but it never contains a
// secret or the signature that the verifier computed.
type Error struct {
	// Type is the scheme that rejected the request, such as "github".
	Type string
	// Header is the canonical name of the header at fault, or empty when
	// no single header is.
	Header string
	// Reason is one of ErrMissingHeader, ErrMalformedHeader, ErrStale or
	// ErrMismatch.
	Reason error

	message string
}

// Error returns a message such as
// "verify github: missing header X-Hub-Signature-256".
func (e *Error) Error() string { return "verify " + e.Type + ": " + e.message }

// Unwrap returns e.Reason.
func (e *Error) Unwrap() error { return e.Reason }

var (
	_ Verifier = VerifierFunc(nil)
	_ error    = (*Error)(nil)
)
