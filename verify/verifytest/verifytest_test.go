package verifytest_test

import (
	"crypto/ed25519"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/verify"
	"github.com/tether-go/tether/verify/verifytest"
)

var body = []byte(`{"id":"evt_1","type":"thing.updated"}`)

func request() *http.Request {
	return httptest.NewRequest(http.MethodPost, "/hook", nil)
}

func mustVerifier(t *testing.T, cfg verify.Config) verify.Verifier {
	t.Helper()
	v, err := verify.New(cfg, nil)
	require.NoError(t, err)
	return v
}

// GitHub's documentation gives this pair to check an implementation
// against: secret "It's a Secret to Everybody", payload "Hello, World!".
func TestGitHubDocumentedVector(t *testing.T) {
	h := http.Header{}
	verifytest.GitHub(h, "It's a Secret to Everybody", []byte("Hello, World!"))
	assert.Equal(t, "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
		h.Get("X-Hub-Signature-256"))
}

// The Standard Webhooks reference libraries test their signer against
// this message, secret and signature.
func TestStandardWebhooksReferenceVector(t *testing.T) {
	h := http.Header{}
	err := verifytest.StandardWebhooks(h, "msg_p5jXN8AQM9LWM0D4loKWxJek", []byte(`{"test": 2432232314}`),
		time.Unix(1614265330, 0), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	require.NoError(t, err)
	assert.Equal(t, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", h.Get("webhook-signature"))
	assert.Equal(t, "1614265330", h.Get("webhook-timestamp"))
}

func TestStandardWebhooksBadSecret(t *testing.T) {
	err := verifytest.StandardWebhooks(http.Header{}, "msg_1", body, time.Now(), "whsec_a2V5", "not base64!")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "decode secret 1")
}

func TestSignersMatchVerifiers(t *testing.T) {
	at := time.Now()
	key := ed25519.NewKeyFromSeed([]byte(strings.Repeat("k", ed25519.SeedSize)))
	publicKey := hex.EncodeToString(key.Public().(ed25519.PublicKey))
	cases := []struct {
		name string
		cfg  verify.Config
		sign func(h http.Header) error
	}{
		{"github", verify.Config{Type: "github", Secret: "g"}, func(h http.Header) error {
			verifytest.GitHub(h, "g", body)
			return nil
		}},
		{"stripe rotated", verify.Config{Type: "stripe", Secret: "new"}, func(h http.Header) error {
			verifytest.Stripe(h, body, at, "old", "new")
			return nil
		}},
		{"slack", verify.Config{Type: "slack", Secret: "s"}, func(h http.Header) error {
			verifytest.Slack(h, "s", body, at)
			return nil
		}},
		{"standard-webhooks", verify.Config{Type: "standard-webhooks", Secret: "whsec_a2V5"}, func(h http.Header) error {
			return verifytest.StandardWebhooks(h, "msg_1", body, at, "d3Jvbmc=", "whsec_a2V5")
		}},
		{"discord", verify.Config{Type: "discord", PublicKey: publicKey}, func(h http.Header) error {
			verifytest.Discord(h, key, body, at)
			return nil
		}},
		{"hmac", verify.Config{Type: "hmac", Secret: "h", Header: "X-Sig", SignedContent: "${header.X-Id}:${body}"},
			func(h http.Header) error {
				h.Set("X-Id", "42")
				h.Set("X-Sig", verifytest.HMAC("h", []byte("42:"), body))
				return nil
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := mustVerifier(t, tc.cfg)
			r := request()
			require.NoError(t, tc.sign(r.Header))

			assert.NoError(t, v.Verify(r, body))
			assert.ErrorIs(t, v.Verify(r, append([]byte(" "), body...)), verify.ErrMismatch)
		})
	}
}
