package listener

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/expr"
	"github.com/tether-go/tether/waiter"
)

// advMarker is text that a reply must never repeat.
const advMarker = "SENSITIVE-7f3c9a51"

func newAdvCallback(t *testing.T, w waiter.Waiter) *CallbackListener {
	t.Helper()
	return newTestCallback(t, Callback{
		Path:        "/cb",
		IdentifyBy:  "${body.id}",
		Status:      "${body.status}",
		SuccessWhen: []string{"ok"},
		FailWhen:    []string{"failed"},
	}, w)
}

func jsonHeader() http.Header { return http.Header{"Content-Type": {"application/json"}} }

func TestAdversarialHostileBodies(t *testing.T) {
	big := bytes.Repeat([]byte(" "), DefaultMaxBodyBytes+1)
	bomb := append(append([]byte(`{"id":"gz","status":"ok","p":"`), big...), '"', '}')
	cases := []struct {
		name     string
		header   http.Header
		body     []byte
		status   int
		errorMsg string
	}{
		{"deep nesting", jsonHeader(), []byte(strings.Repeat("[", 20_000) + strings.Repeat("]", 20_000)),
			400, "request body is not valid JSON (declared as application/json): syntax error at byte 10001"},
		{"gzip bomb", http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}}, gzipBytes(t, bomb),
			413, "decompressed request body is larger than the limit of 10485760 bytes"},
		{"three gzip layers", http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip, gzip, gzip"}}, []byte("x"),
			415, "too many Content-Encoding layers; send at most 2"},
		{"brotli", http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"br"}}, []byte("x"),
			415, "unsupported Content-Encoding; send gzip or identity"},
		{"not gzip", http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}}, []byte("plain"),
			400, "request body is not valid gzip"},
		{"invalid UTF-8", jsonHeader(), []byte("{\"id\":\"\xff\",\"status\":\"ok\"}"),
			400, "request body is not valid UTF-8"},
		{"invalid UTF-8 text", http.Header{"Content-Type": {"text/plain"}}, []byte("\xfe\xff"),
			400, "request body is not valid UTF-8"},
		{"xml", http.Header{"Content-Type": {"application/xml"}}, []byte("<a/>"),
			415, "unsupported Content-Type; send JSON, a form, multipart/form-data or text"},
		{"truncated JSON", jsonHeader(), []byte(`{"id":"x","status":`),
			400, "request body is not valid JSON (declared as application/json): syntax error at byte 19"},
		{"trailing JSON", jsonHeader(), []byte(`{"id":"x"} {"id":"y"}`),
			400, "request body is not valid JSON (declared as application/json): syntax error at byte 10"},
		{"form with semicolon", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, []byte("id=a;status=ok"),
			400, "request body is not valid application/x-www-form-urlencoded"},
		{"form invalid UTF-8 name", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, []byte("%FF=1"),
			400, "application/x-www-form-urlencoded field name is not valid UTF-8"},
		{"multipart without boundary", http.Header{"Content-Type": {"multipart/form-data"}}, []byte("x"),
			400, "multipart/form-data without a boundary parameter"},
		{"empty id", jsonHeader(), []byte(`{"id":"","status":"ok"}`),
			400, "callback id is missing: identify_by ${body.id} is empty for this request"},
		{"null id", jsonHeader(), []byte(`{"id":null,"status":"ok"}`),
			400, "callback id is missing: identify_by ${body.id} is empty for this request"},
		{"top-level array", jsonHeader(), []byte(`[{"id":"a"}]`),
			400, "callback id is missing: identify_by ${body.id} is empty for this request"},
		{"empty body", jsonHeader(), nil,
			400, "callback id is missing: identify_by ${body.id} is empty for this request"},
	}
	m := waiter.NewMemory(nil)
	defer m.Close()
	l := newAdvCallback(t, m)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := send(t, l, http.MethodPost, "/cb", c.header, c.body)
			assert.Equal(t, c.status, w.Code)
			assert.JSONEq(t, fmt.Sprintf(`{"error":%q}`, c.errorMsg), w.Body.String())
		})
	}
	assert.Zero(t, m.Stats().Stored, "no hostile body may be stored")
	assert.Zero(t, m.Stats().Delivered, "no hostile body may be delivered")
}

