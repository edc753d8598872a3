package verify

import (
	"crypto/sha256"
	"net/http"
)

// Slack signs "v0:" + timestamp + ":" + body with HMAC-SHA256 and sends
// "v0=" and the hex digest.
const (
	headerSlackSignature = "X-Slack-Signature"
	headerSlackTimestamp = "X-Slack-Request-Timestamp"
)

// slackVerifier checks requests signed with a Slack app's signing secret.
type slackVerifier struct {
	keys   [][]byte
	window window
}

func (c *checker) newSlack(opts *Options) Verifier {
	c.unused(withHMACFields("public_key")...)
	return &slackVerifier{keys: c.hmacKeys(), window: c.window(opts)}
}

// Verify checks the timestamp window, then X-Slack-Signature.
func (v *slackVerifier) Verify(r *http.Request, body []byte) error {
	const t rejecter = TypeSlack
	timestamp, err := t.header(r.Header, headerSlackTimestamp)
	if err != nil {
		return err
	}
	value, err := t.header(r.Header, headerSlackSignature)
	if err != nil {
		return err
	}
	seconds, ok := parseUnixSeconds(timestamp)
	if !ok {
		return t.malformed(headerSlackTimestamp, "expected a Unix time in whole seconds")
	}
	signature, err := parsePrefixedHex(value, "v0=", sha256.Size)
	if err != nil {
		return t.malformed(headerSlackSignature, "%v", err)
	}
	if err := v.window.check(t, headerSlackTimestamp, seconds); err != nil {
		return err
	}
	content := [][]byte{[]byte("v0:" + timestamp + ":"), body}
	if !macMatches(sha256.New, v.keys, [][]byte{signature}, content...) {
		return t.mismatch(headerSlackSignature)
	}
	return nil
}
