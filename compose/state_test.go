package compose_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/compose"
	"github.com/tether-go/tether/internal/redistest"
	"github.com/tether-go/tether/waiter"
	"github.com/tether-go/tether/waiter/redis"
	"github.com/tether-go/tether/workflow"
	"github.com/tether-go/tether/workflow/redisstore"
)

// replicaYAML is one replica of a project that keeps its waits and runs
// in Redis. The workflow posts to an asynchronous API and waits for the
// callback with the id ${input.key}, so that a test can deliver outcomes
// before the runs start. A trigger starts the same workflow.
const replicaYAML = `
state:
  type: redis
  url: ${env.REDIS_URL}
  key_prefix: ${env.PREFIX}
controller:
  type: http-server
  port: 8080
listeners:
  - type: http-callback
    port: 8090
    path: /done
    identify_by: ${body.key}
    status: ${body.status}
    success_when: [completed]
    fail_when: [failed]
    result: ${body.output}
  - type: http-trigger
    port: 8091
    path: /start
    workflow: async
    input:
      key: ${body.key}
      value: ${body.value}
component:
  type: http-client
  base_url: ${env.API_URL}
  path: /tasks
  body:
    key: ${input.key}
    value: ${input.value}
  completion:
    type: callback
    wait_for: ${input.key}
    timeout: ${env.WAIT | 20s}
  output: ${result}
workflow:
  id: async
  input: ${input}
  output: ${output}
`

var prefixSeq atomic.Uint64

// replicas starts two projects of replicaYAML that share srv under one
// fresh key prefix, with API_URL pointing at api.
func replicas(t *testing.T, srv *redistest.Server, apiURL string) (a, b *testProject) {
	t.Helper()
	env := map[string]string{
		"REDIS_URL": srv.URL,
		"PREFIX":    fmt.Sprintf("compose%d-%d:", time.Now().UnixNano(), prefixSeq.Add(1)),
		"API_URL":   apiURL,
	}
	return startProject(t, replicaYAML, env), startProject(t, replicaYAML, env)
}

func (tp *testProject) doneURL() string {
	return "http://" + tp.ListenerAddr(8090).String() + "/done"
}

func (tp *testProject) redisStats(t *testing.T) waiter.Stats {
	t.Helper()
	w, ok := tp.Waiter().(*redis.Waiter)
	require.True(t, ok, "state type redis selects the Redis waiter, got %T", tp.Waiter())
	return w.Stats()
}

// runAll runs the workflow on tp once per key, concurrently, and reports
// every run that did not complete with the value times two.
func runAll(t *testing.T, tp *testProject, keys []string) {
	t.Helper()
	var wg sync.WaitGroup
	for i, key := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			run, err := tp.Run(ctx, "async", map[string]any{"key": key, "value": i})
			if err != nil {
				t.Errorf("run %s: %v", key, err)
				return
			}
			if got := fmt.Sprint(run.Output); got != fmt.Sprint(i*2) {
				t.Errorf("run %s: output %s, want %d", key, got, i*2)
			}
		}()
	}
	wg.Wait()
}

func makeKeys(prefix string, n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%s-%04d", prefix, i)
	}
	return keys
}

