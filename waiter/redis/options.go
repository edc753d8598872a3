package redis

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/tether-go/tether/waiter"
)

// Defaults of [Options].
const (
	DefaultKeyPrefix   = "tether:"
	DefaultLease       = 15 * time.Second
	DefaultPingTimeout = 5 * time.Second
)

// Options configures [New] and [Open]. A zero field takes its default, and
// a negative duration or count is rejected.
type Options struct {
	// KeyPrefix starts every key and the pub/sub channel, so that several
	// projects can share one Redis database. Default [DefaultKeyPrefix].
	KeyPrefix string
	// Retention is how long an outcome is kept in Redis, counted from
	// Deliver, when no wait receives it. Default [waiter.DefaultRetention].
	Retention time.Duration
	// MaxStored is the maximum number of outcomes that arrived before any
	// Expect and are kept at once, counted across all replicas. Over it,
	// Deliver returns [waiter.ErrFull]. Default [waiter.DefaultMaxStored].
	MaxStored int
	// DuplicateRetention is how long an id stays marked as delivered, so
	// that a second outcome for it is reported as [waiter.Duplicate].
	// Default Retention.
	DuplicateRetention time.Duration
	// Lease is how long a registration outlives the replica that made it.
	// Each replica renews its registrations every Lease/3 and, in the same
	// pass, claims any outcome whose notification it missed. After a
	// replica crashes, its ids can be expected elsewhere once the lease
	// runs out. Default [DefaultLease].
	Lease time.Duration
	// PingTimeout bounds the PING that [New] and [Open] send to check the
	// connection. Default [DefaultPingTimeout].
	PingTimeout time.Duration
	// Logger receives start, resubscribe, retry and error records, with
	// the ids involved. Default: discard.
	Logger *slog.Logger
}

// withDefaults validates o and fills in the defaults. o may be nil.
func (o *Options) withDefaults() (Options, error) {
	var out Options
	if o != nil {
		out = *o
	}
	durations := []struct {
		name  string
		value time.Duration
	}{
		{"Retention", out.Retention},
		{"DuplicateRetention", out.DuplicateRetention},
		{"Lease", out.Lease},
		{"PingTimeout", out.PingTimeout},
	}
	for _, d := range durations {
		if d.value < 0 {
			return out, fmt.Errorf("invalid redis waiter option %s=%s: use a positive duration, or zero for the default", d.name, d.value)
		}
	}
	if out.MaxStored < 0 {
		return out, fmt.Errorf("invalid redis waiter option MaxStored=%d: use a positive count, or zero for the default", out.MaxStored)
	}
	if out.Lease > 0 && out.Lease < 30*time.Millisecond {
		return out, fmt.Errorf("invalid redis waiter option Lease=%s: use at least 30ms, because the lease is renewed every Lease/3", out.Lease)
	}

	if out.KeyPrefix == "" {
		out.KeyPrefix = DefaultKeyPrefix
	}
	if out.Retention == 0 {
		out.Retention = waiter.DefaultRetention
	}
	if out.MaxStored == 0 {
		out.MaxStored = waiter.DefaultMaxStored
	}
	if out.DuplicateRetention == 0 {
		out.DuplicateRetention = out.Retention
	}
	if out.Lease == 0 {
		out.Lease = DefaultLease
	}
	if out.PingTimeout == 0 {
		out.PingTimeout = DefaultPingTimeout
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	return out, nil
}
