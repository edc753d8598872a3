package local_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/driver"
	"github.com/tether-go/tether/driver/drivertest"
	"github.com/tether-go/tether/driver/local"
)

func TestConformance(t *testing.T) {
	drivertest.Run(t, drivertest.Harness{
		Driver: local.New(nil),
		Reach:  func(e driver.Endpoint) string { return e.PublicURL },
	})
}

func TestEndpointUsesHostAndScheme(t *testing.T) {
	session, err := local.New(nil).Open(context.Background(), driver.Config{
		Settings: map[string]any{"host": "laptop.lan", "scheme": "https"},
	})
	require.NoError(t, err)
	defer session.Close()

	tunnel, err := session.Forward(context.Background(), driver.Forward{LocalPort: 8090})
	require.NoError(t, err)
	assert.Equal(t, driver.Endpoint{PublicURL: "https://laptop.lan:8090", PublicAddress: "laptop.lan:8090", Port: 8090},
		tunnel.Endpoint())
}

func TestRejectsRemotePortAndBadScheme(t *testing.T) {
	session, err := local.New(nil).Open(context.Background(), driver.Config{})
	require.NoError(t, err)
	defer session.Close()

	_, err = session.Forward(context.Background(), driver.Forward{LocalPort: 8090, RemotePort: 9834})
	assert.ErrorIs(t, err, driver.ErrInvalidConfig)

	_, err = local.New(nil).Open(context.Background(), driver.Config{Settings: map[string]any{"scheme": "ftp"}})
	assert.ErrorIs(t, err, driver.ErrInvalidConfig)
	assert.Contains(t, err.Error(), `"scheme" = "ftp"`)
}

func TestRegistered(t *testing.T) {
	d, err := driver.Lookup(local.Name)
	require.NoError(t, err)
	assert.NotNil(t, d)
}
