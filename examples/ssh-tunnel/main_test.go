package main

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/driver/drivertest"
	"github.com/tether-go/tether/internal/sshdtest"
)

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

// TestRunAgainstLocalSSHD runs the example against an sshd that the test
// starts on loopback; it never reaches an outside host.
func TestRunAgainstLocalSSHD(t *testing.T) {
	s := sshdtest.Start(t, nil)
	remote := sshdtest.FreePort(t)
	env := map[string]string{
		"SSH_TUNNEL_HOST": s.Host,
		"SSH_TUNNEL_PORT": strconv.Itoa(s.Port),
		"SSH_USERNAME":    s.User,
		"SSH_KEYFILE":     s.ClientKeyFile,
		"SSH_KNOWN_HOSTS": s.KnownHostsFile,
		"SSH_REMOTE_PORT": strconv.Itoa(remote),
		"SSH_REMOTE_BIND": "127.0.0.1",
		"LOCAL_PORT":      strconv.Itoa(sshdtest.FreePort(t)),
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }, out) }()

	require.Eventually(t, func() bool { return strings.Contains(out.String(), "public address") },
		15*time.Second, 20*time.Millisecond)
	assert.Contains(t, out.String(), "public address: 127.0.0.1:"+strconv.Itoa(remote))
	body, err := drivertest.Get("http://127.0.0.1:"+strconv.Itoa(remote), 5*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "hello from tether through 127.0.0.1\n", body)

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

func TestRunNeedsHost(t *testing.T) {
	err := run(context.Background(), func(string) string { return "" }, &bytes.Buffer{})
	assert.ErrorContains(t, err, "SSH_TUNNEL_HOST is not set")
}
