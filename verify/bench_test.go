package verify_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tether-go/tether/verify"
)

// benchmarkBody is a 4 KiB JSON-like body, the size of a typical event.
var benchmarkBody = `{"data":"` + strings.Repeat("x", 4096-11) + `"}`

func benchmarkVerify(b *testing.B, cfg verify.Config, header http.Header) {
	v, err := verify.New(cfg, options())
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/hook", nil)
	r.Header = header
	raw := []byte(benchmarkBody)
	if err := v.Verify(r, raw); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(r, raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyGitHub(b *testing.B) {
	benchmarkVerify(b, verify.Config{Type: "github", Secret: "s"},
		headers("X-Hub-Signature-256", signGitHub("s", benchmarkBody)))
}

func BenchmarkVerifyStripe(b *testing.B) {
	benchmarkVerify(b, verify.Config{Type: "stripe", Secret: "s"},
		headers("Stripe-Signature", "t="+unix(now)+","+signStripe("s", now, benchmarkBody)))
}

func BenchmarkVerifyStandardWebhooks(b *testing.B) {
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("benchmark-key"))
	benchmarkVerify(b, verify.Config{Type: "standard-webhooks", Secret: verify.Secret(secret)},
		headers("webhook-id", "msg_1", "webhook-timestamp", unix(now),
			"webhook-signature", signStandard(secret, "msg_1", now, benchmarkBody)))
}

func BenchmarkVerifyDiscord(b *testing.B) {
	key := testKey(0)
	publicKey := key.Public().(ed25519.PublicKey)
	benchmarkVerify(b, verify.Config{Type: "discord", PublicKey: hex.EncodeToString(publicKey)},
		headers("X-Signature-Ed25519", signDiscord(key, now, benchmarkBody),
			"X-Signature-Timestamp", unix(now)))
}
