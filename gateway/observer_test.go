package gateway_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/driver"
	"github.com/tether-go/tether/gateway"
)

func nextState(t *testing.T, ch <-chan gateway.TunnelStatus) gateway.TunnelStatus {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("no tunnel state reported within 5s")
		return gateway.TunnelStatus{}
	}
}

func TestOnTunnelUpAndClosed(t *testing.T) {
	states := make(chan gateway.TunnelStatus, 4)
	cfg, err := gateway.ParseConfig(map[string]any{"type": "local", "port": 8090})
	require.NoError(t, err)
	g, err := gateway.New(cfg, &gateway.Options{OnTunnel: func(s gateway.TunnelStatus) { states <- s }})
	require.NoError(t, err)

	require.NoError(t, g.Start(context.Background()))
	up := nextState(t, states)
	require.NoError(t, g.Close())
	down := nextState(t, states)

	assert.Equal(t, gateway.TunnelStatus{Driver: "local", Port: 8090, Up: true}, up)
	assert.Equal(t, gateway.TunnelStatus{Driver: "local", Port: 8090, Up: false}, down)
}

func TestOnTunnelStopped(t *testing.T) {
	states := make(chan gateway.TunnelStatus, 4)
	tun := &fakeTunnel{}
	d := &fakeDriver{OpenFunc: func(ctx context.Context, cfg driver.Config) (driver.Session, error) {
		return &fakeSession{ForwardFunc: func(ctx context.Context, f driver.Forward) (driver.Tunnel, error) {
			tun.Set(driver.Endpoint{PublicURL: "https://a.test", Port: f.LocalPort})
			return tun, nil
		}}, nil
	}}
	g, err := gateway.New(gateway.Config{Driver: "fake", Ports: []gateway.PortMapping{{LocalPort: 8090}}},
		&gateway.Options{Registry: registryWith("fake", d), OnTunnel: func(s gateway.TunnelStatus) { states <- s }})
	require.NoError(t, err)
	defer g.Close()
	require.NoError(t, g.Start(context.Background()))

	assert.True(t, nextState(t, states).Up)
	tun.Fail(fmt.Errorf("connection lost"))
	down := nextState(t, states)

	assert.False(t, down.Up)
	assert.EqualError(t, down.Err, "connection lost")
}

func TestOnTunnelOpenFailed(t *testing.T) {
	states := make(chan gateway.TunnelStatus, 4)
	d := &fakeDriver{OpenFunc: func(ctx context.Context, cfg driver.Config) (driver.Session, error) {
		return nil, driver.ErrAuth
	}}
	g, err := gateway.New(gateway.Config{Driver: "x", Ports: []gateway.PortMapping{{LocalPort: 8090}}},
		&gateway.Options{Registry: registryWith("x", d), OnTunnel: func(s gateway.TunnelStatus) { states <- s }})
	require.NoError(t, err)
	defer g.Close()

	require.Error(t, g.Start(context.Background()))
	s := nextState(t, states)

	assert.False(t, s.Up)
	assert.ErrorIs(t, s.Err, driver.ErrAuth)
}
