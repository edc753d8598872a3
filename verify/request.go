package verify

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/tether-go/tether/clock"
)

// rejecter builds the errors of one scheme.
type rejecter string

func (t rejecter) missing(header string) error {
	return &Error{
		Type:    string(t),
		Header:  header,
		Reason:  ErrMissingHeader,
		message: "missing header " + header,
	}
}

func (t rejecter) malformed(header, format string, args ...any) error {
	return &Error{
		Type:    string(t),
		Header:  header,
		Reason:  ErrMalformedHeader,
		message: "malformed header " + header + ": " + fmt.Sprintf(format, args...),
	}
}

func (t rejecter) stale(header, format string, args ...any) error {
	return &Error{
		Type:    string(t),
		Header:  header,
		Reason:  ErrStale,
		message: "timestamp in header " + header + " " + fmt.Sprintf(format, args...),
	}
}

func (t rejecter) mismatch(header string) error {
	return &Error{
		Type:    string(t),
		Header:  header,
		Reason:  ErrMismatch,
		message: "no signature in header " + header + " matched",
	}
}

// header returns the single value of the named header. A header that is
// absent or empty is missing. A header sent more than once is malformed,
// because accepting any one of several values would let a sender add a
// value that the verifier never checks.
func (t rejecter) header(h http.Header, name string) (string, error) {
	values := h.Values(name)
	switch {
	case len(values) == 0 || (len(values) == 1 && values[0] == ""):
		return "", t.missing(name)
	case len(values) > 1:
		return "", t.malformed(name, "sent %d times, expected once", len(values))
	}
	return values[0], nil
}

// maxTimestampDigits bounds a Unix time in seconds. Nineteen digits
// overflow int64 for some values, so eighteen is the safe maximum.
const maxTimestampDigits = 18

// parseUnixSeconds parses a Unix time written as decimal digits only: no
// sign, no fraction, no spaces.
func parseUnixSeconds(s string) (int64, bool) {
	if s == "" || len(s) > maxTimestampDigits {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// window checks signed timestamps against the current time.
type window struct {
	clock     clock.Clock
	tolerance time.Duration
}

// check returns nil when the Unix time sec lies within the tolerance of
// now, in either direction. The error reports by how much it misses.
// The comparisons use time.Time, because a Duration between now and a
// timestamp centuries away saturates, and negating the saturated minimum
// overflows.
func (w window) check(t rejecter, header string, sec int64) error {
	now := w.clock.Now()
	signed := time.Unix(sec, 0)
	switch {
	case signed.Before(now.Add(-w.tolerance)):
		age := now.Sub(signed)
		return t.stale(header, "is %s old, outside the %s window by %s",
			roundSeconds(age), w.tolerance, roundSeconds(age-w.tolerance))
	case signed.After(now.Add(w.tolerance)):
		ahead := signed.Sub(now)
		return t.stale(header, "is %s in the future, outside the %s window by %s",
			roundSeconds(ahead), w.tolerance, roundSeconds(ahead-w.tolerance))
	}
	return nil
}

// roundSeconds rounds a positive d up to whole seconds, so that a miss
// of 300ms reads as 1s and not as 0s.
func roundSeconds(d time.Duration) time.Duration {
	rounded := d.Truncate(time.Second)
	if rounded < d && rounded <= math.MaxInt64-time.Second {
		rounded += time.Second
	}
	return rounded
}