// postUntilAccepted posts a callback until it gets 200, for at most 20
// seconds, and returns the reply.
func postUntilAccepted(t *testing.T, url string, body map[string]any) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, reply := post(t, url, body)
		if code == http.StatusOK {
			return reply
		}
		if time.Now().After(deadline) {
			t.Errorf("callback %v to %s: status %d: %s", body["key"], url, code, reply)
			return reply
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRedisStateCallbacksToOtherReplica(t *testing.T) {
	const n = 1000
	srv := redistest.Start(t, nil)
	var b *testProject
	var replies sync.Map // reply body by "key/replica"
	api := newAsyncAPI(t, nil)
	api.behave = func(task map[string]any) {
		key := task["key"].(string)
		value, _ := task["value"].(float64)
		body := map[string]any{"key": key, "status": "completed", "output": value * 2}
		deliver := func() {
			_, reply := post(t, b.doneURL(), body)
			replies.Store(key+"/b", reply)
		}
		// Half of the callbacks arrive before the API has replied 202.
		if int(value)%2 == 0 {
			deliver()
			return
		}
		api.later(time.Duration(int(value)%20)*time.Millisecond, deliver)
	}
	a, b := replicas(t, srv, api.URL)
	keys := makeKeys("cross", n)

	runAll(t, a, keys)

	for _, key := range keys {
		reply, _ := replies.Load(key + "/b")
		assert.Contains(t, reply, "delivered", key)
		// A repeated callback to either replica is a duplicate.
		_, again := post(t, a.doneURL(), map[string]any{"key": key, "status": "completed", "output": -1})
		assert.Contains(t, again, "duplicate", key)
	}
	assert.EqualValues(t, n, a.redisStats(t).Delivered, "A's waits received every outcome")
	assert.Zero(t, b.redisStats(t).Delivered, "B has no waits")
	assert.EqualValues(t, n, a.redisStats(t).Duplicates, "A rejected every repeat")
	assert.Zero(t, a.redisStats(t).Pending)

	runs, err := b.Engine().List(context.Background(), workflow.Query{WorkflowID: "async", State: workflow.StateCompleted})
	require.NoError(t, err)
	assert.Len(t, runs, n, "B lists the runs that A executed")
}

func TestRedisStateCallbacksBeforeWaits(t *testing.T) {
	const n = 1000
	srv := redistest.Start(t, nil)
	var requests atomic.Int64
	api := newAsyncAPI(t, func(map[string]any) { requests.Add(1) }) // calls back never
	a, b := replicas(t, srv, api.URL)
	keys := makeKeys("early", n)

	// Every outcome reaches B before any run on A has registered its wait.
	for i, key := range keys {
		code, reply := post(t, b.doneURL(), map[string]any{"key": key, "status": "completed", "output": i * 2})
		require.Equal(t, http.StatusOK, code, reply)
		require.Contains(t, reply, "stored", key)
	}
	runAll(t, a, keys)

	assert.EqualValues(t, n, requests.Load(), "every run sent its request")
	assert.Zero(t, a.redisStats(t).Pending)
}

func TestRedisStateRestartMidRun(t *testing.T) {
	const n = 200
	srv := redistest.Start(t, nil)
	waiting := make(chan string, n)
	api := newAsyncAPI(t, func(task map[string]any) { waiting <- task["key"].(string) })
	a, b := replicas(t, srv, api.URL)
	keys := makeKeys("restart", n)

	done := make(chan struct{})
	go func() {
		defer close(done)
		runAll(t, a, keys)
	}()
	for range n {
		<-waiting
	}

	// Half of the outcomes arrive before the restart, half after it.
	for i, key := range keys[:n/2] {
		postUntilAccepted(t, b.doneURL(), map[string]any{"key": key, "status": "completed", "output": i * 2})
	}
	require.NoError(t, srv.Restart())
	for i, key := range keys[n/2:] {
		postUntilAccepted(t, b.doneURL(), map[string]any{"key": key, "status": "completed", "output": (n/2 + i) * 2})
	}

	select {
	case <-done:
	case <-time.After(40 * time.Second):
		t.Fatal("runs did not all complete within 40s of the restart")
	}
	runs, err := b.Engine().List(context.Background(), workflow.Query{WorkflowID: "async"})
	require.NoError(t, err)
	require.Len(t, runs, n, "every run record survives the restart")
	for _, run := range runs {
		assert.Equal(t, workflow.StateCompleted, run.State, run.ID)
	}
}

func TestRedisStateTriggerCancelledOnOtherReplica(t *testing.T) {
	srv := redistest.Start(t, nil)
	api := newAsyncAPI(t, func(map[string]any) {}) // calls back never
	a, b := replicas(t, srv, api.URL)

	code, reply := post(t, "http://"+a.ListenerAddr(8091).String()+"/start", map[string]any{"key": "trig-1", "value": 1})
	require.Equal(t, http.StatusOK, code, reply)
	var started map[string]any
	require.NoError(t, json.Unmarshal([]byte(reply), &started), reply)
	id, _ := started["task_id"].(string)
	require.NotEmpty(t, id, reply)
	baseB := "http://" + b.ControllerAddr().String() + "/api"

	require.Eventually(t, func() bool {
		_, m, _ := call(t, "GET", baseB+"/tasks/"+id, "")
		return m["status"] == "processing"
	}, 5*time.Second, 10*time.Millisecond, "B's controller shows the run A executes")

	code, m, raw := call(t, "POST", baseB+"/tasks/"+id+"/cancel", "")
	require.Equal(t, http.StatusOK, code, raw)
	assert.Equal(t, "cancelled", m["status"])
	assert.Contains(t, m["error"], "cancel requested by another engine")

	run, err := a.Engine().Get(context.Background(), id)
	require.NoError(t, err)
	assert.Equal(t, workflow.StateCancelled, run.State)
	assert.Zero(t, a.redisStats(t).Pending, "the cancelled run stopped waiting")
}

func TestRedisStateWaitOnOtherReplica(t *testing.T) {
	srv := redistest.Start(t, nil)
	api := newAsyncAPI(t, func(map[string]any) {})
	a, b := replicas(t, srv, api.URL)

	run, err := a.Start(context.Background(), "async", map[string]any{"key": "w-1", "value": 4})
	require.NoError(t, err)
	waited := make(chan *workflow.Run, 1)
	go func() {
		got, err := b.Engine().Wait(context.Background(), run.ID)
		assert.NoError(t, err)
		waited <- got
	}()
	postUntilAccepted(t, b.doneURL(), map[string]any{"key": "w-1", "status": "completed", "output": 8})
	select {
	case got := <-waited:
		assert.Equal(t, workflow.StateCompleted, got.State)
		assert.EqualValues(t, "8", fmt.Sprint(got.Output))
	case <-time.After(5 * time.Second):
		t.Fatal("B's Wait did not return within 5s of the run's end on A")
	}
}

func TestRedisStateKeyPrefixSeparatesProjects(t *testing.T) {
	srv := redistest.Start(t, nil)
	api := newAsyncAPI(t, func(map[string]any) {})
	env := func(prefix string) map[string]string {
		return map[string]string{"REDIS_URL": srv.URL, "PREFIX": prefix, "API_URL": api.URL, "WAIT": "500ms"}
	}
	n := prefixSeq.Add(1)
	a := startProject(t, replicaYAML, env(fmt.Sprintf("one%d:", n)))
	other := startProject(t, replicaYAML, env(fmt.Sprintf("two%d:", n)))

	run, err := a.Start(context.Background(), "async", map[string]any{"key": "shared-key", "value": 1})
	require.NoError(t, err)
	code, reply := post(t, other.doneURL(), map[string]any{"key": "shared-key", "status": "completed", "output": 2})
	require.Equal(t, http.StatusOK, code, reply)
	assert.Contains(t, reply, "stored", "the other project has no wait for the key")

	ended, err := a.Engine().Wait(context.Background(), run.ID)
	assert.ErrorIs(t, err, workflow.ErrTimeout, "the callback under another prefix does not reach the run")
	require.NotNil(t, ended)
	assert.Equal(t, workflow.StateFailed, ended.State)
	_, err = other.Engine().Get(context.Background(), run.ID)
	assert.ErrorIs(t, err, workflow.ErrUnknownRun, "runs are not visible under another prefix")
}

func TestRedisStateUnreachable(t *testing.T) {
	addr := closedLoopbackAddr(t)
	cfg, err := compose.Parse([]byte("state:\n  type: redis\n  url: redis://"+addr+"/0\nworkflow:\n  id: w\n  jobs: []\n"), "test.yml")
	require.NoError(t, err)
	_, err = compose.New(cfg, &compose.Options{Ephemeral: true})
	require.Error(t, err)
	assert.ErrorIs(t, err, compose.ErrInvalidConfig)
	assert.Contains(t, err.Error(), "test.yml:1: state: open redis waiter: ping redis at "+addr)
}

func TestRedisStateMissingURL(t *testing.T) {
	cfg, err := compose.Parse([]byte("state:\n  type: redis\n  url: ${env.NOPE | ''}\n"), "test.yml")
	require.NoError(t, err)
	_, err = compose.New(cfg, &compose.Options{Ephemeral: true, LookupEnv: func(string) (string, bool) { return "", false }})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "state: url: missing Redis URL")
}

