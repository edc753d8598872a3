package gateway_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/gateway"
)

func newLocal(t *testing.T, ports ...any) gateway.Gateway {
	t.Helper()
	cfg, err := gateway.ParseConfig(map[string]any{"type": "local", "port": ports})
	require.NoError(t, err)
	g, err := gateway.New(cfg, nil)
	require.NoError(t, err)
	return g
}

func TestGroupFindsGatewayByPort(t *testing.T) {
	group, err := gateway.NewGroup(newLocal(t, 8090), newLocal(t, 8091, 3000))
	require.NoError(t, err)
	defer group.Close()
	require.NoError(t, group.Start(context.Background()))

	assert.Equal(t, []int{3000, 8090, 8091}, group.Ports())
	e, err := group.Endpoint(context.Background(), 3000)
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:3000", e.PublicURL)

	_, err = group.Endpoint(context.Background(), 9999)
	assert.ErrorIs(t, err, gateway.ErrUnknownPort)
	assert.ErrorContains(t, err, "[3000 8090 8091]")

	require.NoError(t, group.Close())
	require.NoError(t, group.Close(), "closing twice is not an error for a group")
}

func TestGroupRejectsSharedPort(t *testing.T) {
	_, err := gateway.NewGroup(newLocal(t, 8090), newLocal(t, 8091, 8090))
	assert.ErrorIs(t, err, gateway.ErrInvalidPort)
	assert.ErrorContains(t, err, "local port 8090 is served by two gateways")
}
