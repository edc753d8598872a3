package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tether-go/tether/internal/redistest"
	"github.com/tether-go/tether/workflow"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var ctx = context.Background()

var prefixSeq atomic.Uint64

// uniquePrefix returns a key prefix that no other store of this test
// binary uses, so that tests sharing a server do not see each other.
func uniquePrefix() string {
	return fmt.Sprintf("test%d-%d:", time.Now().UnixNano(), prefixSeq.Add(1))
}

// newTestStore returns a store with its own client, both closed when the test
// ends.
func newTestStore(t testing.TB, srv *redistest.Server, opts *Options) *Store {
	t.Helper()
	client := goredis.NewClient(&goredis.Options{Addr: srv.Addr})
	s, err := New(client, opts)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = s.Close()
		_ = client.Close()
	})
	return s
}

func testRun(id, workflowID string, state workflow.State, created time.Time) *workflow.Run {
	return &workflow.Run{
		ID:         id,
		WorkflowID: workflowID,
		State:      state,
		Input:      map[string]any{"n": 1},
		Jobs:       []workflow.JobRun{{ID: "a", State: state}},
		CreatedAt:  created,
		UpdatedAt:  created,
	}
}

func TestSaveGetRoundTrip(t *testing.T) {
	srv := redistest.Start(t, nil)
	s := newTestStore(t, srv, &Options{KeyPrefix: uniquePrefix()})
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	run := testRun("r1", "wf", workflow.StateProcessing, created)
	run.Output = map[string]any{"big": json.Number("9007199254740993")}
	require.NoError(t, s.Save(ctx, run))

	got, err := s.Get(ctx, "r1")
	require.NoError(t, err)
	assert.Equal(t, "wf", got.WorkflowID)
	assert.Equal(t, workflow.StateProcessing, got.State)
	assert.True(t, created.Equal(got.CreatedAt))
	assert.Equal(t, json.Number("9007199254740993"), got.Output.(map[string]any)["big"], "integers keep every digit")

	got.State = workflow.StateFailed
	again, err := s.Get(ctx, "r1")
	require.NoError(t, err)
	assert.Equal(t, workflow.StateProcessing, again.State, "Get returns a copy")

	_, err = s.Get(ctx, "missing")
	assert.ErrorIs(t, err, workflow.ErrUnknownRun)
}

func TestSaveNotJSON(t *testing.T) {
	srv := redistest.Start(t, nil)
	s := newTestStore(t, srv, &Options{KeyPrefix: uniquePrefix()})
	run := testRun("r1", "wf", workflow.StateCompleted, time.Now())
	run.Output = func() {}
	var unsupported *json.UnsupportedTypeError
	assert.ErrorAs(t, s.Save(ctx, run), &unsupported, "the engine detects encoding errors with errors.As")
}

func TestListNewestFirstWithFilters(t *testing.T) {
	srv := redistest.Start(t, nil)
	s := newTestStore(t, srv, &Options{KeyPrefix: uniquePrefix()})
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	// 600 runs span three List pages.
	for i := range 600 {
		wf := "even"
		if i%2 == 1 {
			wf = "odd"
		}
		state := workflow.StateCompleted
		if i%3 == 0 {
			state = workflow.StateProcessing
		}
		require.NoError(t, s.Save(ctx, testRun(fmt.Sprintf("r%03d", i), wf, state, base.Add(time.Duration(i)*time.Millisecond))))
	}

	all, err := s.List(ctx, workflow.Query{})
	require.NoError(t, err)
	require.Len(t, all, 600)
	assert.Equal(t, "r599", all[0].ID, "newest first")
	assert.Equal(t, "r000", all[599].ID)

	odd, err := s.List(ctx, workflow.Query{WorkflowID: "odd", Limit: 3})
	require.NoError(t, err)
	require.Len(t, odd, 3)
	assert.Equal(t, []string{"r599", "r597", "r595"}, []string{odd[0].ID, odd[1].ID, odd[2].ID})

	processing, err := s.List(ctx, workflow.Query{WorkflowID: "even", State: workflow.StateProcessing})
	require.NoError(t, err)
	assert.Len(t, processing, 100, "every sixth run is even and processing")
	for _, run := range processing {
		assert.Equal(t, workflow.StateProcessing, run.State)
		assert.Equal(t, "even", run.WorkflowID)
	}

	none, err := s.List(ctx, workflow.Query{WorkflowID: "other"})
	require.NoError(t, err)
	assert.Empty(t, none)
}

