package verify

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Standard Webhooks signs id + "." + timestamp + "." + body. A "v1,"
// entry carries the base64 HMAC-SHA256 of it under a shared secret, and
// a "v1a," entry the base64 Ed25519 signature under the sender's private
// key. Several entries, separated by spaces, may share one header while
// a secret is rotated.
const (
	headerWebhookID        = "Webhook-Id"
	headerWebhookTimestamp = "Webhook-Timestamp"
	headerWebhookSignature = "Webhook-Signature"
)

// Prefixes of Standard Webhooks keys. The base64 key follows each.
const (
	standardSecretPrefix    = "whsec_"
	standardPublicKeyPrefix = "whpk_"
)

// standardVerifier checks requests signed as Standard Webhooks describes.
type standardVerifier struct {
	keys      [][]byte
	publicKey ed25519.PublicKey // nil when only shared secrets are set
	window    window
}

func (c *checker) newStandardWebhooks(opts *Options) Verifier {
	c.unused(hmacOnlyFields...)
	v := &standardVerifier{window: c.window(opts)}

	if c.cfg.PublicKey != "" {
		key, err := decodeStandardPublicKey(c.cfg.PublicKey)
		if err != nil {
			c.fail("public_key", "%v", err)
		}
		v.publicKey = key
	}
	hasSecrets := c.cfg.Secret != "" || len(c.cfg.Secrets) > 0
	if !hasSecrets {
		if c.cfg.PublicKey == "" {
			c.fail("secret", "required for type standard-webhooks; set secret to the "+
				"\"whsec_\" key or public_key to the \"whpk_\" key")
		}
		return v
	}
	for _, secret := range c.secrets() {
		key, err := decodeStandardSecret(secret.value)
		if err != nil {
			c.fail(secret.field, "%v", err)
			continue
		}
		v.keys = append(v.keys, key)
	}
	return v
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

// decodeStandardPublicKey strips the optional "whpk_" prefix and decodes
// the base64 Ed25519 public key that follows.
func decodeStandardPublicKey(text string) (ed25519.PublicKey, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(text, standardPublicKeyPrefix))
	if err != nil || len(key) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("expected \"whpk_\" followed by the base64 of a %d-byte "+
			"Ed25519 public key", ed25519.PublicKeySize)
	}
	return key, nil
}

// Verify checks the three webhook-* headers, the timestamp window, and
// then every v1 and v1a signature.
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

	prefix := []byte(id + "." + strconv.FormatInt(seconds, 10) + ".")
	if macMatches(sha256.New, v.keys, signatures.symmetric, prefix, body) {
		return nil
	}
	if v.publicKey != nil && len(signatures.asymmetric) > 0 {
		message := make([]byte, 0, len(prefix)+len(body))
		message = append(append(message, prefix...), body...)
		for _, signature := range signatures.asymmetric {
			if ed25519.Verify(v.publicKey, message, signature) {
				return nil
			}
		}
	}
	return t.mismatch(headerWebhookSignature)
}

// standardSignatures are the decoded entries of a webhook-signature
// header.
type standardSignatures struct {
	symmetric  [][]byte // v1: HMAC-SHA256 digests
	asymmetric [][]byte // v1a: Ed25519 signatures
}

// parseStandardSignatures decodes a webhook-signature value such as
// "v1,K5oZ... v1,3fKx... v1a,hnO3...". Entries of other versions are
// skipped, and so are entries whose base64 does not decode to the size
// that their version needs. It fails when there is no v1 or v1a entry.
func parseStandardSignatures(value string) (standardSignatures, error) {
	var signatures standardSignatures
	known := 0
	for _, entry := range strings.Fields(value) {
		version, encoded, ok := strings.Cut(entry, ",")
		if !ok {
			continue
		}
		var size int
		var list *[][]byte
		switch version {
		case "v1":
			size, list = sha256.Size, &signatures.symmetric
		case "v1a":
			size, list = ed25519.SignatureSize, &signatures.asymmetric
		default:
			continue
		}
		known++
		signature, err := base64.StdEncoding.DecodeString(encoded)
		if err == nil && len(signature) == size {
			*list = append(*list, signature)
		}
	}
	if known == 0 {
		return standardSignatures{}, errors.New("no \"v1,\" or \"v1a,\" signature")
	}
	return signatures, nil
}
