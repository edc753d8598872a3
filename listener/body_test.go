package listener

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBodyForms posts each body form to a trigger whose input is
// Input, and checks the input the run was started with.
func TestBodyForms(t *testing.T) {
	multipartBody, multipartType := buildMultipart(t)
	cases := []struct {
		name        string
		contentType string
		encoding    string
		input       any
		body        []byte
		want        any
	}{
		{"json", "application/json", "", "${body.a}", []byte(`{"a":"x"}`), "x"},
		{"json charset", "application/json; charset=utf-8", "", "${body.a}", []byte(`{"a":"x"}`), "x"},
		{"json malformed params", "application/json; utf-8", "", "${body.a}", []byte(`{"a":"x"}`), "x"},
		{"json upper case type", "Application/JSON", "", "${body.a}", []byte(`{"a":"x"}`), "x"},
		{"plus json", "application/vnd.github+json", "", "${body.a}", []byte(`{"a":"x"}`), "x"},
		{"text plain holding json", "text/plain", "", "${body.a}", []byte(`{"a":"x"}`), "x"},
		{"no content type json", "", "", "${body.a}", []byte(`{"a":"x"}`), "x"},
		{"no content type text", "", "", "${body}", []byte(`hello`), "hello"},
		{"bom stripped", "application/json", "", "${body.a}", append([]byte("\xEF\xBB\xBF"), `{"a":"x"}`...), "x"},
		{"array body index", "application/json", "", "${body[1].x}", []byte(`[{"x":1},{"x":"second"}]`), "second"},
		{"scalar body", "application/json", "", "${body}", []byte(`"just a string"`), "just a string"},
		{"empty body is null", "application/json", "", "${body}", nil, nil},
		{"whitespace body is null", "application/json", "", "${body}", []byte(" \n"), nil},
		{"form plus as space", "application/x-www-form-urlencoded", "", "${body.text}", []byte("text=hello+world&user=u1"), "hello world"},
		{"form percent escapes", "application/x-www-form-urlencoded", "", "${body.text}", []byte("text=a%26b"), "a&b"},
		{"form payload json", "application/x-www-form-urlencoded", "", "${body.ref}", []byte("payload=%7B%22ref%22%3A%22refs%2Fheads%2Fmain%22%7D"), "refs/heads/main"},
		{"form payload text stays field", "application/x-www-form-urlencoded", "", "${body.payload}", []byte("payload=plain"), "plain"},
		{"multipart field", multipartType, "", "${body.subject}", multipartBody, "Hello"},
		{"multipart file metadata", multipartType, "", "${body.attachment1.filename}", multipartBody, "a.txt"},
		{"text body", "text/plain; charset=utf-8", "", "${body}", []byte("plain words"), "plain words"},
		{"gzip json", "application/json", "gzip", "${body.a}", gzipBytes(t, []byte(`{"a":"x"}`)), "x"},
		{"identity encoding", "application/json", "identity", "${body.a}", []byte(`{"a":"x"}`), "x"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			starter := &recordingStarter{}
			l := newTestTrigger(t, Trigger{Path: "/hook", Workflow: "wf", Input: tc.input}, starter)
			header := http.Header{}
			if tc.contentType != "" {
				header.Set("Content-Type", tc.contentType)
			}
			if tc.encoding != "" {
				header.Set("Content-Encoding", tc.encoding)
			}
			w := send(t, l, http.MethodPost, "/hook", header, tc.body)
			require.Equal(t, http.StatusOK, w.Code, "reply: %s", w.Body.String())
			inputs := starter.started()
			require.Len(t, inputs, 1)
			assert.Equal(t, tc.want, inputs[0])
		})
	}
}

func buildMultipart(t *testing.T) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	require.NoError(t, mw.WriteField("subject", "Hello"))
	require.NoError(t, mw.WriteField("from", "sender@example.com"))
	fw, err := mw.CreateFormFile("attachment1", "a.txt")
	require.NoError(t, err)
	_, err = fw.Write([]byte("file contents"))
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	return buf.Bytes(), mw.FormDataContentType()
}