func TestRetentionOfEndedRuns(t *testing.T) {
	srv := redistest.Start(t, nil)
	prefix := uniquePrefix()
	s := newTestStore(t, srv, &Options{KeyPrefix: prefix, Retention: 50 * time.Millisecond})
	now := time.Now()
	require.NoError(t, s.Save(ctx, testRun("ended", "wf", workflow.StateCompleted, now)))
	require.NoError(t, s.Save(ctx, testRun("live", "wf", workflow.StateProcessing, now)))

	require.Eventually(t, func() bool {
		_, err := s.Get(ctx, "ended")
		return err != nil
	}, 5*time.Second, 10*time.Millisecond, "the ended run expires")
	_, err := s.Get(ctx, "live")
	assert.NoError(t, err, "a run in progress does not expire")

	runs, err := s.List(ctx, workflow.Query{})
	require.NoError(t, err)
	require.Len(t, runs, 1)
	assert.Equal(t, "live", runs[0].ID)
	members, err := s.client.ZRange(ctx, prefix+"runs", 0, -1).Result()
	require.NoError(t, err)
	assert.Equal(t, []string{"live"}, members, "List removes index entries of expired runs")
}

func TestPruneIndex(t *testing.T) {
	srv := redistest.Start(t, nil)
	prefix := uniquePrefix()
	s := newTestStore(t, srv, &Options{KeyPrefix: prefix})
	now := time.Now()
	require.NoError(t, s.Save(ctx, testRun("kept", "wf", workflow.StateProcessing, now)))
	require.NoError(t, s.client.ZAdd(ctx, prefix+"runs", goredis.Z{Score: 1, Member: "gone"}).Err())

	s.pruneIndex(ctx)
	members, err := s.client.ZRange(ctx, prefix+"runs", 0, -1).Result()
	require.NoError(t, err)
	assert.Equal(t, []string{"kept"}, members)
}

func TestKeyPrefixIsolates(t *testing.T) {
	srv := redistest.Start(t, nil)
	a := newTestStore(t, srv, &Options{KeyPrefix: uniquePrefix()})
	b := newTestStore(t, srv, &Options{KeyPrefix: uniquePrefix()})
	require.NoError(t, a.Save(ctx, testRun("r1", "wf", workflow.StateProcessing, time.Now())))

	_, err := b.Get(ctx, "r1")
	assert.ErrorIs(t, err, workflow.ErrUnknownRun)
	runs, err := b.List(ctx, workflow.Query{})
	require.NoError(t, err)
	assert.Empty(t, runs)
}

func TestWatchEndAcrossStores(t *testing.T) {
	srv := redistest.Start(t, nil)
	prefix := uniquePrefix()
	a := newTestStore(t, srv, &Options{KeyPrefix: prefix})
	b := newTestStore(t, srv, &Options{KeyPrefix: prefix})
	run := testRun("r1", "wf", workflow.StateProcessing, time.Now())
	require.NoError(t, a.Save(ctx, run))

	ended, stop := b.WatchEnd("r1")
	defer stop()
	require.NoError(t, a.Save(ctx, run), "a save in progress does not notify")
	select {
	case <-ended:
		t.Fatal("end watch woken by a save of a run in progress")
	case <-time.After(50 * time.Millisecond):
	}

	run.State = workflow.StateCompleted
	require.NoError(t, a.Save(ctx, run))
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("end watch not woken by the save of the end state")
	}
}