func TestRedisStateFromGo(t *testing.T) {
	srv := redistest.Start(t, nil)
	ctx := context.Background()
	prefix := fmt.Sprintf("go%d:", prefixSeq.Add(1))
	w, err := redis.Open(ctx, srv.URL, &redis.Options{KeyPrefix: prefix})
	require.NoError(t, err)
	defer w.Close()
	store, err := redisstore.Open(ctx, srv.URL, &redisstore.Options{KeyPrefix: prefix})
	require.NoError(t, err)
	defer store.Close()

	cfg, err := compose.Parse([]byte("state:\n  type: redis\n  url: redis://127.0.0.1:1/0\n"), "test.yml")
	require.NoError(t, err)
	p, err := compose.New(cfg, &compose.Options{Waiter: w, Store: store, Ephemeral: true})
	require.NoError(t, err, "Options.Waiter and Options.Store take the place of state")
	assert.Same(t, w, p.Waiter())
	_ = p.Close()
	assert.NoError(t, w.Close(), "the project does not close a waiter it did not open")
}

// closedLoopbackAddr returns a loopback address where nothing listens.
func closedLoopbackAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// benchReplica builds and starts a project of replicaYAML for a
// benchmark, with env as its environment.
func benchReplica(b *testing.B, env map[string]string) *compose.Project {
	b.Helper()
	cfg, err := compose.Parse([]byte(replicaYAML), "bench.yml")
	require.NoError(b, err)
	p, err := compose.New(cfg, &compose.Options{
		Ephemeral: true,
		LookupEnv: func(name string) (string, bool) {
			v, ok := env[name]
			return v, ok
		},
	})
	require.NoError(b, err)
	require.NoError(b, p.Up(context.Background()))
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Shutdown(ctx)
	})
	return p
}

