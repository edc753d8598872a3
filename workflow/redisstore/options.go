package redisstore

import (
	"fmt"
	"log/slog"
	"time"
)

// Defaults of [Options].
const (
	DefaultKeyPrefix   = "tether:"
	DefaultRetention   = 24 * time.Hour
	DefaultPingTimeout = 5 * time.Second
)

// Options configures [New] and [Open]. A zero field takes its default, and
// a negative duration is rejected.
type Options struct {
	// KeyPrefix starts every key and the pub/sub channel, so that several
	// projects can share one Redis database. Default [DefaultKeyPrefix],
	// the same as the Redis waiter's, whose keys do not collide with the
	// store's.
	KeyPrefix string
	// Retention is how long the record of an ended run (completed, failed
	// or cancelled) is kept, counted from the save of its end state.
	// Records of runs in progress have no expiry. Default
	// [DefaultRetention].
	Retention time.Duration
	// PingTimeout bounds the PING and the SUBSCRIBE that [New] and [Open]
	// send to check the connection. Default [DefaultPingTimeout].
	PingTimeout time.Duration
	// Logger receives start, stop, resubscribe and error records, with
	// the run ids involved. Default: discard.
	Logger *slog.Logger
}

// withDefaults validates o and fills in the defaults. o may be nil.
func (o *Options) withDefaults() (Options, error) {
	var out Options
	if o != nil {
		out = *o
	}
	if out.Retention < 0 {
		return out, fmt.Errorf("invalid redis store option Retention=%s: use a positive duration, or zero for the default", out.Retention)
	}
	if out.Retention > 0 && out.Retention < time.Millisecond {
		return out, fmt.Errorf("invalid redis store option Retention=%s: use at least 1ms, the resolution of Redis expiry", out.Retention)
	}
	if out.PingTimeout < 0 {
		return out, fmt.Errorf("invalid redis store option PingTimeout=%s: use a positive duration, or zero for the default", out.PingTimeout)
	}
	if out.KeyPrefix == "" {
		out.KeyPrefix = DefaultKeyPrefix
	}
	if out.Retention == 0 {
		out.Retention = DefaultRetention
	}
	if out.PingTimeout == 0 {
		out.PingTimeout = DefaultPingTimeout
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	return out, nil
}