func TestCancelRequestAcrossStores(t *testing.T) {
	srv := redistest.Start(t, nil)
	prefix := uniquePrefix()
	a := newTestStore(t, srv, &Options{KeyPrefix: prefix})
	b := newTestStore(t, srv, &Options{KeyPrefix: prefix})

	fired := make(chan string, 2)
	stop := a.WatchCancel("r1", func() { fired <- "r1" })
	defer stop()
	stopOther := a.WatchCancel("r2", func() { fired <- "r2" })
	stopOther()

	require.NoError(t, b.RequestCancel(ctx, "r2"))
	require.NoError(t, b.RequestCancel(ctx, "r1"))
	select {
	case id := <-fired:
		assert.Equal(t, "r1", id, "a stopped watch is not called")
	case <-time.After(5 * time.Second):
		t.Fatal("cancel watch not called")
	}
}

func TestCatchUpAfterResubscribe(t *testing.T) {
	srv := redistest.Start(t, nil)
	s := newTestStore(t, srv, &Options{KeyPrefix: uniquePrefix()})
	fired := make(chan struct{}, 1)
	stop := s.WatchCancel("r1", func() { fired <- struct{}{} })
	defer stop()
	ended, stopEnd := s.WatchEnd("r1")
	defer stopEnd()
	// A request whose event this store missed.
	require.NoError(t, s.client.Set(ctx, s.cancelKey("r1"), "1", time.Minute).Err())

	s.catchUp()
	select {
	case <-fired:
	default:
		t.Fatal("stored cancel request not applied after resubscribing")
	}
	select {
	case <-ended:
	default:
		t.Fatal("end watch not woken after resubscribing")
	}
}

func TestRestartKeepsRunsAndEvents(t *testing.T) {
	srv := redistest.Start(t, nil)
	prefix := uniquePrefix()
	a := newTestStore(t, srv, &Options{KeyPrefix: prefix})
	b := newTestStore(t, srv, &Options{KeyPrefix: prefix})
	run := testRun("r1", "wf", workflow.StateProcessing, time.Now())
	require.NoError(t, a.Save(ctx, run))

	require.NoError(t, srv.Restart())
	fired := make(chan struct{}, 1)
	stop := a.WatchCancel("r1", func() { fired <- struct{}{} })
	defer stop()
	require.Eventually(t, func() bool { return b.RequestCancel(ctx, "r1") == nil }, 10*time.Second, 20*time.Millisecond)
	select {
	case <-fired:
	case <-time.After(10 * time.Second):
		t.Fatal("cancel request not received after the restart")
	}
	got, err := b.Get(ctx, "r1")
	require.NoError(t, err)
	assert.Equal(t, workflow.StateProcessing, got.State, "the record survives the restart")
}