func TestAdversarialOddCallbackIDs(t *testing.T) {
	cases := []struct{ body, id string }{
		{`{"id":123,"status":"ok"}`, "123"},
		{`{"id":123456789012345678901234567890,"status":"ok"}`, "123456789012345678901234567890"},
		{`{"id":1318183058574413864,"status":"ok"}`, "1318183058574413864"},
		{`{"id":"${env.SECRET}","status":"ok"}`, "${env.SECRET}"},
		{`{"id":"a\u0000b","status":"ok"}`, "a\x00b"},
	}
	m := waiter.NewMemory(nil)
	defer m.Close()
	l := newAdvCallback(t, m)
	for _, c := range cases {
		w := send(t, l, http.MethodPost, "/cb", jsonHeader(), []byte(c.body))
		assert.Equal(t, http.StatusOK, w.Code, c.body)
		assert.Equal(t, map[string]any{"id": c.id, "status": "stored"}, decodeReply(t, w), c.body)
	}
}

// An object, array or boolean is not an id: a sender that puts one in
// the id field has made a mistake, and its text form ({"a":1}) can
// collide with a real id.
func TestAdversarialStructuredIDRejected(t *testing.T) {
	m := waiter.NewMemory(nil)
	defer m.Close()
	l := newAdvCallback(t, m)
	cases := map[string]string{
		`{"id":{"a":1},"status":"ok"}`: "an object",
		`{"id":[1,2],"status":"ok"}`:   "an array",
		`{"id":true,"status":"ok"}`:    "a boolean",
	}
	for body, kind := range cases {
		w := send(t, l, http.MethodPost, "/cb", jsonHeader(), []byte(body))
		assert.Equal(t, http.StatusBadRequest, w.Code, body)
		assert.JSONEq(t, `{"error":"callback id is `+kind+`: identify_by ${body.id} must give a string or a number"}`, w.Body.String(), body)
	}
	assert.Zero(t, m.Stats().Stored)
}

func TestAdversarialOddStatusValues(t *testing.T) {
	m := waiter.NewMemory(nil)
	defer m.Close()
	l := newAdvCallback(t, m)
	for i, status := range []string{`{"x":1}`, `["ok"]`, `5`, `true`, `null`, `"OK"`, `" ok"`} {
		body := fmt.Sprintf(`{"id":"s%d","status":%s}`, i, status)
		w := send(t, l, http.MethodPost, "/cb", jsonHeader(), []byte(body))
		assert.Equal(t, http.StatusOK, w.Code, body)
		assert.Equal(t, map[string]any{"id": fmt.Sprintf("s%d", i), "status": "ignored"}, decodeReply(t, w), body)
	}
	assert.Zero(t, m.Stats().Stored, "an ignored status changes nothing")
}

func TestAdversarialPathVariants(t *testing.T) {
	m := waiter.NewMemory(nil)
	defer m.Close()
	l := newAdvCallback(t, m)
	cases := map[string]int{
		"/cb": 200, "/cb/": 200, "//cb": 200, "/x/../cb": 200, "/./cb": 200, "/cb/.": 200, "/%63b": 200,
		"/CB": 404, "/cb;x": 404, "/cb/x": 404, "/": 404, "/..": 404, "/cb%00": 404,
	}
	i := 0
	for p, status := range cases {
		i++
		r := httptest.NewRequest(http.MethodPost, "http://h"+p, strings.NewReader(fmt.Sprintf(`{"id":"p%d","status":"ok"}`, i)))
		r.Header.Set("Content-Type", "application/json")
		w := newRecorderServe(l, r)
		assert.Equal(t, status, w.Code, p)
		if status == 404 {
			assert.JSONEq(t, `{"error":"no endpoint at this path"}`, w.Body.String(), p)
		}
	}
}

func TestAdversarialOtherMethods(t *testing.T) {
	l := newAdvCallback(t, &fakeWaiter{})
	for _, method := range []string{"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE", "post", "PROPFIND"} {
		w := send(t, l, method, "/cb", jsonHeader(), []byte(`{"id":"m","status":"ok"}`))
		assert.Equal(t, http.StatusMethodNotAllowed, w.Code, method)
		assert.Equal(t, "POST", w.Header().Get("Allow"), method)
	}
}

