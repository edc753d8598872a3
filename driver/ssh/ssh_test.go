package ssh_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/tether-go/tether/driver"
	"github.com/tether-go/tether/driver/drivertest"
	sshdriver "github.com/tether-go/tether/driver/ssh"
	"github.com/tether-go/tether/internal/sshdtest"
)

// keySettings returns settings that log in to s with its client key.
func keySettings(s *sshdtest.Server) map[string]any {
	return map[string]any{
		"connection": map[string]any{
			"host": s.Host,
			"port": s.Port,
			"auth": map[string]any{"type": "keyfile", "username": s.User, "keyfile": s.ClientKeyFile},
		},
		"known_hosts":        s.KnownHostsFile,
		"keepalive_interval": "500ms",
		"retry_interval":     "100ms",
		"max_retry_interval": "500ms",
		"connect_timeout":    "5s",
	}
}

func loopbackForward(t *testing.T, localPort int) driver.Forward {
	return driver.Forward{LocalPort: localPort, RemoteHost: "127.0.0.1", RemotePort: sshdtest.FreePort(t)}
}

func reach(e driver.Endpoint) string { return "http://" + e.PublicAddress }

// syncBuffer is a log destination that is safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func testLogger() (*slog.Logger, *syncBuffer) {
	buf := &syncBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

func localServer(t *testing.T, body string) int {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().(*net.TCPAddr).Port
}

func open(t *testing.T, settings map[string]any, logger *slog.Logger) driver.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	session, err := sshdriver.New(nil).Open(ctx, driver.Config{Settings: settings, Logger: logger})
	require.NoError(t, err)
	t.Cleanup(func() { _ = session.Close() })
	return session
}

func TestConformance(t *testing.T) {
	s := sshdtest.Start(t, nil)
	drivertest.Run(t, drivertest.Harness{
		Driver:   sshdriver.New(nil),
		Settings: keySettings(s),
		Forward:  loopbackForward,
		Reach:    reach,
	})
}

func TestRemoteToLocalPort(t *testing.T) {
	s := sshdtest.Start(t, nil)
	session := open(t, keySettings(s), nil)
	local := localServer(t, "from the local listener")
	remote := sshdtest.FreePort(t)

	ctx := context.Background()
	tunnel, err := session.Forward(ctx, driver.Forward{LocalPort: local, RemoteHost: "localhost", RemotePort: remote})
	require.NoError(t, err)
	e := tunnel.Endpoint()
	assert.Equal(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(remote)), e.PublicAddress)
	assert.Equal(t, "http://"+e.PublicAddress, e.PublicURL)
	assert.Equal(t, local, e.Port)

	body, err := drivertest.Get("http://"+e.PublicAddress, 5*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "from the local listener", body)
}

func TestPublicHostSetting(t *testing.T) {
	s := sshdtest.Start(t, nil)
	settings := keySettings(s)
	settings["public_host"] = "tunnel.example.com"
	session := open(t, settings, nil)
	remote := sshdtest.FreePort(t)

	tunnel, err := session.Forward(context.Background(),
		driver.Forward{LocalPort: localServer(t, "x"), RemoteHost: "127.0.0.1", RemotePort: remote})
	require.NoError(t, err)
	assert.Equal(t, "tunnel.example.com:"+strconv.Itoa(remote), tunnel.Endpoint().PublicAddress)
}

func TestHostKeyMismatchRejected(t *testing.T) {
	s := sshdtest.Start(t, nil)
	other, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	otherKey, err := ssh.NewPublicKey(other)
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{s.Addr()}, otherKey)
	require.NoError(t, os.WriteFile(file, []byte(line+"\n"), 0o600))

	settings := keySettings(s)
	settings["known_hosts"] = file
	_, err = sshdriver.New(nil).Open(context.Background(), driver.Config{Settings: settings})
	require.Error(t, err)
	assert.ErrorIs(t, err, sshdriver.ErrHostKey)
	assert.ErrorContains(t, err, "does not match the key in "+file+" line 1")
	assert.ErrorContains(t, err, ssh.FingerprintSHA256(s.HostKey))
}

func TestUnknownHostRejected(t *testing.T) {
	s := sshdtest.Start(t, nil)
	file := filepath.Join(t.TempDir(), "known_hosts")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	settings := keySettings(s)
	settings["known_hosts"] = file

	_, err := sshdriver.New(nil).Open(context.Background(), driver.Config{Settings: settings})
	assert.ErrorIs(t, err, sshdriver.ErrHostKey)
	assert.ErrorContains(t, err, "is not in "+file)
	assert.ErrorContains(t, err, "ssh-keyscan -p "+strconv.Itoa(s.Port))

	settings["known_hosts"] = filepath.Join(t.TempDir(), "missing")
	_, err = sshdriver.New(nil).Open(context.Background(), driver.Config{Settings: settings})
	assert.ErrorIs(t, err, sshdriver.ErrHostKey)
	assert.ErrorContains(t, err, "read known_hosts file")
}

