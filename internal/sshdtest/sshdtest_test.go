//go:build unix

package sshdtest_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/tether-go/tether/internal/sshdtest"
)

func dial(t *testing.T, s *sshdtest.Server) (*ssh.Client, error) {
	key, err := os.ReadFile(s.ClientKeyFile)
	require.NoError(t, err)
	signer, err := ssh.ParsePrivateKey(key)
	require.NoError(t, err)
	callback, err := knownhosts.New(s.KnownHostsFile)
	require.NoError(t, err)
	return ssh.Dial("tcp", s.Addr(), &ssh.ClientConfig{
		User:            s.User,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: callback,
		Timeout:         5 * time.Second,
	})
}

func TestLoginAndRestart(t *testing.T) {
	s := sshdtest.Start(t, nil)

	client, err := dial(t, s)
	require.NoError(t, err, "sshd log:\n%s", s.Logs())
	done := make(chan error, 1)
	go func() { done <- client.Wait() }()

	s.Restart()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the client connection survived a restart of sshd")
	}

	again, err := dial(t, s)
	require.NoError(t, err, "sshd log:\n%s", s.Logs())
	assert.NoError(t, again.Close())
}