// A body that carries ${env.X} is data: neither the result nor the
// reply contains the variable's value.
func TestAdversarialEnvInBodyIsData(t *testing.T) {
	fw := &fakeWaiter{}
	sources := expr.Sources{"env": expr.Of(map[string]any{"SECRET": advMarker})}
	l, err := NewCallback(CallbackConfig{Callbacks: []Callback{{
		Path:       "/cb",
		IdentifyBy: "${body.id}",
		Result:     map[string]any{"title": "${body.title}", "text": "t=${body.title}", "fallback": "${body.none | ${body.title}}"},
		Reply:      &Reply{Body: map[string]any{"echo": "${body.title}"}},
	}}}, fw, &Options{Sources: sources})
	require.NoError(t, err)

	w := postJSON(t, l, "/cb", `{"id":"${env.SECRET}","title":"${env.SECRET}"}`)
	require.Equal(t, http.StatusOK, w.Code)
	assert.NotContains(t, w.Body.String(), advMarker)
	got := fw.deliveries()
	require.Len(t, got, 1)
	assert.Equal(t, "${env.SECRET}", got[0].id)
	assert.Equal(t, map[string]any{"title": "${env.SECRET}", "text": "t=${env.SECRET}", "fallback": "${env.SECRET}"}, got[0].outcome.Result)
}

// Error replies never repeat the body, query or headers of the request.
func TestAdversarialErrorsDoNotEcho(t *testing.T) {
	l := newAdvCallback(t, waiter.NewMemory(nil))
	bodies := []struct {
		ct   string
		body string
	}{
		{"application/json", `{"id":"` + advMarker},
		{"application/json", `{"id":"x","status":"ok","r":` + advMarker + `}`},
		{"application/x-www-form-urlencoded", advMarker + "=%zz"},
		{"text/plain", "\xff" + advMarker},
		{"application/" + advMarker, `{}`},
		{"application/json", `{"id":"","status":"` + advMarker + `"}`},
	}
	for _, b := range bodies {
		r := httptest.NewRequest(http.MethodPost, "/cb?q="+advMarker, strings.NewReader(b.body))
		r.Header.Set("Content-Type", b.ct)
		r.Header.Set("X-Extra", advMarker)
		w := newRecorderServe(l, r)
		assert.GreaterOrEqual(t, w.Code, 400, b.body)
		assert.Less(t, w.Code, 500, b.body)
		assert.NotContains(t, w.Body.String(), advMarker, b.body)
	}
}

// Many senders post the same callback at once while its job registers:
// the job receives it exactly once and every other copy is a duplicate.
func TestAdversarialConcurrentDuplicates(t *testing.T) {
	m := waiter.NewMemory(nil)
	defer m.Close()
	srv := httptest.NewServer(newAdvCallback(t, m))
	defer srv.Close()
	client := srv.Client()

	const ids, copies = 20, 25
	for i := 0; i < ids; i++ {
		id := fmt.Sprintf("race-%d", i)
		var wg sync.WaitGroup
		statuses := make(chan string, copies)
		start := make(chan struct{})
		for c := 0; c < copies; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				resp, err := client.Post(srv.URL+"/cb", "application/json",
					strings.NewReader(fmt.Sprintf(`{"id":%q,"status":"ok","n":%d}`, id, c)))
				if err != nil {
					statuses <- "error: " + err.Error()
					return
				}
				defer resp.Body.Close()
				var reply map[string]any
				if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
					statuses <- "error: " + err.Error()
					return
				}
				statuses <- fmt.Sprint(resp.StatusCode, " ", reply["status"])
			}()
		}
		close(start)
		p, err := m.Expect(context.Background(), id)
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		outcome, err := p.Wait(ctx)
		cancel()
		require.NoError(t, err)
		assert.Contains(t, outcome.Result, "n")
		wg.Wait()
		close(statuses)

		counts := map[string]int{}
		for s := range statuses {
			counts[s]++
		}
		assert.Equal(t, 1, counts["200 delivered"]+counts["200 stored"], "%s: %v", id, counts)
		assert.Equal(t, copies-1, counts["200 duplicate"], "%s: %v", id, counts)
	}
	st := m.Stats()
	assert.Equal(t, 0, st.Stored)
	assert.Equal(t, 0, st.Pending)
	assert.Equal(t, uint64(ids*(copies-1)), st.Duplicates)
}

