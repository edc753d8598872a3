package verify

import (
	"crypto/hmac"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
)

// macMatches reports whether the HMAC of the concatenated parts under any
// of keys equals any of signatures. Each comparison is constant-time.
// The parts are written to the MAC one after the other, so the body is
// never copied.
func macMatches(newHash func() hash.Hash, keys, signatures [][]byte, parts ...[]byte) bool {
	if len(signatures) == 0 {
		return false
	}
	for _, key := range keys {
		mac := hmac.New(newHash, key)
		for _, part := range parts {
			mac.Write(part)
		}
		sum := mac.Sum(nil)
		for _, signature := range signatures {
			if hmac.Equal(sum, signature) {
				return true
			}
		}
	}
	return false
}

// parsePrefixedHex decodes a header value of the form prefix followed by
// exactly size bytes in hex, such as "sha256=" and 64 hex digits.
func parsePrefixedHex(value, prefix string, size int) ([]byte, error) {
	digits, ok := strings.CutPrefix(value, prefix)
	if !ok {
		return nil, fmt.Errorf("expected %q followed by %d hex digits", prefix, 2*size)
	}
	if len(digits) != 2*size {
		return nil, fmt.Errorf("expected %d hex digits after %q, got %d characters",
			2*size, prefix, len(digits))
	}
	signature, err := hex.DecodeString(digits)
	if err != nil {
		return nil, fmt.Errorf("invalid hex after %q", prefix)
	}
	return signature, nil
}
