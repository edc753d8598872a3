// Package verifytest signs requests the way each provider does, so that
// tests of a listener can send requests that a verify.Verifier accepts,
// and then change one thing to see them rejected.
//
// Each function sets the provider's headers on h. Pass the body bytes
// exactly as the test will send them. The functions are safe for
// concurrent use on different headers.
package verifytest

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// GitHub sets X-Hub-Signature-256 to "sha256=" and the hex HMAC-SHA256 of
// body under secret.
func GitHub(h http.Header, secret string, body []byte) {
	h.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac([]byte(secret), body)))
}

// Stripe sets Stripe-Signature to "t=<at>" followed by one "v1=" item per
// secret, as Stripe sends while an endpoint secret is being rolled.
func Stripe(h http.Header, body []byte, at time.Time, secrets ...string) {
	timestamp := unix(at)
	items := []string{"t=" + timestamp}
	for _, secret := range secrets {
		sum := mac([]byte(secret), []byte(timestamp+"."), body)
		items = append(items, "v1="+hex.EncodeToString(sum))
	}
	h.Set("Stripe-Signature", strings.Join(items, ","))
}

// Slack sets X-Slack-Request-Timestamp to at and X-Slack-Signature to
// "v0=" and the hex HMAC-SHA256 of "v0:<at>:" + body under secret.
func Slack(h http.Header, secret string, body []byte, at time.Time) {
	timestamp := unix(at)
	sum := mac([]byte(secret), []byte("v0:"+timestamp+":"), body)
	h.Set("X-Slack-Request-Timestamp", timestamp)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(sum))
}

// StandardWebhooks sets webhook-id, webhook-timestamp and
// webhook-signature, with one "v1," entry per secret. Each secret is
// base64, with or without the "whsec_" prefix. It returns an error,
// naming the position of the secret, when one is not valid base64.
func StandardWebhooks(h http.Header, id string, body []byte, at time.Time, secrets ...string) error {
	timestamp := unix(at)
	var entries []string
	for i, secret := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		if err != nil {
			return fmt.Errorf("decode secret %d: %w", i, err)
		}
		sum := mac(key, []byte(id+"."+timestamp+"."), body)
		entries = append(entries, "v1,"+base64.StdEncoding.EncodeToString(sum))
	}
	h.Set("Webhook-Id", id)
	h.Set("Webhook-Timestamp", timestamp)
	h.Set("Webhook-Signature", strings.Join(entries, " "))
	return nil
}

// Discord sets X-Signature-Timestamp to at and X-Signature-Ed25519 to the
// hex Ed25519 signature of "<at>" + body under key.
func Discord(h http.Header, key ed25519.PrivateKey, body []byte, at time.Time) {
	timestamp := unix(at)
	message := append([]byte(timestamp), body...)
	h.Set("X-Signature-Timestamp", timestamp)
	h.Set("X-Signature-Ed25519", hex.EncodeToString(ed25519.Sign(key, message)))
}

// HMAC returns the hex HMAC-SHA256 of the concatenated parts under
// secret, for a verify: block of type hmac with the default algorithm and
// encoding. The parts are the pieces of its signed_content, in order.
func HMAC(secret string, parts ...[]byte) string {
	return hex.EncodeToString(mac([]byte(secret), parts...))
}

func mac(key []byte, parts ...[]byte) []byte {
	digest := hmac.New(sha256.New, key)
	for _, part := range parts {
		digest.Write(part)
	}
	return digest.Sum(nil)
}

func unix(at time.Time) string { return strconv.FormatInt(at.Unix(), 10) }