func TestAdversarialBulkThousands(t *testing.T) {
	const n = 5000
	m := waiter.NewMemory(nil)
	defer m.Close()
	l, err := NewCallback(CallbackConfig{
		Callbacks: []Callback{{
			Path: "/bulk", Bulk: true, Item: "${body.results}",
			IdentifyBy: "${item.id}", Status: "${item.status}", SuccessWhen: []string{"ok"},
		}},
		Limits: Limits{MaxBulkItems: n},
	}, m, nil)
	require.NoError(t, err)
	var b strings.Builder
	b.WriteString(`{"results":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, `{"id":"b%d","status":"ok"}`, i)
		case 1:
			fmt.Fprintf(&b, `{"id":"b%d","status":"processing"}`, i)
		case 2:
			b.WriteString(`{"status":"ok"}`)
		default:
			fmt.Fprintf(&b, `{"id":"b%d","status":"ok"}`, i-3)
		}
	}
	b.WriteString(`]}`)

	w := postJSON(t, l, "/bulk", b.String())
	require.Equal(t, http.StatusOK, w.Code)
	var entries []map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &entries))
	require.Len(t, entries, n)
	counts := map[string]int{}
	for _, e := range entries {
		if e["error"] != nil {
			counts["error"]++
			continue
		}
		counts[e["status"].(string)]++
	}
	assert.Equal(t, map[string]int{"stored": n / 4, "ignored": n / 4, "error": n / 4, "duplicate": n / 4}, counts)
	assert.Equal(t, n/4, m.Stats().Stored)
}

func TestAdversarialWaiterFullIs503(t *testing.T) {
	m := waiter.NewMemory(&waiter.MemoryOptions{MaxStored: 2})
	defer m.Close()
	l := newAdvCallback(t, m)
	for i := 0; i < 2; i++ {
		w := postJSON(t, l, "/cb", fmt.Sprintf(`{"id":"u%d","status":"ok"}`, i))
		require.Equal(t, http.StatusOK, w.Code)
	}
	w := postJSON(t, l, "/cb", `{"id":"u2","status":"ok"}`)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	assert.JSONEq(t, `{"error":"too many undelivered callbacks; retry later"}`, w.Body.String())
}

// startAdvServer runs l on its own loopback server.
func startAdvServer(t *testing.T, l *CallbackListener) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, l.StartOn(ln))
	t.Cleanup(func() { _ = l.Close() })
	return ln.Addr().String()
}

func TestAdversarialHeaderFlood(t *testing.T) {
	l, err := NewCallback(CallbackConfig{Callbacks: []Callback{{Path: "/cb"}}}, &fakeWaiter{}, nil)
	require.NoError(t, err)
	addr := startAdvServer(t, l)

	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/cb", strings.NewReader(`{}`))
	require.NoError(t, err)
	for i := 0; i < 2000; i++ {
		req.Header.Add(fmt.Sprintf("X-Flood-%d", i), strings.Repeat("a", 64))
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
}

// A body that stops arriving gets 408 once ReadTimeout passes.
func TestAdversarialSlowBody(t *testing.T) {
	l, err := NewCallback(CallbackConfig{
		Callbacks: []Callback{{Path: "/cb"}},
		Limits:    Limits{ReadTimeout: 300 * time.Millisecond},
	}, &fakeWaiter{}, nil)
	require.NoError(t, err)
	addr := startAdvServer(t, l)

	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(5*time.Second)))
	_, err = io.WriteString(conn, "POST /cb HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
	body, _ := io.ReadAll(resp.Body)
	assert.JSONEq(t, `{"error":"timed out reading the request body"}`, string(body))
}

// A declared Content-Length must not make the listener allocate that
// much before the bytes arrive: a client could otherwise hold 10 MiB per
// connection by sending only headers.
func TestAdversarialContentLengthPreallocation(t *testing.T) {
	l := newAdvCallback(t, &fakeWaiter{})
	r := httptest.NewRequest(http.MethodPost, "/cb", strings.NewReader(`{"id":"x"}`))
	r.ContentLength = DefaultMaxBodyBytes
	r.Header.Set("Content-Type", "application/json")

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	w := newRecorderServe(l, r)
	runtime.ReadMemStats(&after)

	assert.Equal(t, http.StatusOK, w.Code)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "bytes allocated for a 10-byte body")
}

// A multipart body that has no parts is malformed and must start
// nothing.
func TestAdversarialMalformedMultipart(t *testing.T) {
	s := &recordingStarter{}
	l := newTestTrigger(t, Trigger{Path: "/t", Workflow: "wf"}, s)
	w := send(t, l, http.MethodPost, "/t", http.Header{"Content-Type": {"multipart/form-data; boundary=xx"}}, []byte("garbage, not multipart"))
	assert.Equal(t, http.StatusBadRequest, w.Code)
	assert.JSONEq(t, `{"error":"request body is not valid multipart/form-data"}`, w.Body.String())
	assert.Empty(t, s.started())
}

// Concurrent deliveries with the same idempotency key start one run, and
// every other one gets the first reply with Idempotent-Replayed.
func TestAdversarialIdempotencyRace(t *testing.T) {
	var mu sync.Mutex
	started := 0
	s := &recordingStarter{StartFunc: func(ctx context.Context, workflowID string, input any) (RunInfo, error) {
		mu.Lock()
		defer mu.Unlock()
		started++
		time.Sleep(20 * time.Millisecond)
		return RunInfo{ID: fmt.Sprintf("run-%d", started), Status: "pending"}, nil
	}}
	l := newTestTrigger(t, Trigger{Path: "/t", Workflow: "wf", IdempotencyKey: "${header.X-Delivery}"}, s)
	srv := httptest.NewServer(l)
	defer srv.Close()

	const copies = 30
	var wg sync.WaitGroup
	type result struct {
		status   int
		replayed string
		body     string
	}
	results := make(chan result, copies)
	for i := 0; i < copies; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/t", strings.NewReader(`{"a":1}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Delivery", "delivery-1")
			resp, err := srv.Client().Do(req)
			if err != nil {
				results <- result{body: err.Error()}
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			results <- result{resp.StatusCode, resp.Header.Get(replayedHeader), strings.TrimSpace(string(b))}
		}()
	}
	wg.Wait()
	close(results)

	replayed := 0
	for r := range results {
		assert.Equal(t, http.StatusOK, r.status, r.body)
		assert.JSONEq(t, `{"task_id":"run-1","status":"pending"}`, r.body)
		if r.replayed == "true" {
			replayed++
		}
	}
	assert.Equal(t, 1, started)
	assert.Equal(t, copies-1, replayed)
}