func TestEnginesShareRuns(t *testing.T) {
	srv := redistest.Start(t, nil)
	prefix := uniquePrefix()
	release := make(chan struct{})
	started := make(chan string, 2)
	block := workflow.Func(func(ctx context.Context, input any) (any, error) {
		started <- "started"
		select {
		case <-release:
			return "released", nil
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	})
	engines := make([]*workflow.Engine, 2)
	for i := range engines {
		e := workflow.New(&workflow.Options{Store: newTestStore(t, srv, &Options{KeyPrefix: prefix})})
		t.Cleanup(func() { _ = e.Close() })
		require.NoError(t, e.AddComponent("block", block))
		require.NoError(t, e.AddWorkflow(&workflow.Workflow{ID: "block", Component: "block"}))
		engines[i] = e
	}
	a, b := engines[0], engines[1]

	cancelled, err := a.Start(ctx, "block", nil)
	require.NoError(t, err)
	<-started
	require.NoError(t, b.Cancel(ctx, cancelled.ID))
	got, err := b.Get(ctx, cancelled.ID)
	require.NoError(t, err)
	assert.Equal(t, workflow.StateCancelled, got.State)

	completed, err := a.Start(ctx, "block", nil)
	require.NoError(t, err)
	<-started
	waited := make(chan *workflow.Run, 1)
	go func() {
		run, err := b.Wait(ctx, completed.ID)
		assert.NoError(t, err)
		waited <- run
	}()
	time.Sleep(20 * time.Millisecond)
	close(release)
	select {
	case run := <-waited:
		assert.Equal(t, workflow.StateCompleted, run.State)
		assert.Equal(t, "released", run.Output)
	case <-time.After(5 * time.Second):
		t.Fatal("Wait on the other engine did not return within 5s of the run's end")
	}

	runs, err := b.List(ctx, workflow.Query{WorkflowID: "block"})
	require.NoError(t, err)
	require.Len(t, runs, 2)
	assert.Equal(t, completed.ID, runs[0].ID, "newest first")
}

func TestOpen(t *testing.T) {
	srv := redistest.Start(t, nil)
	s, err := Open(ctx, srv.URL, &Options{KeyPrefix: uniquePrefix()})
	require.NoError(t, err)
	require.NoError(t, s.Save(ctx, testRun("r1", "wf", workflow.StatePending, time.Now())))
	assert.NoError(t, s.Close())
	assert.ErrorIs(t, s.Close(), ErrClosed)
	assert.ErrorIs(t, s.RequestCancel(ctx, "r1"), ErrClosed)
}

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func TestOpenUnreachable(t *testing.T) {
	addr := closedPort(t)
	_, err := Open(ctx, "redis://:s3cr3t-pw@"+addr+"/0", &Options{PingTimeout: time.Second})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ping redis at "+addr, "error names the address")
	assert.Contains(t, err.Error(), "check that Redis runs there")
	assert.NotContains(t, err.Error(), "s3cr3t-pw")
}

func TestOpenInvalidURL(t *testing.T) {
	tests := []struct {
		url  string
		want string
	}{
		{"http://127.0.0.1:6379", `unsupported scheme "http"`},
		{"redis://", "the host is missing"},
		{"unix://", "the socket path is missing"},
		{"redis://:pw@127.0.0.1:6379/notanumber", "invalid database number"},
		{"redis://127.0.0.1:6379/0\x7f", "invalid control character"},
	}
	for _, tt := range tests {
		_, err := Open(ctx, tt.url, nil)
		if assert.Error(t, err, tt.url) {
			assert.Contains(t, err.Error(), tt.want, tt.url)
			assert.NotContains(t, err.Error(), ":pw@", "the password is redacted")
		}
	}
}

func TestInvalidOptions(t *testing.T) {
	tests := []struct {
		opts Options
		want string
	}{
		{Options{Retention: -time.Second}, "Retention=-1s"},
		{Options{Retention: time.Microsecond}, "at least 1ms"},
		{Options{PingTimeout: -time.Second}, "PingTimeout=-1s"},
	}
	for _, tt := range tests {
		_, err := Open(ctx, "redis://127.0.0.1:1/0", &tt.opts)
		if assert.Error(t, err) {
			assert.Contains(t, err.Error(), tt.want)
		}
	}
}

func TestCancelRequestDuringLostSubscription(t *testing.T) {
	srv := redistest.Start(t, nil)
	prefix := uniquePrefix()
	a := newTestStore(t, srv, &Options{KeyPrefix: prefix})
	b := newTestStore(t, srv, &Options{KeyPrefix: prefix})
	fired := make(chan struct{}, 1)
	stop := a.WatchCancel("r1", func() { fired <- struct{}{} })
	defer stop()

	// Dropping the subscriptions loses the events published until
	// go-redis has subscribed again; the stored request covers them.
	require.NoError(t, b.client.Do(ctx, "CLIENT", "KILL", "TYPE", "pubsub").Err())
	require.NoError(t, b.RequestCancel(ctx, "r1"))
	select {
	case <-fired:
	case <-time.After(10 * time.Second):
		t.Fatal("cancel request sent while the subscription was down never arrived")
	}
}

func TestEndDuringLostSubscription(t *testing.T) {
	srv := redistest.Start(t, nil)
	prefix := uniquePrefix()
	a := newTestStore(t, srv, &Options{KeyPrefix: prefix})
	b := newTestStore(t, srv, &Options{KeyPrefix: prefix})
	run := testRun("r1", "wf", workflow.StateProcessing, time.Now())
	require.NoError(t, a.Save(ctx, run))
	ended, stop := b.WatchEnd("r1")
	defer stop()

	require.NoError(t, a.client.Do(ctx, "CLIENT", "KILL", "TYPE", "pubsub").Err())
	run.State = workflow.StateCompleted
	require.NoError(t, a.Save(ctx, run))
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("end watch not woken after the subscription came back")
	}
}
