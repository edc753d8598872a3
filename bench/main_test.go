package main

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/waiter"
)

func TestLoadDeliversToFloor(t *testing.T) {
	const n = 300
	f := &floor{}
	var chans []<-chan floorCallback
	for i := range n {
		chans = append(chans, f.expect(callbackID(i)))
	}
	srv, addr, err := startFloor(f)
	require.NoError(t, err)
	defer shutdown(srv)

	r := callbackLoad(addr, 0, n, 10*time.Second).run()
	require.NoError(t, r.firstErr)
	assert.Equal(t, n, r.done)
	assert.Zero(t, r.failures)
	assert.Equal(t, int64(n), f.delivered.Load())
	cb := <-chans[7]
	assert.Equal(t, "cb-7", cb.TaskID)
	assert.Equal(t, "https://cdn.example.test/results/4f9c2a7e-8d1b-4c3e-9a6f-2b7d5e8c1a90/image.png", cb.Output["url"])
}

func TestLoadDeliversToTether(t *testing.T) {
	const n = 300
	w := waiter.NewMemory(nil)
	defer w.Close()
	ctx := context.Background()
	var pending []waiter.Pending
	for i := range n {
		p, err := w.Expect(ctx, callbackID(i))
		require.NoError(t, err)
		pending = append(pending, p)
	}
	l, addr, err := startTether(w)
	require.NoError(t, err)
	defer shutdown(l)

	r := callbackLoad(addr, 0, n, 10*time.Second).run()
	require.NoError(t, r.firstErr)
	assert.Equal(t, n, r.done)
	assert.Zero(t, r.failures)
	assert.Equal(t, uint64(n), w.Stats().Delivered)
	o, err := pending[7].Wait(ctx)
	require.NoError(t, err)
	result, ok := o.Result.(map[string]any)
	require.True(t, ok, "result %T", o.Result)
	assert.Equal(t, "https://cdn.example.test/results/4f9c2a7e-8d1b-4c3e-9a6f-2b7d5e8c1a90/image.png", result["url"])
	assert.NotEmpty(t, result["sent_at"])
}

func TestLoadCountsFailures(t *testing.T) {
	f := &floor{} // no registrations, but the floor still replies 200
	srv, addr, err := startFloor(f)
	require.NoError(t, err)
	defer shutdown(srv)

	r := load{addr: addr, path: "/missing", count: 10, maxDuration: 5 * time.Second,
		body: func(buf []byte, i int) []byte { return append(buf, "{}"...) }}.run()
	require.NoError(t, r.firstErr)
	assert.Equal(t, 10, r.failures)
	assert.Zero(t, r.done)
}

func TestLoadStopsAtDeadline(t *testing.T) {
	f := &floor{}
	srv, addr, err := startFloor(f)
	require.NoError(t, err)
	defer shutdown(srv)

	start := time.Now()
	r := callbackLoad(addr, 0, math.MaxInt32, 200*time.Millisecond).run()
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Positive(t, r.done)
	assert.Less(t, r.done, math.MaxInt32)
}

func TestPercentile(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 100; i++ {
		lat = append(lat, time.Duration(i))
	}
	assert.Equal(t, time.Duration(50), percentile(lat, 50))
	assert.Equal(t, time.Duration(99), percentile(lat, 99))
	assert.Equal(t, time.Duration(100), percentile(lat, 100))
	assert.Zero(t, percentile(nil, 99))
}

func TestRowVerdict(t *testing.T) {
	tests := []struct {
		name string
		row  row
		want string
	}{
		{"ratio at least met", row{tether: 2, floor: 1, kind: ratioAtLeast, limit: 1}, "met"},
		{"ratio at least missed", row{tether: 0.9, floor: 1, kind: ratioAtLeast, limit: 1}, "MISSED"},
		{"ratio at most met", row{tether: 1.2, floor: 1, kind: ratioAtMost, limit: 1.2}, "met"},
		{"ratio at most missed", row{tether: 1.3, floor: 1, kind: ratioAtMost, limit: 1.2}, "MISSED"},
		{"value at most met", row{tether: 4, floor: math.NaN(), kind: valueAtMost, limit: 4}, "met"},
		{"value at most missed", row{tether: 4.1, floor: math.NaN(), kind: valueAtMost, limit: 4}, "MISSED"},
		{"no target", row{tether: 1, floor: 1}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.row.verdict())
		})
	}
}

func TestTablePrint(t *testing.T) {
	tab := &table{}
	tab.compare("1 intake", "callbacks/s", "req/s", 24000, 20000, ratioAtLeast, 1)
	tab.single("3 scale", "RSS per waiting run", "KiB", 5, valueAtMost, 4)
	tab.note("a note")
	var out strings.Builder
	tab.print(&out)
	text := out.String()
	assert.Contains(t, text, "24,000 req/s")
	assert.Contains(t, text, "1.20×")
	assert.Contains(t, text, "MISSED")
	assert.Contains(t, text, "- a note\n")
}

func TestGroupDigits(t *testing.T) {
	assert.Equal(t, "0", groupDigits(0))
	assert.Equal(t, "999", groupDigits(999))
	assert.Equal(t, "1,000", groupDigits(1000))
	assert.Equal(t, "1,234,567", groupDigits(1234567))
	assert.Equal(t, "-12,345", groupDigits(-12345))
}

func TestSelectScenarios(t *testing.T) {
	all, err := selectScenarios("")
	require.NoError(t, err)
	assert.Len(t, all, len(scenarios))

	some, err := selectScenarios("expr, intake")
	require.NoError(t, err)
	require.Len(t, some, 2)
	assert.Equal(t, "expr", some[0].name)
	assert.Equal(t, "intake", some[1].name)

	_, err = selectScenarios("nope")
	assert.ErrorContains(t, err, `unknown scenario "nope"`)
}
