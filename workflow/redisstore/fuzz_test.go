package redisstore

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func FuzzDecodeRun(f *testing.F) {
	f.Add([]byte(`{"id":"r1","workflow_id":"wf","state":"completed","jobs":[],"created_at":"2026-01-02T03:04:05Z","updated_at":"2026-01-02T03:04:05Z"}`))
	f.Add([]byte(`{"id":"r1","output":{"n":12345678901234567890}}`))
	f.Add([]byte(`{} {}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, data []byte) {
		run, err := decodeRun(data)
		if err == nil && run == nil {
			t.Fatal("nil run without an error")
		}
	})
}

func TestDecodeRunRejectsTrailingData(t *testing.T) {
	_, err := decodeRun([]byte(`{"id":"a"} {"id":"b"}`))
	assert.ErrorContains(t, err, "unexpected data")
}

func FuzzParseURL(f *testing.F) {
	f.Add("redis://127.0.0.1:6379/0")
	f.Add("redis://user:secret@127.0.0.1:6379/2")
	f.Add("rediss://[::1]:6380")
	f.Add("unix:///tmp/redis.sock")
	f.Add("redis://:long-secret@127.0.0.1:6379/x")
	f.Fuzz(func(t *testing.T, raw string) {
		_, err := parseURL(raw)
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