// TestBodyRejected checks the status and message for bodies that do not
// parse, and that nothing starts and no request bytes are echoed.
func TestBodyRejected(t *testing.T) {
	bomb := gzipBytes(t, bytes.Repeat([]byte("a"), 2<<20))
	cases := []struct {
		name        string
		contentType string
		encoding    string
		body        []byte
		status      int
		message     string
	}{
		{"malformed json", "application/json", "", []byte(`{"a":SECRETVALUE}`), http.StatusBadRequest, "not valid JSON (declared as application/json): syntax error at byte"},
		{"trailing garbage", "application/json", "", []byte(`{"a":1} SECRETVALUE`), http.StatusBadRequest, "not valid JSON"},
		{"invalid utf-8 json", "application/json", "", []byte("{\"a\":\"\xff\xfeSECRETVALUE\"}"), http.StatusBadRequest, "not valid UTF-8"},
		{"invalid utf-8 text", "text/plain", "", []byte("\xffSECRETVALUE"), http.StatusBadRequest, "not valid UTF-8"},
		{"invalid utf-8 form", "application/x-www-form-urlencoded", "", []byte("a=%ffSECRETVALUE"), http.StatusBadRequest, "not valid UTF-8"},
		{"bad form escape", "application/x-www-form-urlencoded", "", []byte("a=%zzSECRETVALUE"), http.StatusBadRequest, "not valid application/x-www-form-urlencoded"},
		{"form payload bad json", "application/x-www-form-urlencoded", "", []byte("payload=%7BSECRETVALUE"), http.StatusBadRequest, "payload is not valid JSON"},
		{"multipart without boundary", "multipart/form-data", "", []byte("SECRETVALUE"), http.StatusBadRequest, "without a boundary"},
		{"multipart broken", "multipart/form-data; boundary=xyz", "", []byte("--xyz\r\nSECRETVALUE"), http.StatusBadRequest, "not valid multipart/form-data"},
		{"multipart without parts", "multipart/form-data; boundary=xyz", "", []byte("--xyz--\r\n"), http.StatusBadRequest, "not valid multipart/form-data"},
		{"multipart invalid utf-8 file name", "multipart/form-data; boundary=xyz", "", []byte("--xyz\r\nContent-Disposition: form-data; name=\"f\"; filename=\"\xffSECRETVALUE\"\r\n\r\ndata\r\n--xyz--\r\n"), http.StatusBadRequest, "file name or type is not valid UTF-8"},
		{"unsupported type", "application/octet-stream", "", []byte("SECRETVALUE"), http.StatusUnsupportedMediaType, "unsupported Content-Type"},
		{"unsupported encoding", "application/json", "br", []byte("SECRETVALUE"), http.StatusUnsupportedMediaType, "unsupported Content-Encoding"},
		{"invalid gzip", "application/json", "gzip", []byte("SECRETVALUE"), http.StatusBadRequest, "not valid gzip"},
		{"gzip expands past limit", "application/json", "gzip", bomb, http.StatusRequestEntityTooLarge, "decompressed request body is larger than the limit of 1048576 bytes"},
		{"body past limit", "application/json", "", bytes.Repeat([]byte("a"), 1<<20+1), http.StatusRequestEntityTooLarge, "larger than the limit of 1048576 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			starter := &recordingStarter{}
			cfg := TriggerConfig{
				Triggers: []Trigger{{Path: "/hook", Workflow: "wf"}},
				Limits:   Limits{MaxBodyBytes: 1 << 20},
			}
			l, err := NewTrigger(cfg, starter, nil)
			require.NoError(t, err)
			header := http.Header{"Content-Type": {tc.contentType}}
			if tc.encoding != "" {
				header.Set("Content-Encoding", tc.encoding)
			}
			w := send(t, l, http.MethodPost, "/hook", header, tc.body)
			assert.Equal(t, tc.status, w.Code)
			assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
			assert.Contains(t, w.Body.String(), tc.message)
			assert.NotContains(t, w.Body.String(), "SECRETVALUE")
			assert.Empty(t, starter.started())
		})
	}
}

func TestBodyTooLargeChunked(t *testing.T) {
	starter := &recordingStarter{}
	cfg := TriggerConfig{Triggers: []Trigger{{Path: "/hook", Workflow: "wf"}}, Limits: Limits{MaxBodyBytes: 100}}
	l, err := NewTrigger(cfg, starter, nil)
	require.NoError(t, err)
	r, err := http.NewRequest(http.MethodPost, "/hook", strings.NewReader(strings.Repeat("a", 101)))
	require.NoError(t, err)
	r.ContentLength = -1
	w := httptest.NewRecorder()
	l.ServeHTTP(w, r)
	assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code)
	assert.Empty(t, starter.started())
}

func TestParseContentType(t *testing.T) {
	cases := map[string]string{
		"":                                  "",
		"application/json":                  "application/json",
		"application/json; charset=UTF-8":   "application/json",
		"application/json; utf-8":           "application/json",
		"APPLICATION/JSON ;; x":             "application/json",
		"text/plain;charset=\"unterminated": "text/plain",
	}
	for in, want := range cases {
		got, _ := parseContentType(in)
		assert.Equal(t, want, got, "Content-Type %q", in)
	}
}