// One bulk request must not start an unbounded number of runs: a 300 KB
// body of empty objects would otherwise start 100,000 workflows.
func TestAdversarialBulkTriggerAmplification(t *testing.T) {
	s := &recordingStarter{}
	l := newTestTrigger(t, Trigger{Path: "/t", Workflow: "wf", Bulk: true, Item: "${body}"}, s)
	items := "[" + strings.Repeat("{},", 99_999) + "{}]"
	w := postJSON(t, l, "/t", items)
	assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code)
	assert.JSONEq(t, `{"error":"bulk request has more items than the limit of 1000 (limits.max_bulk_items); send fewer items per request"}`, w.Body.String())
	assert.Zero(t, len(s.started()), "runs started")

	// The same holds for an Item template that is not a plain body path.
	wrapped := newTestTrigger(t, Trigger{Path: "/t", Workflow: "wf", Bulk: true, Item: "${body.items | ${body}}"}, s)
	w = postJSON(t, wrapped, "/t", `{"items":`+items+`}`)
	assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code)
	assert.Zero(t, len(s.started()), "runs started")

	// MaxBulkItems items are accepted.
	atLimit := "[" + strings.Repeat("{},", DefaultMaxBulkItems-1) + "{}]"
	w = postJSON(t, l, "/t", atLimit)
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Len(t, s.started(), DefaultMaxBulkItems)
}

// A bulk callback over MaxBulkItems is rejected as a whole before any
// of its items is delivered.
func TestAdversarialBulkCallbackItemLimit(t *testing.T) {
	m := waiter.NewMemory(nil)
	defer m.Close()
	l, err := NewCallback(CallbackConfig{
		Callbacks: []Callback{{Path: "/cb", Bulk: true, Item: "${body.results}", IdentifyBy: "${item.id}"}},
		Limits:    Limits{MaxBulkItems: 3},
	}, m, nil)
	require.NoError(t, err)

	w := postJSON(t, l, "/cb", `{"results":[{"id":"a"},{"id":"b"},{"id":"c"},{"id":"d"}]}`)
	assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code)
	assert.JSONEq(t, `{"error":"bulk request has more items than the limit of 3 (limits.max_bulk_items); send fewer items per request"}`, w.Body.String())
	assert.Zero(t, m.Stats().Stored, "outcomes stored")

	w = postJSON(t, l, "/cb", `{"results":[{"id":"a"},{"id":"b"},{"id":"c"}]}`)
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, 3, m.Stats().Stored)
}

