package verify

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// Standard Webhooks signs id + "." + timestamp + "." + body with
// HMAC-SHA256 and sends "v1," and the base64 digest. Several signatures,
// separated by spaces, may share one header while a secret is rotated.
const (
	headerWebhookID        = "Webhook-Id"
	headerWebhookTimestamp = "Webhook-Timestamp"
	headerWebhookSignature = "Webhook-Signature"
)

// standardSecretPrefix marks a Standard Webhooks secret. The base64 key
// follows it.
const standardSecretPrefix = "whsec_"

// standardVerifier checks requests signed as Standard Webhooks describes.
type standardVerifier struct {
	keys   [][]byte
	window window
}

func (c *checker) newStandardWebhooks(opts *Options) Verifier {
	c.unused(withHMACFields("public_key")...)
	var keys [][]byte
	for _, secret := range c.secrets() {
		key, err := decodeStandardSecret(secret.value)
		if err != nil {
			c.fail(secret.field, "%v", err)
			continue
		}
		keys = append(keys, key)
	}
	return &standardVerifier{keys: keys, window: c.window(opts)}
}

// decodeStandardSecret strips the optional "whsec_" prefix and decodes
// the standard base64 that follows. The error never quotes the secret.
func decodeStandardSecret(secret string) ([]byte, error) {
	encoded := strings.TrimPrefix(secret, standardSecretPrefix)
	key, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return nil, errors.New("invalid base64; expected \"whsec_\" followed by " +
			"the base64 key shown by the sender")
	}
	if len(key) == 0 {
		return nil, errors.New("empty key after the \"whsec_\" prefix")
	}
	return key, nil
}

// Verify checks the three webhook-* headers, the timestamp window, and
// then every v1 signature.
func (v *standardVerifier) Verify(r *http.Request, body []byte) error {
	const t rejecter = TypeStandardWebhooks
	id, err := t.header(r.Header, headerWebhookID)
	if err != nil {
		return err
	}
	timestamp, err := t.header(r.Header, headerWebhookTimestamp)
	if err != nil {
		return err
	}
	value, err := t.header(r.Header, headerWebhookSignature)
	if err != nil {
		return err
	}
	seconds, ok := parseUnixSeconds(timestamp)
	if !ok {
		return t.malformed(headerWebhookTimestamp, "expected a Unix time in whole seconds")
	}
	signatures, err := parseStandardSignatures(value)
	if err != nil {
		return t.malformed(headerWebhookSignature, "%v", err)
	}
	if err := v.window.check(t, headerWebhookTimestamp, seconds); err != nil {
		return err
	}
	prefix := id + "." + strconv.FormatInt(seconds, 10) + "."
	if !macMatches(sha256.New, v.keys, signatures, []byte(prefix), body) {
		return t.mismatch(headerWebhookSignature)
	}
	return nil
}

// parseStandardSignatures returns the decoded v1 signatures of a
// webhook-signature value such as "v1,K5oZ... v1,3fKx... v1a,...".
// Entries of other versions are skipped, and so are v1 entries that are
// not the base64 of a SHA-256 digest. It fails when there is no v1 entry
// at all.
func parseStandardSignatures(value string) ([][]byte, error) {
	var signatures [][]byte
	v1Entries := 0
	for _, entry := range strings.Fields(value) {
		version, encoded, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue
		}
		v1Entries++
		signature, err := base64.StdEncoding.DecodeString(encoded)
		if err == nil && len(signature) == sha256.Size {
			signatures = append(signatures, signature)
		}
	}
	if v1Entries == 0 {
		return nil, errors.New("no \"v1,\" signature")
	}
	return signatures, nil
}
