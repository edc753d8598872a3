package verify_test

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/clock"
	"github.com/tether-go/tether/verify"
)

// now is the fixed time of every test clock.
var now = time.Unix(1_700_000_000, 0)

// Bodies in the shape of a webhook event. reencodedBody is the same JSON
// as body with different whitespace, which must not verify.
const (
	body          = `{"id":"evt_1","type":"thing.updated","data":{"n":1}}`
	reencodedBody = `{"id": "evt_1", "type": "thing.updated", "data": {"n": 1}}`
)

// fixedClock is a clock.Clock that always returns the same time.
type fixedClock struct{ at time.Time }

func (c fixedClock) Now() time.Time { return c.at }

func (c fixedClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	return time.AfterFunc(d, f)
}

func options() *verify.Options { return &verify.Options{Clock: fixedClock{now}} }

func mustNew(t *testing.T, cfg verify.Config, opts *verify.Options) verify.Verifier {
	t.Helper()
	v, err := verify.New(cfg, opts)
	require.NoError(t, err)
	require.NotNil(t, v)
	return v
}

func hmacSHA256(key []byte, parts ...string) []byte {
	mac := hmac.New(sha256.New, key)
	for _, p := range parts {
		mac.Write([]byte(p))
	}
	return mac.Sum(nil)
}

func unix(at time.Time) string { return strconv.FormatInt(at.Unix(), 10) }

func signGitHub(secret, body string) string {
	return "sha256=" + hex.EncodeToString(hmacSHA256([]byte(secret), body))
}

// signStripe returns one "v1=..." item for a Stripe-Signature header.
func signStripe(secret string, at time.Time, body string) string {
	return "v1=" + hex.EncodeToString(hmacSHA256([]byte(secret), unix(at), ".", body))
}

func signSlack(secret string, at time.Time, body string) string {
	return "v0=" + hex.EncodeToString(hmacSHA256([]byte(secret), "v0:", unix(at), ":", body))
}

// signStandard returns one "v1,..." entry for a webhook-signature header.
// secret carries the "whsec_" prefix.
func signStandard(secret, id string, at time.Time, body string) string {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		panic(err)
	}
	sum := hmacSHA256(key, id, ".", unix(at), ".", body)
	return "v1," + base64.StdEncoding.EncodeToString(sum)
}

func signDiscord(key ed25519.PrivateKey, at time.Time, body string) string {
	return hex.EncodeToString(ed25519.Sign(key, []byte(unix(at)+body)))
}

// testKey returns a deterministic Ed25519 key, so that failures repeat.
func testKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed([]byte(strings.Repeat(string(rune('a'+seed)), ed25519.SeedSize)))
}

// verifyCase is one request in a provider table. want is nil for a
// request that must verify, or the sentinel the rejection must match.
type verifyCase struct {
	name   string
	header http.Header
	body   string
	want   error
}

// runCases verifies each case as a POST request and checks that every
// rejection also matches ErrUnverified and never quotes a secret.
func runCases(t *testing.T, v verify.Verifier, secrets []string, cases []verifyCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(tc.body))
			for name, values := range tc.header {
				for _, value := range values {
					r.Header.Add(name, value)
				}
			}
			err := v.Verify(r, []byte(tc.body))
			if tc.want == nil {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			assert.ErrorIs(t, err, verify.ErrUnverified)
			var rejection *verify.Error
			assert.ErrorAs(t, err, &rejection)
			for _, secret := range secrets {
				assert.NotContains(t, err.Error(), secret)
			}
		})
	}
}

// headers builds an http.Header from name/value pairs. A name given
// twice gets two values.
func headers(pairs ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(pairs); i += 2 {
		h.Add(pairs[i], pairs[i+1])
	}
	return h
}
