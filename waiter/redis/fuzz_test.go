package redis

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/waiter"
)

func FuzzDecodeOutcome(f *testing.F) {
	for _, seed := range []string{
		`{"result":{"n":12345678901234567,"f":1.5}}`,
		`{"failed":true,"status":"failed","payload":{"error":"x"}}`,
		`{}`, `null`, `[]`, `{"result":1} {"result":2}`, `{"failed":"yes"}`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := decodeOutcome(b)
		if err != nil {
			return
		}
		// What decodes must encode and decode to the same JSON.
		again, err := json.Marshal(o)
		require.NoError(t, err)
		o2, err := decodeOutcome(again)
		require.NoError(t, err)
		again2, err := json.Marshal(o2)
		require.NoError(t, err)
		assert.JSONEq(t, string(again), string(again2))
	})
}

func TestDecodeOutcomeKeepsBigIntegers(t *testing.T) {
	o, err := decodeOutcome([]byte(`{"result":{"n":12345678901234567}}`))
	require.NoError(t, err)
	m, ok := o.Result.(map[string]any)
	require.True(t, ok)
	assert.Equal(t, json.Number("12345678901234567"), m["n"])
}

func TestDecodeOutcomeRejectsTrailingData(t *testing.T) {
	_, err := decodeOutcome([]byte(`{"result":1} {"result":2}`))
	assert.ErrorContains(t, err, "data after the JSON value")
}

var _ waiter.Waiter = (*Waiter)(nil)
