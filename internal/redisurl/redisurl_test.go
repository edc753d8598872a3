package redisurl

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func FuzzParseURL(f *testing.F) {
	for _, seed := range []string{
		"redis://127.0.0.1:6379/0", "rediss://user:pw@host:6380/1", "unix:///tmp/redis.sock",
		"redis://", "http://x", "redis://:pw@h:1/x", "redis://h:1/0?dial_timeout=3s&bogus=1", "%zz",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		_, err := Parse(raw)
		if err == nil {
			return
		}
		u, perr := url.Parse(raw)
		if perr != nil || u.User == nil {
			return
		}
		// An error must not show the password in the user information.
		if pw, ok := u.User.Password(); ok && pw != "" && !strings.Contains("xxxxx", pw) {
			assert.NotContains(t, err.Error(), ":"+pw+"@")
		}
	})
}

func TestParseURLAcceptsSchemes(t *testing.T) {
	for _, raw := range []string{"redis://127.0.0.1:6379/2", "rediss://h:6380", "unix:///tmp/redis.sock?db=1"} {
		_, err := Parse(raw)
		assert.NoError(t, err, raw)
	}
}

func FuzzParseLongPassword(f *testing.F) {
	f.Add("redis://127.0.0.1:6379/0")
	f.Add("redis://user:secret@127.0.0.1:6379/2")
	f.Add("rediss://[::1]:6380")
	f.Add("unix:///tmp/redis.sock")
	f.Add("redis://:long-secret@127.0.0.1:6379/x")
	f.Fuzz(func(t *testing.T, raw string) {
		_, err := Parse(raw)
		if err == nil {
			return
		}
		u, parseErr := url.Parse(raw)
		if parseErr != nil {
			return
		}
		// A short password may also occur in the host or path, so only
		// longer ones that the redacted URL does not contain are checked.
		if pw, ok := u.User.Password(); ok && len(pw) >= 8 && !strings.Contains(u.Redacted(), pw) {
			assert.NotContains(t, err.Error(), pw, "the password is redacted")
		}
	})
}
