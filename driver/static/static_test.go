package static_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/driver"
	"github.com/tether-go/tether/driver/drivertest"
	"github.com/tether-go/tether/driver/static"
)

func TestConformance(t *testing.T) {
	drivertest.Run(t, drivertest.Harness{
		Driver:   static.New(nil),
		Settings: map[string]any{"public_url": "https://api.example.com"},
	})
}

func TestEndpoints(t *testing.T) {
	cases := []struct {
		name     string
		settings map[string]any
		port     int
		want     driver.Endpoint
	}{
		{"https default port", map[string]any{"public_url": "https://api.example.com"}, 8090,
			driver.Endpoint{PublicURL: "https://api.example.com", PublicAddress: "api.example.com:443", Port: 8090}},
		{"http default port", map[string]any{"public_url": "http://api.example.com/base"}, 8090,
			driver.Endpoint{PublicURL: "http://api.example.com/base", PublicAddress: "api.example.com:80", Port: 8090}},
		{"explicit port", map[string]any{"public_url": "https://api.example.com:8443"}, 8090,
			driver.Endpoint{PublicURL: "https://api.example.com:8443", PublicAddress: "api.example.com:8443", Port: 8090}},
		{"per port", map[string]any{"public_urls": map[string]any{"8091": "https://b.example.com"},
			"public_url": "https://a.example.com"}, 8091,
			driver.Endpoint{PublicURL: "https://b.example.com", PublicAddress: "b.example.com:443", Port: 8091}},
		{"per port falls back", map[string]any{"public_urls": map[string]any{"8091": "https://b.example.com"},
			"public_url": "https://a.example.com"}, 8090,
			driver.Endpoint{PublicURL: "https://a.example.com", PublicAddress: "a.example.com:443", Port: 8090}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			session, err := static.New(nil).Open(context.Background(), driver.Config{Settings: tc.settings})
			require.NoError(t, err)
			defer session.Close()
			tunnel, err := session.Forward(context.Background(), driver.Forward{LocalPort: tc.port})
			require.NoError(t, err)
			assert.Equal(t, tc.want, tunnel.Endpoint())
		})
	}
}

func TestInvalidSettings(t *testing.T) {
	cases := map[string]map[string]any{
		"missing":      nil,
		"relative":     {"public_url": "/callback"},
		"ftp":          {"public_url": "ftp://example.com"},
		"bad port key": {"public_urls": map[string]any{"http": "https://a.example.com"}},
		"bad port url": {"public_urls": map[string]any{"8090": "nope"}},
		"not a map":    {"public_urls": "https://a.example.com"},
	}
	for name, settings := range cases {
		t.Run(name, func(t *testing.T) {
			err := static.New(nil).Validate(driver.Config{Settings: settings})
			assert.ErrorIs(t, err, driver.ErrInvalidConfig)
		})
	}
}

func TestMissingPortURL(t *testing.T) {
	session, err := static.New(nil).Open(context.Background(), driver.Config{
		Settings: map[string]any{"public_urls": map[string]any{"8091": "https://b.example.com"}},
	})
	require.NoError(t, err)
	defer session.Close()
	_, err = session.Forward(context.Background(), driver.Forward{LocalPort: 8090})
	assert.ErrorIs(t, err, driver.ErrInvalidConfig)
	assert.Contains(t, err.Error(), "8090")
}
