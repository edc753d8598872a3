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
// selects when it is not the in-memory default. It opens no waiter when
// Options.Waiter is set and no run store when Options.Store is set.
//
// New reports the returned error under the path "state", so each message
// starts with the field below it, such as "url: ...".
func openSharedState(p *Project) error {
	if p.cfg.State.Type != "redis" {
		return fmt.Errorf("type: unsupported state type %q; use memory or redis", p.cfg.State.Type)
	}
	return openRedisState(p)
}

// openRedisState opens the Redis waiter and the Redis run store, each
// unless the host program supplied one, with one PING each bounded by 5
// seconds. Both use the same key prefix, because their keys do not
// collide.
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
	var opened *redis.Waiter
	if p.opts.Waiter != nil {
		p.waiter = p.opts.Waiter
	} else {
		opened, err = redis.Open(ctx, url, &redis.Options{KeyPrefix: prefix, Retention: retention, Logger: p.log})
		if err != nil {
			return fmt.Errorf("open redis waiter: %w", err)
		}
		p.waiter = opened
		p.ownsWaiter = true
	}
	if p.opts.Store != nil {
		return nil
	}

	store, err := redisstore.Open(ctx, url, &redisstore.Options{KeyPrefix: prefix, Retention: retention, Logger: p.log})
	if err != nil {
		if opened != nil {
			_ = opened.Close()
			p.waiter = nil
			p.ownsWaiter = false
		}
		return fmt.Errorf("open redis run store: %w", err)
	}
	p.opts.Store = store
	p.closers = append(p.closers, store.Close)
	return nil
}