func TestHashedKnownHostsEntry(t *testing.T) {
	s := sshdtest.Start(t, nil)
	file := filepath.Join(t.TempDir(), "known_hosts")
	hashed := knownhosts.HashHostname(knownhosts.Normalize(s.Addr()))
	line := knownhosts.Line([]string{hashed}, s.HostKey)
	require.NoError(t, os.WriteFile(file, []byte(line+"\n"), 0o600))
	settings := keySettings(s)
	settings["known_hosts"] = []any{file}

	open(t, settings, nil)
}

func TestKnownKeyTypePreferred(t *testing.T) {
	// The server offers ed25519 and RSA host keys, and known_hosts lists
	// only the RSA one. Without offering RSA first, the handshake would
	// pick ed25519 and fail the check.
	s := sshdtest.Start(t, &sshdtest.Options{RSAHostKey: true})
	file := filepath.Join(t.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{s.Addr()}, s.RSAHostKey)
	require.NoError(t, os.WriteFile(file, []byte(line+"\n"), 0o600))
	settings := keySettings(s)
	settings["known_hosts"] = file

	open(t, settings, nil)
}

func TestInsecureIgnoreHostKeyWarns(t *testing.T) {
	s := sshdtest.Start(t, nil)
	settings := keySettings(s)
	delete(settings, "known_hosts")
	settings["insecure_ignore_host_key"] = true
	logger, logs := testLogger()

	open(t, settings, logger)
	assert.Contains(t, logs.String(), "level=WARN")
	assert.Contains(t, logs.String(), "host key checking is off")
}

func TestWrongKeyRejectedAsAuth(t *testing.T) {
	s := sshdtest.Start(t, nil)
	_, private, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	block, err := ssh.MarshalPrivateKey(private, "")
	require.NoError(t, err)
	keyfile := filepath.Join(t.TempDir(), "other_key")
	require.NoError(t, os.WriteFile(keyfile, pem.EncodeToMemory(block), 0o600))

	settings := keySettings(s)
	settings["connection"].(map[string]any)["auth"].(map[string]any)["keyfile"] = keyfile
	_, err = sshdriver.New(nil).Open(context.Background(), driver.Config{Settings: settings})
	assert.ErrorIs(t, err, driver.ErrAuth)
}

