package redistest_test

import (
	"context"
	"fmt"
	"net"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/internal/redistest"
)

func TestServerKeepsDataAcrossRestart(t *testing.T) {
	srv := redistest.Start(t, nil)
	ctx := context.Background()
	opts, err := redis.ParseURL(srv.URL)
	require.NoError(t, err)
	assert.Equal(t, srv.Addr, opts.Addr)

	client := redis.NewClient(opts)
	defer client.Close()
	require.NoError(t, client.Set(ctx, "k", "v", 0).Err())

	require.NoError(t, srv.Restart())
	got, err := client.Get(ctx, "k").Result()
	require.NoError(t, err, "the client reconnects after the restart")
	assert.Equal(t, "v", got)

	srv.Stop()
	srv.Stop() // a second Stop does nothing
	_, err = net.Dial("tcp", srv.Addr)
	assert.Error(t, err, "nothing listens after Stop")

	require.NoError(t, srv.StartAgain())
	got, err = client.Get(ctx, "k").Result()
	require.NoError(t, err)
	assert.Equal(t, "v", got, "data survive Stop and StartAgain")
	assert.Error(t, srv.StartAgain(), "StartAgain on a running server")
}

func TestServerBindsLoopback(t *testing.T) {
	srv := redistest.Start(t, &redistest.Options{Args: []string{"--databases", "2"}})
	host, _, err := net.SplitHostPort(srv.Addr)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", host)

	client := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer client.Close()
	cfg, err := client.ConfigGet(context.Background(), "databases").Result()
	require.NoError(t, err)
	assert.Equal(t, "2", cfg["databases"], "extra arguments reach the server")
}

// recordingTB records Skip and Fatal calls instead of ending the test, so
// that Start's handling of a missing binary can be checked.
type recordingTB struct {
	testing.TB
	skipped string
	failed  string
}

func (r *recordingTB) Helper()                           {}
func (r *recordingTB) Skip(args ...any)                  { r.skipped = fmt.Sprint(args...) }
func (r *recordingTB) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

func TestStartMissingBinary(t *testing.T) {
	opts := &redistest.Options{Binary: "/nonexistent/redis-server"}

	t.Setenv("CI", "")
	rec := &recordingTB{TB: t}
	assert.Nil(t, redistest.Start(rec, opts))
	assert.Contains(t, rec.skipped, "install", "skip message says what to do")
	assert.Empty(t, rec.failed)

	t.Setenv("CI", "true")
	rec = &recordingTB{TB: t}
	assert.Nil(t, redistest.Start(rec, opts))
	assert.Contains(t, rec.failed, "install", "failure says what to do")
	assert.Contains(t, rec.failed, "CI=true")
	assert.Empty(t, rec.skipped)
}
