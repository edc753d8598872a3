package redisstore

import (
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
