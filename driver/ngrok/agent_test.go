package ngrok

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.ngrok.com/ngrok/v2"
)

// TestSDKAgentConnectBounded runs the real SDK agent against a listener
// on loopback that drops every connection, so no traffic leaves the
// machine, and checks that Connect gives up at the deadline.
func TestSDKAgentConnectBounded(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()

	agent, err := newSDKAgentWith(AgentConfig{Authtoken: "tok-loopback", Logger: slog.New(slog.DiscardHandler)}, ngrok.WithAgentConnectURL(l.Addr().String()))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = agent.Connect(ctx)
	require.Error(t, err)
	assert.Less(t, time.Since(start), 10*time.Second)
	assert.NotContains(t, mapError(err, "tok-loopback").Error(), "tok-loopback")
	assert.NoError(t, agent.Disconnect())
}