// BenchmarkRedisStateDelivery measures callbacks delivered end to end
// through two projects that share one Redis. Each iteration is one
// callback: b.N runs are started on replica A and wait, without timing,
// then 1 or 32 goroutines post the callbacks to replica B's listener over
// HTTP. It reports callbacks per second and the 50th and 99th percentile
// of the time from the start of the POST to the return of Engine.Run on
// A, which includes saving the run's end state in Redis. The SameReplica
// cases post the callbacks to A.
func BenchmarkRedisStateDelivery(b *testing.B) {
	srv := redistest.Start(b, nil)
	for _, senders := range []int{1, 32} {
		b.Run(fmt.Sprintf("Replicas/Senders=%d", senders), func(b *testing.B) {
			benchmarkStateDelivery(b, srv, senders, false)
		})
		b.Run(fmt.Sprintf("SameReplica/Senders=%d", senders), func(b *testing.B) {
			benchmarkStateDelivery(b, srv, senders, true)
		})
	}
}

// benchmarkStateDelivery runs the waits on replica A and posts the
// callbacks to replica B, or to A itself when sameReplica is set.
func benchmarkStateDelivery(b *testing.B, srv *redistest.Server, senders int, sameReplica bool) {
	n := b.N
	requested := make(chan struct{}, n)
	api := httptestServer(b, func(w http.ResponseWriter, r *http.Request) {
		requested <- struct{}{}
		w.WriteHeader(http.StatusAccepted)
	})
	env := map[string]string{
		"REDIS_URL": srv.URL,
		"PREFIX":    fmt.Sprintf("bench%d-%d:", time.Now().UnixNano(), prefixSeq.Add(1)),
		"API_URL":   api,
		"WAIT":      "5m",
	}
	a, replicaB := benchReplica(b, env), benchReplica(b, env)
	target := replicaB
	if sameReplica {
		target = a
	}
	doneURL := "http://" + target.ListenerAddr(8090).String() + "/done"
	keys := makeKeys(env["PREFIX"], n)

	var sentMu sync.Mutex // guards sent, written by senders and read by runs
	sent := make([]time.Time, n)
	latency := make([]time.Duration, n)
	var ended sync.WaitGroup
	ended.Add(n)
	for i, key := range keys {
		go func() {
			defer ended.Done()
			_, err := a.Engine().Run(context.Background(), "async", map[string]any{"key": key, "value": i})
			end := time.Now()
			if err != nil {
				b.Error(err)
				return
			}
			sentMu.Lock()
			latency[i] = end.Sub(sent[i])
			sentMu.Unlock()
		}()
	}
	for range n {
		<-requested
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
	defer client.CloseIdleConnections()
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	b.ResetTimer()
	start := time.Now()
	var sending sync.WaitGroup
	for range senders {
		sending.Add(1)
		go func() {
			defer sending.Done()
			for i := range next {
				body := fmt.Sprintf(`{"key": %q, "status": "completed", "output": %d}`, keys[i], i*2)
				sentMu.Lock()
				sent[i] = time.Now()
				sentMu.Unlock()
				resp, err := client.Post(doneURL, "application/json", strings.NewReader(body))
				if err != nil {
					b.Error(err)
					continue
				}
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("callback %s: status %d", keys[i], resp.StatusCode)
				}
			}
		}()
	}
	sending.Wait()
	ended.Wait()
	elapsed := time.Since(start)
	b.StopTimer()

	slices.Sort(latency)
	b.ReportMetric(float64(n)/elapsed.Seconds(), "callbacks/s")
	b.ReportMetric(float64(latency[n/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latency[n*99/100].Microseconds())/1000, "p99-ms")
}

// httptestServer starts an HTTP server on loopback that handler serves,
// closed when the benchmark ends, and returns its URL.
func httptestServer(b *testing.B, handler http.HandlerFunc) string {
	srv := httptest.NewServer(handler)
	b.Cleanup(srv.Close)
	return srv.URL
}
