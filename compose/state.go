package compose

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tether-go/tether/waiter/redis"
	"github.com/tether-go/tether/workflow/redisstore"
)

// openSharedState opens the waiter and run store that Config.State
// selects when it is not the in-memory default. It is called only when
// Options.Waiter is nil. A run store is opened only when Options.Store is
// nil too.
//
// The errors read after the "state: " that New puts before them.
func openSharedState(p *Project) error {
	if p.cfg.State.Type != "redis" {
		return fmt.Errorf("type: unsupported state type %q; use memory or redis", p.cfg.State.Type)
	}
	return openRedisState(p)
}

// openRedisState opens the Redis waiter and, unless the host program
// supplied a store, the Redis run store, with one PING each bounded by
// redis.DefaultPingTimeout. Both use the same key prefix, because their
// keys do not collide.
func openRedisState(p *Project) error {
	url, err := p.expandString("url", p.cfg.State.URL)
	if err != nil {
		return err
	}
	url = strings.TrimSpace(url)
	if url == "" {
		return errors.New("url: missing Redis URL for state type redis; set url: redis://host:6379/0")
	}
	prefix, err := p.expandString("key_prefix", p.cfg.State.KeyPrefix)
	if err != nil {
		return err
	}
	retention := p.dur("state.retention", p.cfg.State.Retention)

	ctx := context.Background()
	w, err := redis.Open(ctx, url, &redis.Options{KeyPrefix: prefix, Retention: retention, Logger: p.log})
	if err != nil {
		return fmt.Errorf("open redis waiter: %w", err)
	}
	p.waiter = w
	p.ownsWaiter = true
	if p.opts.Store != nil {
		return nil
	}

	store, err := redisstore.Open(ctx, url, &redisstore.Options{KeyPrefix: prefix, Retention: retention, Logger: p.log})
	if err != nil {
		_ = w.Close()
		p.waiter = nil
		p.ownsWaiter = false
		return fmt.Errorf("open redis run store: %w", err)
	}
	p.opts.Store = store
	p.closers = append(p.closers, store.Close)
	return nil
}
