package driver_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/driver"
	"github.com/tether-go/tether/driver/drivertest"
)

func TestCustomDriverConformance(t *testing.T) {
	drivertest.Run(t, drivertest.Harness{
		Driver:   fixedDriver{},
		Settings: map[string]any{"base_url": "https://hooks.example.com"},
	})
}

func TestRegistryNormalizesNames(t *testing.T) {
	r := driver.NewRegistry()
	r.Register(" Fixed ", fixedDriver{})

	d, err := r.Lookup("FIXED")
	require.NoError(t, err)
	assert.NotNil(t, d)
	assert.Equal(t, []string{"fixed"}, r.Drivers())
}

func TestRegistryPanics(t *testing.T) {
	r := driver.NewRegistry()
	r.Register("fixed", fixedDriver{})

	assert.PanicsWithValue(t, "driver: Register called twice for driver fixed", func() {
		r.Register("FIXED", fixedDriver{})
	})
	assert.Panics(t, func() { r.Register("", fixedDriver{}) })
	assert.Panics(t, func() { r.Register("nil", nil) })
}

func TestRegistryUnknownListsKnown(t *testing.T) {
	var r driver.Registry // the zero value is usable
	r.Register("b", fixedDriver{})
	r.Register("a", fixedDriver{})

	_, err := r.Open(context.Background(), "c", driver.Config{})
	require.Error(t, err)
	assert.ErrorIs(t, err, driver.ErrUnknownDriver)
	assert.Contains(t, err.Error(), "known drivers: a, b")
}

func TestSettingsTypes(t *testing.T) {
	s := driver.NewSettings(map[string]any{
		"int_float":  float64(22),
		"int_string": " 2222 ",
		"int_frac":   1.5,
		"ms":         1500,
		"dur":        "2m",
		"dur_ms":     "250",
		"dur_neg":    "-1s",
		"yes":        "true",
		"no":         false,
		"list":       []any{"a", "b"},
		"one":        "c",
		"bad_list":   []any{"a", 1},
		"nested":     map[string]any{"inner": "x", "extra": 1},
		"nil_value":  nil,
	})
	assert.Equal(t, 22, s.Int("int_float", 0))
	assert.Equal(t, 2222, s.Int("int_string", 0))
	assert.Equal(t, 7, s.Int("int_frac", 7))
	assert.Equal(t, 1500*time.Millisecond, s.Duration("ms", 0))
	assert.Equal(t, 2*time.Minute, s.Duration("dur", 0))
	assert.Equal(t, 250*time.Millisecond, s.Duration("dur_ms", 0))
	assert.Equal(t, time.Second, s.Duration("dur_neg", time.Second))
	assert.True(t, s.Bool("yes", false))
	assert.False(t, s.Bool("no", true))
	assert.Equal(t, []string{"a", "b"}, s.Strings("list"))
	assert.Equal(t, []string{"c"}, s.Strings("one"))
	assert.Equal(t, []string{"a"}, s.Strings("bad_list"))
	assert.Equal(t, "x", s.Map("nested").String("inner", ""))
	assert.Equal(t, "def", s.String("nil_value", "def"))
	assert.Equal(t, "def", s.String("absent", "def"))

	err := s.Err()
	require.Error(t, err)
	assert.ErrorIs(t, err, driver.ErrInvalidConfig)
	for _, want := range []string{`"int_frac"`, `"dur_neg"`, `"bad_list[1]"`, `"nested.extra": unknown setting`} {
		assert.Contains(t, err.Error(), want)
	}
	assert.NotContains(t, err.Error(), `"list"`)
}

func TestSettingsSecretNeverPrinted(t *testing.T) {
	s := driver.NewSettings(map[string]any{"token": []any{"s3cr3t-value"}})
	_ = s.Secret("token")
	err := s.Err()
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cr3t")
}

func TestExpandHome(t *testing.T) {
	t.Setenv("HOME", "/home/tester")
	for in, want := range map[string]string{
		"~":             "/home/tester",
		"~/.ssh/id_rsa": "/home/tester/.ssh/id_rsa",
		"/abs/~/x":      "/abs/~/x",
		"~other/x":      "~other/x",
	} {
		got, err := driver.ExpandHome(in)
		require.NoError(t, err)
		assert.Equal(t, want, got, in)
	}
}

func TestTunnelStateChanges(t *testing.T) {
	var s driver.TunnelState
	changed := s.Changed()
	ready := s.Ready()

	assert.True(t, s.Set(driver.Endpoint{PublicURL: "http://a", Port: 1}))
	assertClosed(t, changed)
	assertClosed(t, ready)

	changed = s.Changed()
	assert.False(t, s.Set(driver.Endpoint{PublicURL: "http://a", Port: 1}), "same endpoint is no change")
	select {
	case <-changed:
		t.Fatal("Changed closed without a change")
	default:
	}

	assert.True(t, s.Fail(assert.AnError))
	assertClosed(t, changed)
	assertClosed(t, s.Done())
	assert.ErrorIs(t, s.Err(), assert.AnError)
	assert.False(t, s.Stop(), "second stop")
	assert.False(t, s.Set(driver.Endpoint{PublicURL: "http://b"}), "Set after stop")
	assert.Equal(t, "http://a", s.Endpoint().PublicURL)
}

func TestEndpointField(t *testing.T) {
	e := driver.Endpoint{PublicURL: "https://x", PublicAddress: "x:443", Port: 8090}
	for name, want := range map[string]any{"public_url": "https://x", "public_address": "x:443", "port": 8090} {
		got, ok := e.Field(name)
		assert.True(t, ok, name)
		assert.Equal(t, want, got, name)
	}
	_, ok := e.Field("url")
	assert.False(t, ok)
}

func assertClosed(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(time.Second):
		t.Fatal("channel not closed")
	}
}
