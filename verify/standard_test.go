package verify_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/verify"
)

func TestStandardWebhooksCases(t *testing.T) {
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("standard-key-new-0123456789abcd"))
	oldSecret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("standard-key-old-0123456789abcd"))
	unprefixed := strings.TrimPrefix(oldSecret, "whsec_")
	v := mustNew(t, verify.Config{Type: "standard-webhooks", Secret: verify.Secret(secret)}, options())
	rotated := mustNew(t, verify.Config{
		Type: "Standard-Webhooks", Secrets: []verify.Secret{verify.Secret(secret), verify.Secret(unprefixed)},
	}, options())
	const id, tsName, sigName, idName = "msg_2b7Y0C1", "webhook-timestamp", "webhook-signature", "webhook-id"
	valid := signStandard(secret, id, now, body)
	request := func(signature string, at time.Time) http.Header {
		return headers(idName, id, tsName, unix(at), sigName, signature)
	}
	stale := now.Add(-10 * time.Minute)
	future := now.Add(10 * time.Minute)
	otherVersion := "v2," + base64.StdEncoding.EncodeToString(make([]byte, 32))
	unverifiable := "v1a," + base64.StdEncoding.EncodeToString(make([]byte, 64))

	runCases(t, v, []string{secret}, []verifyCase{
		{"valid", request(valid, now), body, nil},
		{"valid among others",
			request(otherVersion+" v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= "+valid, now), body, nil},
		{"valid with extra spaces", request("  "+valid+"   ", now), body, nil},
		{"tampered body", request(valid, now), strings.ToUpper(body), verify.ErrMismatch},
		{"re-encoded body", request(valid, now), reencodedBody, verify.ErrMismatch},
		{"other id",
			headers(idName, "msg_other", tsName, unix(now), sigName, valid), body, verify.ErrMismatch},
		{"stale timestamp",
			request(signStandard(secret, id, stale, body), stale), body, verify.ErrStale},
		{"future timestamp",
			request(signStandard(secret, id, future, body), future), body, verify.ErrStale},
		{"only other versions", request(otherVersion, now), body, verify.ErrMalformedHeader},
		{"v1a without public key", request(unverifiable, now), body, verify.ErrMismatch},
		{"no comma", request("v1"+valid[3:], now), body, verify.ErrMalformedHeader},
		{"bad base64", request("v1,!!!!", now), body, verify.ErrMismatch},
		{"timestamp not a number",
			headers(idName, id, tsName, "now", sigName, valid), body, verify.ErrMalformedHeader},
		{"missing id", headers(tsName, unix(now), sigName, valid), body, verify.ErrMissingHeader},
		{"missing timestamp", headers(idName, id, sigName, valid), body, verify.ErrMissingHeader},
		{"missing signature",
			headers(idName, id, tsName, unix(now)), body, verify.ErrMissingHeader},
	})
	runCases(t, rotated, []string{secret, oldSecret, unprefixed}, []verifyCase{
		{"rotated new secret", request(valid, now), body, nil},
		{"rotated old secret without prefix",
			request(signStandard(oldSecret, id, now, body), now), body, nil},
		{"rotated both signatures",
			request(signStandard(oldSecret, id, now, body)+" "+valid, now), body, nil},
	})
}

// The Standard Webhooks reference libraries test their signer against
// this message, secret and signature.
func TestStandardWebhooksReferenceVector(t *testing.T) {
	signedAt := time.Unix(1614265330, 0)
	v := mustNew(t, verify.Config{
		Type:   "standard-webhooks",
		Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	}, &verify.Options{Clock: fixedClock{signedAt}})
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.Header.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	r.Header.Set("webhook-timestamp", "1614265330")
	r.Header.Set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")

	assert.NoError(t, v.Verify(r, []byte(`{"test": 2432232314}`)))
	assert.ErrorIs(t, v.Verify(r, []byte(`{"test":2432232314}`)), verify.ErrMismatch)
}

func TestStandardWebhooksAsymmetric(t *testing.T) {
	key := testKey(2)
	publicKey := "whpk_" + base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("standard-key-mixed-0123456789ab"))
	onlyKey := mustNew(t, verify.Config{Type: "standard-webhooks", PublicKey: publicKey}, options())
	mixed := mustNew(t, verify.Config{
		Type: "standard-webhooks", PublicKey: publicKey, Secret: verify.Secret(secret),
	}, options())
	const id = "msg_asym"
	sign := func(signer ed25519.PrivateKey, at time.Time, payload string) string {
		message := id + "." + unix(at) + "." + payload
		return "v1a," + base64.StdEncoding.EncodeToString(ed25519.Sign(signer, []byte(message)))
	}
	request := func(signature string, at time.Time) http.Header {
		return headers("webhook-id", id, "webhook-timestamp", unix(at), "webhook-signature", signature)
	}
	valid := sign(key, now, body)
	stale := now.Add(-time.Hour)

	runCases(t, onlyKey, nil, []verifyCase{
		{"v1a valid", request(valid, now), body, nil},
		{"v1a beside v1", request(signStandard(secret, id, now, body)+" "+valid, now), body, nil},
		{"v1a tampered body", request(valid, now), reencodedBody, verify.ErrMismatch},
		{"v1a other key", request(sign(testKey(3), now, body), now), body, verify.ErrMismatch},
		{"v1a stale", request(sign(key, stale, body), stale), body, verify.ErrStale},
		{"v1 only without secret",
			request(signStandard(secret, id, now, body), now), body, verify.ErrMismatch},
		{"v1a short", request("v1a,AAAA", now), body, verify.ErrMismatch},
	})
	runCases(t, mixed, []string{secret}, []verifyCase{
		{"mixed v1a", request(valid, now), body, nil},
		{"mixed v1", request(signStandard(secret, id, now, body), now), body, nil},
	})
}

func TestStandardWebhooksPublicKeyConfig(t *testing.T) {
	_, err := verify.New(verify.Config{Type: "standard-webhooks", PublicKey: "whpk_AAAA"}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(),
		`verify.public_key: expected "whpk_" followed by the base64 of a 32-byte Ed25519 public key`)

	_, err = verify.New(verify.Config{Type: "standard-webhooks"}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `verify.secret: required for type standard-webhooks; `+
		`set secret to the "whsec_" key or public_key to the "whpk_" key`)
}
