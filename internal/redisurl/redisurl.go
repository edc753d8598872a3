// Package redisurl parses the Redis URLs that tether's Redis-backed
// waiter and run store accept, without ever repeating a password in an
// error.
package redisurl

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// Parse turns a redis://, rediss:// or unix:// URL into go-redis client
// options, checking the scheme, host and socket path first. Errors show the URL with its password replaced by "xxxxx".
func Parse(raw string) (*goredis.Options, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// The url.Error would repeat the URL, password included.
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return nil, fmt.Errorf("parse redis URL: %w; expected redis://[user:password@]host:port[/db]", err)
	}
	switch u.Scheme {
	case "redis", "rediss":
		if u.Hostname() == "" {
			return nil, fmt.Errorf("parse redis URL %s: the host is missing; expected redis://[user:password@]host:port[/db]", u.Redacted())
		}
	case "unix":
		if u.Path == "" {
			return nil, fmt.Errorf("parse redis URL %s: the socket path is missing; expected unix:///path/to/redis.sock", u.Redacted())
		}
	default:
		return nil, fmt.Errorf("parse redis URL %s: unsupported scheme %q; use redis://, rediss:// or unix://", u.Redacted(), u.Scheme)
	}
	opts, err := goredis.ParseURL(raw)
	if err != nil {
		msg := err.Error()
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
		return nil, fmt.Errorf("parse redis URL %s: %s", u.Redacted(), msg)
	}
	return opts, nil
}
