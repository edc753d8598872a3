package verify_test

import (
	"crypto/ed25519"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/verify"
)

func TestDiscordCases(t *testing.T) {
	key := testKey(0)
	publicKey := hex.EncodeToString(key.Public().(ed25519.PublicKey))
	v := mustNew(t, verify.Config{Type: "discord", PublicKey: publicKey}, options())
	const sig, ts = "X-Signature-Ed25519", "X-Signature-Timestamp"
	valid := signDiscord(key, now, body)
	stale := now.Add(-6 * time.Minute)
	future := now.Add(6 * time.Minute)

	runCases(t, v, nil, []verifyCase{
		{"valid", headers(sig, valid, ts, unix(now)), body, nil},
		{"upper-case hex", headers(sig, strings.ToUpper(valid), ts, unix(now)), body, nil},
		{"tampered body",
			headers(sig, valid, ts, unix(now)), strings.Replace(body, "evt_1", "evt_2", 1), verify.ErrMismatch},
		{"re-encoded body", headers(sig, valid, ts, unix(now)), reencodedBody, verify.ErrMismatch},
		{"other key",
			headers(sig, signDiscord(testKey(1), now, body), ts, unix(now)), body, verify.ErrMismatch},
		{"timestamp changed",
			headers(sig, valid, ts, unix(now.Add(time.Second))), body, verify.ErrMismatch},
		{"stale timestamp",
			headers(sig, signDiscord(key, stale, body), ts, unix(stale)), body, verify.ErrStale},
		{"future timestamp",
			headers(sig, signDiscord(key, future, body), ts, unix(future)), body, verify.ErrStale},
		{"short signature",
			headers(sig, valid[:64], ts, unix(now)), body, verify.ErrMalformedHeader},
		{"bad hex",
			headers(sig, strings.Repeat("g", 128), ts, unix(now)), body, verify.ErrMalformedHeader},
		{"timestamp not a number", headers(sig, valid, ts, "1e9"), body, verify.ErrMalformedHeader},
		{"missing signature", headers(ts, unix(now)), body, verify.ErrMissingHeader},
		{"missing timestamp", headers(sig, valid), body, verify.ErrMissingHeader},
	})
}
