package listener

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tether-go/tether/waiter"
)

// FuzzHandler sends random methods, paths, headers and bodies to a
// callback and a trigger listener. No input may panic or get a 5xx
// reply other than 503.
func FuzzHandler(f *testing.F) {
	seeds := []struct {
		method, target, contentType, encoding string
		headerName, headerValue               string
		body                                  []byte
	}{
		{"POST", "/cb", "application/json", "", "", "", []byte(`{"id":"a","status":"done","result":{"x":1}}`)},
		{"POST", "/bulk", "application/json", "", "", "", []byte(`{"items":[{"id":"a"},{"id":2},null,[],"x"]}`)},
		{"POST", "/t", "application/x-www-form-urlencoded", "", "", "", []byte("payload=%7B%22ref%22%3A1%7D&a=b")},
		{"POST", "/t", "multipart/form-data; boundary=x", "", "", "", []byte("--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--x--\r\n")},
		{"POST", "/t", "text/plain", "gzip", "", "", []byte{0x1f, 0x8b, 0x08, 0x00}},
		{"GET", "/t/", "", "", "", "", nil},
		{"POST", "/t", "application/json", "", "", "", []byte(`{"type":"url_verification","challenge":"${env.X}"}`)},
		{"POST", "/t", "application/json; charset", "br", "", "", []byte("\xff\xfe")},
		{"PUT", "/../cb", "application/json", "", "", "", []byte(`[[[[[[[[[[`)},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.contentType, s.encoding, s.headerName, s.headerValue, s.body)
	}
	f.Add("POST", "/t", "application/json", "gzip", "X-A", "${env.X}", gzipBytes(f, []byte(`{"event_id":"e"}`)))
	f.Add("POST", "/gh", "application/json", "", "X-GitHub-Event", "ping", []byte(`{}`))
	f.Add("POST", "/gh", "application/json", "", "X-GitHub-Delivery", "d1", []byte(`{"a":"fail"}`))

	fw := &fakeWaiter{DeliverFunc: func(ctx context.Context, id string, o waiter.Outcome) (waiter.Delivery, error) {
		if id == "full" {
			return 0, waiter.ErrFull
		}
		return waiter.Stored, nil
	}}
	cb, err := NewCallback(CallbackConfig{
		MaxConcurrentCount: 4,
		Limits:             Limits{MaxBodyBytes: 64 << 10},
		Callbacks: []Callback{
			{Path: "/cb", IdentifyBy: "${body.id}", Status: "${body.status}", SuccessWhen: []string{"done"}, FailWhen: []string{"err"},
				Result: map[string]any{"x": "${body.result.x}", "all": "${body}"}, Preset: PresetDiscordInteractions},
			{Path: "/bulk", Bulk: true, Item: "${body.items}", IdentifyBy: "${item.id}", Result: "${item}"},
		},
	}, fw, nil)
	if err != nil {
		f.Fatal(err)
	}
	starter := StarterFunc(func(ctx context.Context, wf string, input any) (RunInfo, error) {
		if s, ok := input.(string); ok && strings.Contains(s, "fail") {
			return RunInfo{}, errors.New("start refused")
		}
		return RunInfo{ID: "r", Status: "pending"}, nil
	})
	tr, err := NewTrigger(TriggerConfig{
		Limits: Limits{MaxBodyBytes: 64 << 10},
		Triggers: []Trigger{
			{Path: "/t", Workflow: "wf", Preset: PresetSlackEvents, Input: map[string]any{"a": "${body.a}", "q": "${query.q}", "h": "${header.X-A}"},
				Reply: &Reply{Body: map[string]any{"out": "${output}"}}},
			{Path: "/t", Method: "GET", Workflow: "wf", Bulk: true, Item: "${body}"},
			{Path: "/gh", Workflow: "wf", Preset: PresetGitHub, Input: "${body.a}"},
		},
	}, starter, nil)
	if err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, method, target, contentType, encoding, headerName, headerValue string, body []byte) {
		for _, h := range []http.Handler{cb, tr} {
			r, err := http.NewRequest(method, "http://x"+target, bytes.NewReader(body))
			if err != nil {
				return
			}
			r.Header.Set("Content-Type", contentType)
			r.Header.Set("Content-Encoding", encoding)
			r.Header.Add(headerName, headerValue)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code >= 500 && w.Code != http.StatusServiceUnavailable {
				t.Fatalf("%s %q: status %d: %s", method, target, w.Code, w.Body.String())
			}
		}
	})
}

// FuzzDecodeBody checks the body decoder's contract: a rejection has a
// 4xx status, and an accepted JSON body is valid UTF-8 JSON.
func FuzzDecodeBody(f *testing.F) {
	f.Add("application/json", "", []byte(`{"a":1}`))
	f.Add("text/plain", "", []byte("\xEF\xBB\xBF[1,2]"))
	f.Add("application/x-www-form-urlencoded", "", []byte("payload=%5B1%5D&b=2"))
	f.Add("multipart/form-data; boundary=b", "", []byte("--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\ndata\r\n--b--\r\n"))
	f.Add("", "gzip, identity", gzipBytes(f, []byte(`"s"`)))
	f.Fuzz(func(t *testing.T, contentType, encoding string, data []byte) {
		header := http.Header{"Content-Type": {contentType}, "Content-Encoding": {encoding}}
		b, rerr := decodeBody(header, data, 1<<16)
		if rerr != nil {
			if rerr.status < 400 || rerr.status > 499 {
				t.Fatalf("status %d for a rejected body", rerr.status)
			}
			return
		}
		if b.raw != nil && (!utf8.Valid(b.raw) || !json.Valid(b.raw)) {
			t.Fatalf("accepted JSON body is not valid UTF-8 JSON: %q", b.raw)
		}
		if !validStrings(b.value) {
			t.Fatalf("accepted body holds invalid UTF-8: %#v", b.value)
		}
	})
}

// validStrings reports whether every string and key in v is valid UTF-8.
func validStrings(v any) bool {
	switch v := v.(type) {
	case string:
		return utf8.ValidString(v)
	case []any:
		for _, e := range v {
			if !validStrings(e) {
				return false
			}
		}
	case map[string]any:
		for k, e := range v {
			if !utf8.ValidString(k) || !validStrings(e) {
				return false
			}
		}
	}
	return true
}
