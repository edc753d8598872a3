package gateway_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/driver/drivertest"
	_ "github.com/tether-go/tether/driver/ssh"
	"github.com/tether-go/tether/gateway"
	"github.com/tether-go/tether/internal/sshdtest"
)

func localHTTP(t *testing.T, body string) int {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().(*net.TCPAddr).Port
}

// TestSSHGatewayPortForms opens an ssh-tunnel gateway, configured as a
// YAML decoder would produce it, against an sshd on loopback, with the
// "remote_host:remote:local" and "remote:local" port forms.
func TestSSHGatewayPortForms(t *testing.T) {
	s := sshdtest.Start(t, nil)
	first, second := localHTTP(t, "first"), localHTTP(t, "second")
	remoteFirst, remoteSecond := sshdtest.FreePort(t), sshdtest.FreePort(t)

	cfg, err := gateway.ParseConfig(map[string]any{
		"type": "ssh-tunnel",
		"port": []any{
			"127.0.0.1:" + strconv.Itoa(remoteFirst) + ":" + strconv.Itoa(first),
			"localhost:" + strconv.Itoa(remoteSecond) + ":" + strconv.Itoa(second),
		},
		"connection": map[string]any{
			"host": s.Host,
			"port": strconv.Itoa(s.Port), // environment values arrive as text
			"auth": map[string]any{"type": "keyfile", "username": s.User, "keyfile": s.ClientKeyFile},
		},
		"known_hosts": s.KnownHostsFile,
	})
	require.NoError(t, err)
	logs := &syncBuffer{}
	g, err := gateway.New(cfg, &gateway.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	require.NoError(t, err)
	defer g.Close()
	require.NoError(t, g.Start(context.Background()))

	for local, want := range map[int]string{first: "first", second: "second"} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		e, err := g.Endpoint(ctx, local)
		cancel()
		require.NoError(t, err)
		assert.Equal(t, local, e.Port)
		assert.True(t, strings.HasPrefix(e.PublicAddress, "127.0.0.1:"), e.PublicAddress)

		body, err := drivertest.Get(e.PublicURL, 5*time.Second)
		require.NoError(t, err)
		assert.Equal(t, want, body)
	}
	require.Eventually(t, func() bool {
		return strings.Contains(logs.String(), "gateway ssh: http://127.0.0.1:"+strconv.Itoa(remoteFirst)+" -> "+strconv.Itoa(first))
	}, 5*time.Second, 10*time.Millisecond, logs.String())
	require.NoError(t, g.Shutdown(context.Background()))
}
