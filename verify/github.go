package verify

import (
	"crypto/sha256"
	"net/http"
)

// headerGitHubSignature carries "sha256=" and the hex HMAC-SHA256 of the
// body. GitHub's older X-Hub-Signature header uses SHA-1 and is ignored.
const headerGitHubSignature = "X-Hub-Signature-256"

// gitHubVerifier checks GitHub webhook deliveries.
type gitHubVerifier struct {
	keys [][]byte
}

func (c *checker) newGitHub() Verifier {
	c.unused(withHMACFields("public_key", "tolerance")...)
	return &gitHubVerifier{keys: c.hmacKeys()}
}

// Verify checks X-Hub-Signature-256 against the body.
func (v *gitHubVerifier) Verify(r *http.Request, body []byte) error {
	const t rejecter = TypeGitHub
	value, err := t.header(r.Header, headerGitHubSignature)
	if err != nil {
		return err
	}
	signature, err := parsePrefixedHex(value, "sha256=", sha256.Size)
	if err != nil {
		return t.malformed(headerGitHubSignature, "%v", err)
	}
	if !macMatches(sha256.New, v.keys, [][]byte{signature}, body) {
		return t.mismatch(headerGitHubSignature)
	}
	return nil
}