func TestKeyfileHomeExpansionAndPassphrase(t *testing.T) {
	s := sshdtest.Start(t, nil)
	home := t.TempDir()
	t.Setenv("HOME", home)

	// An ECDSA key in legacy encrypted PEM: the OpenSSH format's bcrypt
	// key derivation takes many seconds under the race detector.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	//lint:ignore SA1019 legacy PEM encryption is what older keys use, and it is fast to parse.
	block, err := x509.EncryptPEMBlock(rand.Reader, "EC PRIVATE KEY", der, []byte("open sesame"), x509.PEMCipherAES128)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(home, "id_enc"), pem.EncodeToMemory(block), 0o600))
	public, err := ssh.NewPublicKey(&key.PublicKey)
	require.NoError(t, err)
	authorized, err := os.OpenFile(filepath.Join(s.Dir, "authorized_keys"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = authorized.Write(ssh.MarshalAuthorizedKey(public))
	require.NoError(t, err)
	require.NoError(t, authorized.Close())

	settings := keySettings(s)
	auth := settings["connection"].(map[string]any)["auth"].(map[string]any)
	auth["keyfile"] = "~/id_enc"

	_, err = sshdriver.New(nil).Open(context.Background(), driver.Config{Settings: settings})
	assert.ErrorIs(t, err, driver.ErrInvalidConfig)
	assert.ErrorContains(t, err, "passphrase")

	auth["passphrase"] = "wrong"
	_, err = sshdriver.New(nil).Open(context.Background(), driver.Config{Settings: settings})
	assert.ErrorIs(t, err, driver.ErrInvalidConfig)
	assert.NotContains(t, err.Error(), "wrong")

	auth["passphrase"] = "open sesame"
	open(t, settings, nil)
}

func TestPasswordAuth(t *testing.T) {
	srv := startFakeServer(t, "correct horse")
	settings := map[string]any{
		"connection": map[string]any{
			"host": "127.0.0.1",
			"port": srv.Port(),
			"auth": map[string]any{"type": "password", "username": "tester", "password": "wrong battery"},
		},
		"insecure_ignore_host_key": true,
	}
	_, err := sshdriver.New(nil).Open(context.Background(), driver.Config{Settings: settings})
	require.Error(t, err)
	assert.ErrorIs(t, err, driver.ErrAuth)
	assert.NotContains(t, err.Error(), "wrong battery")

	settings["connection"].(map[string]any)["auth"].(map[string]any)["password"] = "correct horse"
	session := open(t, settings, nil)
	local := localServer(t, "password tunnel")
	tunnel, err := session.Forward(context.Background(),
		driver.Forward{LocalPort: local, RemotePort: sshdtest.FreePort(t)})
	require.NoError(t, err)
	body, err := drivertest.Get("http://"+tunnel.Endpoint().PublicAddress, 5*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "password tunnel", body)
}

func TestForwardedAddressVariants(t *testing.T) {
	for _, reported := range []string{"0.0.0.0", "localhost", "127.0.0.1", "::", "requested.example"} {
		t.Run(reported, func(t *testing.T) {
			srv := startFakeServer(t, "pw")
			srv.ReportAddr = func(string) string { return reported }
			settings := map[string]any{
				"connection": map[string]any{
					"host": "127.0.0.1", "port": srv.Port(),
					"auth": map[string]any{"type": "password", "username": "u", "password": "pw"},
				},
				"insecure_ignore_host_key": true,
			}
			session := open(t, settings, nil)
			tunnel, err := session.Forward(context.Background(), driver.Forward{
				LocalPort: localServer(t, "reached"), RemoteHost: "requested.example", RemotePort: sshdtest.FreePort(t)})
			require.NoError(t, err)
			_, port, _ := net.SplitHostPort(tunnel.Endpoint().PublicAddress)
			body, err := drivertest.Get("http://127.0.0.1:"+port, 5*time.Second)
			require.NoError(t, err)
			assert.Equal(t, "reached", body)
		})
	}
}

func TestSSHDRestartReconnects(t *testing.T) {
	s := sshdtest.Start(t, nil)
	logger, logs := testLogger()
	session := open(t, keySettings(s), logger)
	tunnel, err := session.Forward(context.Background(), loopbackForward(t, localServer(t, "still here")))
	require.NoError(t, err)
	before := tunnel.Endpoint()

	body, err := drivertest.Get(reach(before), 5*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "still here", body)

	restarted := time.Now()
	s.Restart()

	body, err = drivertest.Get(reach(before), 15*time.Second)
	t.Logf("traffic flows again %s after sshd was killed (retry_interval 100ms)", time.Since(restarted).Round(time.Millisecond))
	require.NoError(t, err, "logs:\n%s\nsshd:\n%s", logs, s.Logs())
	assert.Equal(t, "still here", body)
	assert.Equal(t, before, tunnel.Endpoint(), "the public address is kept")
	assert.Contains(t, logs.String(), "connection lost")
	assert.Contains(t, logs.String(), "reconnected")
}

func TestKeepaliveDetectsFrozenServer(t *testing.T) {
	s := sshdtest.Start(t, nil)
	logger, logs := testLogger()
	settings := keySettings(s)
	settings["keepalive_interval"] = 100
	settings["keepalive_count"] = 3
	open(t, settings, logger)

	s.Freeze()
	defer s.Thaw()
	start := time.Now()
	require.Eventually(t, func() bool {
		return strings.Contains(logs.String(), "stopped answering keepalives")
	}, 5*time.Second, 10*time.Millisecond, "logs:\n%s", logs)
	t.Logf("frozen server noticed after %s (keepalive 100ms × 3)", time.Since(start).Round(time.Millisecond))
	// interval × count, plus slack for the race detector and scheduling.
	assert.Less(t, time.Since(start), 300*time.Millisecond+500*time.Millisecond)
}

func TestGivesUpAfterMaxRetryCount(t *testing.T) {
	s := sshdtest.Start(t, nil)
	settings := keySettings(s)
	settings["max_retry_count"] = 2
	session := open(t, settings, nil)
	tunnel, err := session.Forward(context.Background(), loopbackForward(t, localServer(t, "x")))
	require.NoError(t, err)

	s.Stop()
	select {
	case <-tunnel.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("tunnel still running after the retries were used up")
	}
	assert.ErrorContains(t, tunnel.Err(), "gave up after 2 attempts (max_retry_count)")

	_, err = session.Forward(context.Background(), loopbackForward(t, 8090))
	assert.ErrorContains(t, err, "gave up")
}

func TestForwardDeniedPortInUse(t *testing.T) {
	s := sshdtest.Start(t, nil)
	session := open(t, keySettings(s), nil)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	go func() {
		for {
			c, err := busy.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	port := busy.Addr().(*net.TCPAddr).Port

	_, err = session.Forward(context.Background(), driver.Forward{LocalPort: 8090, RemoteHost: "127.0.0.1", RemotePort: port})
	require.Error(t, err)
	assert.ErrorIs(t, err, sshdriver.ErrForwardDenied)
	assert.ErrorContains(t, err, fmt.Sprintf("port %d is already in use on the server", port))
}

func TestForwardDeniedByPolicy(t *testing.T) {
	s := sshdtest.Start(t, &sshdtest.Options{Config: []string{"AllowTcpForwarding no"}})
	session := open(t, keySettings(s), nil)

	_, err := session.Forward(context.Background(), loopbackForward(t, 8090))
	require.Error(t, err)
	assert.ErrorIs(t, err, sshdriver.ErrForwardDenied)
	assert.ErrorContains(t, err, "prohibits TCP forwarding")
}

func TestInvalidSettings(t *testing.T) {
	cases := map[string]map[string]any{
		"no connection":   {},
		"no host":         {"connection": map[string]any{"port": 22}},
		"bad port":        {"connection": map[string]any{"host": "h", "port": 70000}},
		"bad auth type":   {"connection": map[string]any{"host": "h", "auth": map[string]any{"type": "agent"}}},
		"empty password":  {"connection": map[string]any{"host": "h", "auth": map[string]any{"type": "password"}}},
		"bad keepalive":   {"connection": map[string]any{"host": "h"}, "keepalive_count": 0},
		"bad retry":       {"connection": map[string]any{"host": "h"}, "retry_interval": "soon"},
		"negative retry":  {"connection": map[string]any{"host": "h"}, "max_retry_count": -1},
		"unknown nested":  {"connection": map[string]any{"host": "h", "hots": "x"}},
		"insecure string": {"connection": map[string]any{"host": "h"}, "insecure_ignore_host_key": "maybe"},
	}
	for name, settings := range cases {
		t.Run(name, func(t *testing.T) {
			err := sshdriver.New(nil).Validate(driver.Config{Settings: settings})
			assert.ErrorIs(t, err, driver.ErrInvalidConfig)
		})
	}
}

func TestSecretsNotInErrors(t *testing.T) {
	settings := map[string]any{
		"connection": map[string]any{"host": "h", "auth": map[string]any{
			"type": "keyfile", "private_key": "-----BEGIN NOT A KEY----- s3cr3t-material", "passphrase": "pp-s3cr3t",
			"keyfile": "/nonexistent",
		}},
	}
	_, err := sshdriver.New(nil).Open(context.Background(), driver.Config{Settings: settings})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cr3t")

	delete(settings["connection"].(map[string]any)["auth"].(map[string]any), "keyfile")
	_, err = sshdriver.New(nil).Open(context.Background(), driver.Config{Settings: settings})
	require.Error(t, err)
	assert.ErrorIs(t, err, driver.ErrInvalidConfig)
	assert.NotContains(t, err.Error(), "s3cr3t")
}

func TestDeniedAfterReconnectIsLoggedAndRetried(t *testing.T) {
	s := sshdtest.Start(t, nil)
	logger, logs := testLogger()
	session := open(t, keySettings(s), logger)
	f := loopbackForward(t, localServer(t, "back again"))
	tunnel, err := session.Forward(context.Background(), f)
	require.NoError(t, err)

	// While sshd is down, something else takes the remote port, so the
	// forward is denied after the reconnect.
	s.Stop()
	// The per-connection sshd process may hold the port for a moment
	// after the server stops.
	var squatter net.Listener
	require.Eventually(t, func() bool {
		squatter, err = net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(f.RemotePort)))
		return err == nil
	}, 5*time.Second, 10*time.Millisecond, "the remote port is free after sshd stopped")
	s.Restart()

	require.Eventually(t, func() bool {
		return strings.Contains(logs.String(), "denied a remote forward after reconnecting")
	}, 10*time.Second, 10*time.Millisecond, "logs:\n%s", logs)
	assert.Contains(t, logs.String(), fmt.Sprintf("port %d is already in use on the server", f.RemotePort))
	time.Sleep(350 * time.Millisecond) // three more attempts at retry_interval 100ms
	assert.Equal(t, 1, strings.Count(logs.String(), "denied a remote forward after reconnecting"),
		"each reason is logged once")

	require.NoError(t, squatter.Close())
	body, err := drivertest.Get(reach(tunnel.Endpoint()), 10*time.Second)
	require.NoError(t, err, "logs:\n%s", logs)
	assert.Equal(t, "back again", body)
	assert.Contains(t, logs.String(), "remote forward bound after being denied")
}

func TestForwardWaitsForReconnect(t *testing.T) {
	s := sshdtest.Start(t, nil)
	session := open(t, keySettings(s), nil)
	s.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := session.Forward(ctx, loopbackForward(t, localServer(t, "x")))
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	s.Restart()
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tunnel, err := session.Forward(ctx, loopbackForward(t, localServer(t, "after the outage")))
	require.NoError(t, err)
	body, err := drivertest.Get(reach(tunnel.Endpoint()), 5*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "after the outage", body)
}
