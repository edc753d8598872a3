// Package clock abstracts time so that timeouts and retention windows in
// tether can be driven by a fake clock in tests.
//
// Production code uses [Real]; tests substitute a fake whose Advance method
// fires timers without sleeping (see the tethertest package).
package clock

import "time"

// Clock reports the time and schedules functions. Implementations must be
// safe for concurrent use.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has elapsed, unless
	// the returned Timer is stopped first.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending call scheduled by [Clock.AfterFunc].
type Timer interface {
	// Stop prevents the call from running. It returns false if the call
	// has already run or been stopped.
	Stop() bool
}

// Real returns the wall clock, backed by package time.
func Real() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) Timer {
	return time.AfterFunc(d, f)
}

// Or returns c, or the wall clock when c is nil.
func Or(c Clock) Clock {
	if c == nil {
		return Real()
	}
	return c
}
