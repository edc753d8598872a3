package cloudflare_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tether-go/tether/driver"
	"github.com/tether-go/tether/driver/cloudflare"
	"github.com/tether-go/tether/driver/drivertest"
)

var fakePath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fakecloudflared-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fakePath = filepath.Join(dir, "cloudflared")
	build := exec.Command("go", "build", "-o", fakePath, "./testdata/fakecloudflared")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build fake cloudflared:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	if code == 0 {
		// Fail if a goroutine outlives the tests.
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// fake sets the fake's mode and state directory for this test and
// returns settings that run it.
func fake(t *testing.T, mode string) (map[string]any, string) {
	dir := t.TempDir()
	t.Setenv("FAKE_CF_MODE", mode)
	t.Setenv("FAKE_CF_DIR", dir)
	return map[string]any{
		"cloudflared":   fakePath,
		"url_timeout":   "10s",
		"restart_delay": 50,
	}, dir
}

func forward(t *testing.T, settings map[string]any) (driver.Session, driver.Tunnel, error) {
	t.Helper()
	session, err := cloudflare.New(nil).Open(context.Background(), driver.Config{Settings: settings})
	require.NoError(t, err)
	t.Cleanup(func() { _ = session.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	tunnel, err := session.Forward(ctx, driver.Forward{LocalPort: 8090})
	return session, tunnel, err
}

func readRun(t *testing.T, dir, kind string, run int) string {
	data, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%s-%d", kind, run)))
	require.NoError(t, err)
	return string(data)
}

func alive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}

func TestConformance(t *testing.T) {
	drivertest.Run(t, drivertest.Harness{
		Driver: cloudflare.New(nil),
		SettingsFunc: func(t *testing.T) map[string]any {
			settings, _ := fake(t, "proxy")
			return settings
		},
		Reach: proxyURL,
	})
}

// proxyURL maps the fake's public URL, https://run-N-pPORT.trycloudflare.com,
// to its proxy on loopback port PORT.
func proxyURL(e driver.Endpoint) string {
	host := strings.TrimPrefix(e.PublicURL, "https://")
	label := strings.Split(host, ".")[0]
	port := label[strings.LastIndex(label, "-p")+2:]
	return "http://127.0.0.1:" + port
}

func TestURLFromEachSource(t *testing.T) {
	for _, mode := range []string{"new", "old", "metrics"} {
		t.Run(mode, func(t *testing.T) {
			settings, _ := fake(t, mode)
			_, tunnel, err := forward(t, settings)
			require.NoError(t, err)
			assert.Equal(t, driver.Endpoint{
				PublicURL:     "https://run-1-fake.trycloudflare.com",
				PublicAddress: "run-1-fake.trycloudflare.com:443",
				Port:          8090,
			}, tunnel.Endpoint())
		})
	}
}

func TestNoURLCarriesLastLines(t *testing.T) {
	settings, _ := fake(t, "nourl")
	_, _, err := forward(t, settings)
	require.Error(t, err)
	assert.ErrorIs(t, err, cloudflare.ErrNoURL)
	assert.ErrorContains(t, err, "cloudflared exited")
	assert.ErrorContains(t, err, "Error unmarshaling QuickTunnel response")
	assert.ErrorContains(t, err, "see https://api.trycloudflare.com for status")
}

func TestURLTimeout(t *testing.T) {
	settings, dir := fake(t, "hang")
	settings["url_timeout"] = 300
	_, _, err := forward(t, settings)
	require.Error(t, err)
	assert.ErrorIs(t, err, cloudflare.ErrNoURL)
	assert.ErrorContains(t, err, "after 300ms (url_timeout)")

	pid, err := strconv.Atoi(readRun(t, dir, "pid", 1))
	require.NoError(t, err)
	assert.False(t, alive(pid), "cloudflared pid %d still runs after the timeout", pid)
}

func TestFloodDoesNotStall(t *testing.T) {
	settings, _ := fake(t, "flood")
	start := time.Now()
	_, tunnel, err := forward(t, settings)
	require.NoError(t, err)
	assert.Equal(t, "https://run-1-fake.trycloudflare.com", tunnel.Endpoint().PublicURL)
	t.Logf("URL found after 200 KB of output in %s", time.Since(start))
}

func TestProcessGoneAfterClose(t *testing.T) {
	settings, dir := fake(t, "new")
	session, tunnel, err := forward(t, settings)
	require.NoError(t, err)
	pid, err := strconv.Atoi(readRun(t, dir, "pid", 1))
	require.NoError(t, err)
	assert.True(t, alive(pid))

	require.NoError(t, tunnel.Close())
	assert.False(t, alive(pid), "cloudflared pid %d still runs after Close", pid)
	require.NoError(t, session.Close())
}

func TestSessionCloseStopsProcesses(t *testing.T) {
	settings, dir := fake(t, "new")
	session, err := cloudflare.New(nil).Open(context.Background(), driver.Config{Settings: settings})
	require.NoError(t, err)
	for _, port := range []int{8090, 8091} {
		_, err := session.Forward(context.Background(), driver.Forward{LocalPort: port})
		require.NoError(t, err)
	}
	require.NoError(t, session.Close())
	for run := 1; run <= 2; run++ {
		pid, err := strconv.Atoi(readRun(t, dir, "pid", run))
		require.NoError(t, err)
		assert.False(t, alive(pid), "run %d pid %d", run, pid)
	}
}

func TestRestartAfterCrashPublishesNewURL(t *testing.T) {
	settings, dir := fake(t, "crash")
	_, tunnel, err := forward(t, settings)
	require.NoError(t, err)
	assert.Equal(t, "https://run-1-fake.trycloudflare.com", tunnel.Endpoint().PublicURL)

	select {
	case <-tunnel.Changed():
	case <-time.After(10 * time.Second):
		t.Fatal("no new endpoint after cloudflared crashed")
	}
	assert.Equal(t, "https://run-2-fake.trycloudflare.com", tunnel.Endpoint().PublicURL)
	first, err := strconv.Atoi(readRun(t, dir, "pid", 1))
	require.NoError(t, err)
	assert.False(t, alive(first))
	assert.NoError(t, tunnel.Err())
}

func TestQuickTunnelIsolation(t *testing.T) {
	settings, dir := fake(t, "new")
	t.Setenv("TUNNEL_TOKEN", "inherited-token")
	home := t.TempDir()
	t.Setenv("HOME", home)
	require.NoError(t, os.MkdirAll(filepath.Join(home, ".cloudflared"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(home, ".cloudflared", "config.yml"), []byte("tunnel: other\n"), 0o600))

	_, _, err := forward(t, settings)
	require.NoError(t, err)
	args := readRun(t, dir, "args", 1)
	assert.Contains(t, args, "token=false", "TUNNEL_ variables are not passed to a quick tunnel")
	assert.Contains(t, args, "--config ")
	assert.NotContains(t, args, filepath.Join(home, ".cloudflared"))
	assert.Contains(t, args, "--url http://127.0.0.1:8090")
	assert.Contains(t, args, "--no-autoupdate")
	assert.NotContains(t, args, " run")
}

func TestNamedTunnelByToken(t *testing.T) {
	settings, dir := fake(t, "named")
	settings["token"] = "eyJ-secret-token"
	settings["hostname"] = "api.example.com"
	session, tunnel, err := forward(t, settings)
	require.NoError(t, err)
	assert.Equal(t, "https://api.example.com", tunnel.Endpoint().PublicURL)

	args := readRun(t, dir, "args", 1)
	assert.Contains(t, args, "token=true")
	assert.Contains(t, args, " run")
	assert.NotContains(t, args, "eyJ-secret-token")

	_, err = session.Forward(context.Background(), driver.Forward{LocalPort: 8091})
	assert.ErrorIs(t, err, driver.ErrInvalidConfig)
	assert.ErrorContains(t, err, "named tunnel serves one local port")
}

func TestNamedTunnelByCredentialsFile(t *testing.T) {
	settings, dir := fake(t, "named")
	credentials := filepath.Join(t.TempDir(), "tunnel.json")
	require.NoError(t, os.WriteFile(credentials, []byte("{}"), 0o600))
	settings["tunnel"] = "my-tunnel"
	settings["credentials_file"] = credentials
	settings["hostname"] = "hooks.example.com"

	_, tunnel, err := forward(t, settings)
	require.NoError(t, err)
	assert.Equal(t, "https://hooks.example.com", tunnel.Endpoint().PublicURL)
	args := readRun(t, dir, "args", 1)
	assert.Contains(t, args, "run --credentials-file "+credentials+" my-tunnel")
}

func TestCloudflaredMissing(t *testing.T) {
	d := cloudflare.New(&cloudflare.Options{LookPath: func(string) (string, error) {
		return "", exec.ErrNotFound
	}})
	_, err := d.Open(context.Background(), driver.Config{})
	assert.ErrorIs(t, err, cloudflare.ErrNotInstalled)
	assert.ErrorContains(t, err, "set the cloudflared setting")

	_, err = d.Open(context.Background(), driver.Config{Settings: map[string]any{
		"cloudflared": filepath.Join(t.TempDir(), "nope"),
	}})
	assert.ErrorIs(t, err, cloudflare.ErrNotInstalled)
}

func TestInvalidSettings(t *testing.T) {
	cases := map[string]map[string]any{
		"token and tunnel":       {"token": "t", "tunnel": "x", "credentials_file": "/c", "hostname": "h"},
		"tunnel without creds":   {"tunnel": "x", "hostname": "h"},
		"creds without tunnel":   {"credentials_file": "/c", "hostname": "h"},
		"named without hostname": {"token": "t"},
		"quick with hostname":    {"hostname": "h"},
		"bad timeout":            {"url_timeout": "soon"},
		"negative restarts":      {"max_restarts": -1},
	}
	for name, settings := range cases {
		t.Run(name, func(t *testing.T) {
			err := cloudflare.New(nil).Validate(driver.Config{Settings: settings})
			assert.ErrorIs(t, err, driver.ErrInvalidConfig)
		})
	}
	err := cloudflare.New(nil).Validate(driver.Config{Settings: map[string]any{"token": "tok-s3cr3t"}})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "tok-s3cr3t")
}

func TestGivesUpAfterMaxRestarts(t *testing.T) {
	settings, dir := fake(t, "crash")
	settings["max_restarts"] = 1
	settings["url_timeout"] = 300
	_, tunnel, err := forward(t, settings)
	require.NoError(t, err)
	// From the second run on, the fake prints its URL and keeps running,
	// so make later runs fail to report one.
	t.Setenv("FAKE_CF_MODE", "hang")
	_ = dir

	select {
	case <-tunnel.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("tunnel still running")
	}
	assert.ErrorContains(t, tunnel.Err(), "gave up after 1 attempts (max_restarts)")
	assert.True(t, errors.Is(tunnel.Err(), cloudflare.ErrNoURL))
}

func TestEndpointFailsWithoutPortPrefix(t *testing.T) {
	settings, _ := fake(t, "new")
	session, err := cloudflare.New(nil).Open(context.Background(), driver.Config{Settings: settings})
	require.NoError(t, err)
	defer session.Close()
	_, err = session.Forward(context.Background(), driver.Forward{LocalPort: 8090, RemotePort: 9834})
	assert.ErrorIs(t, err, driver.ErrInvalidConfig)
	assert.True(t, strings.Contains(err.Error(), "only the local port"))
}
