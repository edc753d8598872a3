package verify_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/verify"
)

func TestGitHubCases(t *testing.T) {
	const secret, oldSecret = "gh-secret-new", "gh-secret-old"
	v := mustNew(t, verify.Config{Type: "github", Secret: secret}, nil)
	rotated := mustNew(t, verify.Config{
		Type: "github", Secret: secret, Secrets: []verify.Secret{oldSecret},
	}, nil)
	const name = "X-Hub-Signature-256"
	valid := signGitHub(secret, body)

	runCases(t, v, []string{secret}, []verifyCase{
		{"valid", headers(name, valid), body, nil},
		{"upper-case hex", headers(name, "sha256="+strings.ToUpper(valid[7:])), body, nil},
		{"empty body", headers(name, signGitHub(secret, "")), "", nil},
		{"tampered body",
			headers(name, valid), strings.Replace(body, "1", "2", 1), verify.ErrMismatch},
		{"re-encoded body", headers(name, valid), reencodedBody, verify.ErrMismatch},
		{"trailing newline", headers(name, valid), body + "\n", verify.ErrMismatch},
		{"other secret", headers(name, signGitHub("wrong", body)), body, verify.ErrMismatch},
		{"old secret unconfigured",
			headers(name, signGitHub(oldSecret, body)), body, verify.ErrMismatch},
		{"missing header", headers(), body, verify.ErrMissingHeader},
		{"empty header", headers(name, ""), body, verify.ErrMissingHeader},
		{"sha1 header only",
			headers("X-Hub-Signature", "sha1=0a0b"), body, verify.ErrMissingHeader},
		{"no prefix", headers(name, valid[7:]), body, verify.ErrMalformedHeader},
		{"sha1 prefix", headers(name, "sha1="+valid[7:]), body, verify.ErrMalformedHeader},
		{"bad hex",
			headers(name, "sha256="+strings.Repeat("zz", 32)), body, verify.ErrMalformedHeader},
		{"short digest", headers(name, valid[:len(valid)-2]), body, verify.ErrMalformedHeader},
		{"long digest", headers(name, valid+"00"), body, verify.ErrMalformedHeader},
		{"sent twice", headers(name, valid, name, valid), body, verify.ErrMalformedHeader},
	})
	runCases(t, rotated, []string{secret, oldSecret}, []verifyCase{
		{"rotated new secret", headers(name, valid), body, nil},
		{"rotated old secret", headers(name, signGitHub(oldSecret, body)), body, nil},
		{"rotated other secret",
			headers(name, signGitHub("third", body)), body, verify.ErrMismatch},
	})
}

// GitHub's documentation gives this pair to check an implementation
// against: secret "It's a Secret to Everybody", payload "Hello, World!".
func TestGitHubDocumentedVector(t *testing.T) {
	v := mustNew(t, verify.Config{Type: "github", Secret: "It's a Secret to Everybody"}, nil)
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.Header.Set("X-Hub-Signature-256",
		"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")

	assert.NoError(t, v.Verify(r, []byte("Hello, World!")))
	assert.ErrorIs(t, v.Verify(r, []byte("Hello, World?")), verify.ErrMismatch)
}

func TestGitHubMismatchOmitsExpected(t *testing.T) {
	const secret = "gh-secret"
	v := mustNew(t, verify.Config{Type: "github", Secret: secret}, nil)
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.Header.Set("X-Hub-Signature-256", signGitHub(secret, "other body"))

	err := v.Verify(r, []byte(body))
	require.Error(t, err)
	expected := signGitHub(secret, body)
	assert.NotContains(t, err.Error(), expected[7:])
	assert.NotContains(t, err.Error(), secret)
	assert.Equal(t, "verify github: no signature in header X-Hub-Signature-256 matched", err.Error())
}

// TestGitHubOverHTTP sends real requests over loopback to a handler that
// verifies the raw body before parsing it, as the listener does.
func TestGitHubOverHTTP(t *testing.T) {
	const secret = "gh-secret"
	v := mustNew(t, verify.Config{Type: "github", Secret: secret}, nil)
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := v.Verify(r, raw); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer server.Close()

	send := func(payload, signature string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, server.URL, bytes.NewBufferString(payload))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if signature != "" {
			req.Header.Set("X-Hub-Signature-256", signature)
		}
		resp, err := server.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		text, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(text)
	}

	status, _ := send(body, signGitHub(secret, body))
	assert.Equal(t, http.StatusNoContent, status)

	status, text := send(reencodedBody, signGitHub(secret, body))
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Contains(t, text, "no signature in header X-Hub-Signature-256 matched")

	status, text = send(body, "")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Contains(t, text, "missing header X-Hub-Signature-256")
}