// Idempotency keys come from the request, so the memory they keep must
// be bounded in bytes, not only in count.
func TestAdversarialIdempotencyKeySize(t *testing.T) {
	// This starter keeps no input, so that only the listener's memory
	// is measured.
	s := StarterFunc(func(ctx context.Context, workflowID string, input any) (RunInfo, error) {
		return RunInfo{ID: "run", Status: "pending"}, nil
	})
	l := newTestTrigger(t, Trigger{Path: "/t", Workflow: "wf", IdempotencyKey: "${body.event_id}"}, s)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < 20; i++ {
		key := fmt.Sprintf("%d-%s", i, strings.Repeat("k", 1<<20))
		w := postJSON(t, l, "/t", `{"event_id":"`+key+`"}`)
		require.Equal(t, http.StatusOK, w.Code)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	retained := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	assert.Less(t, retained, int64(4<<20), "bytes retained by 20 keys of 1 MiB")
	runtime.KeepAlive(l)
}

// A webhook sender learns that a run could not start, but not the
// internal error, which may name the store's address.
func TestAdversarialStartErrorNotEchoed(t *testing.T) {
	s := &recordingStarter{StartFunc: func(ctx context.Context, workflowID string, input any) (RunInfo, error) {
		return RunInfo{}, fmt.Errorf("save run: dial tcp store.internal:6379: %s", advMarker)
	}}
	single := newTestTrigger(t, Trigger{Path: "/t", Workflow: "wf"}, s)
	w := postJSON(t, single, "/t", `{}`)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.NotContains(t, w.Body.String(), advMarker)
	assert.NotContains(t, w.Body.String(), "store.internal")

	bulk := newTestTrigger(t, Trigger{Path: "/t", Workflow: "wf", Bulk: true}, s)
	w = postJSON(t, bulk, "/t", `[{}]`)
	assert.Equal(t, http.StatusOK, w.Code)
	assert.NotContains(t, w.Body.String(), advMarker)
	assert.NotContains(t, w.Body.String(), "store.internal")
}

// Clients that send their body slowly must not hold the
// max_concurrent_count slots: the slot should be taken once the body has
// arrived, so that a few slow connections cannot turn every other
// callback away with 503.
func TestAdversarialSlowBodyHoldsSlot(t *testing.T) {
	l, err := NewCallback(CallbackConfig{
		Callbacks:          []Callback{{Path: "/cb"}},
		MaxConcurrentCount: 1,
		Limits:             Limits{QueueTimeout: 100 * time.Millisecond, ReadTimeout: 3 * time.Second},
	}, &fakeWaiter{}, nil)
	require.NoError(t, err)
	addr := startAdvServer(t, l)

	slow, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer slow.Close()
	_, err = io.WriteString(slow, "POST /cb HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n")
	require.NoError(t, err)
	time.Sleep(200 * time.Millisecond) // let the slow request reach the handler

	resp, err := http.Post("http://"+addr+"/cb", "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// Callbacks for ids that no job waits for are kept for the retention
// period. Anyone who can reach the listener can send them, so the memory
// they keep must be bounded in bytes, not only in count (100,000 early
// outcomes of up to 10 MiB each would fit otherwise). The waiter's byte
// budget (64 MiB by default, 8 MiB here) turns the excess away with 503.
func TestAdversarialEarlyOutcomeBytes(t *testing.T) {
	m := waiter.NewMemory(&waiter.MemoryOptions{MaxStoredBytes: 8 << 20})
	defer m.Close()
	l := newTestCallback(t, Callback{Path: "/cb", IdentifyBy: "${body.id}"}, m)
	filler := strings.Repeat("x", 1<<20)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rejected := 0
	for i := 0; i < 32; i++ {
		w := postJSON(t, l, "/cb", fmt.Sprintf(`{"id":"unknown-%d","filler":%q}`, i, filler))
		if w.Code == http.StatusServiceUnavailable {
			rejected++
			assert.Equal(t, "1", w.Header().Get("Retry-After"))
			assert.JSONEq(t, `{"error":"too many undelivered callbacks; retry later"}`, w.Body.String())
			continue
		}
		require.Equal(t, http.StatusOK, w.Code)
	}
	assert.Equal(t, 32-7, rejected, "callbacks rejected once 8 MiB are stored")
	assert.LessOrEqual(t, m.Stats().StoredBytes, int64(8<<20))
	runtime.GC()
	runtime.ReadMemStats(&after)
	retained := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	assert.Less(t, retained, int64(16<<20), "bytes retained by 32 callbacks of 1 MiB for unknown ids")
	runtime.KeepAlive(m)
}
