package verify

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"net/textproto"
	"strings"
)

// hmacAlgorithms maps Config.Algorithm to a hash. SHA-1 is offered for
// senders that still use it. HMAC does not depend on the collision
// resistance that SHA-1 has lost.
var hmacAlgorithms = map[string]func() hash.Hash{
	"sha1":   sha1.New,
	"sha256": sha256.New,
	"sha384": sha512.New384,
	"sha512": sha512.New,
}

// signatureDecoders maps Config.Encoding to a decoder of the signature.
var signatureDecoders = map[string]func(string) ([]byte, error){
	"hex":       hex.DecodeString,
	"base64":    decodeBase64(base64.StdEncoding),
	"base64url": decodeBase64(base64.URLEncoding),
}

// decodeBase64 returns a decoder that accepts enc with or without
// padding.
func decodeBase64(enc *base64.Encoding) func(string) ([]byte, error) {
	return func(s string) ([]byte, error) {
		if strings.HasSuffix(s, "=") || len(s)%4 == 0 {
			return enc.DecodeString(s)
		}
		return enc.WithPadding(base64.NoPadding).DecodeString(s)
	}
}

// hmacVerifier checks a signature that a generic sender computed as the
// HMAC of a signed_content template.
type hmacVerifier struct {
	keys            [][]byte
	newHash         func() hash.Hash
	size            int
	decode          func(string) ([]byte, error)
	header          string
	prefix          string
	content         signedContent
	timestampHeader string
	window          window
}

func (c *checker) newHMAC(opts *Options) Verifier {
	cfg := c.cfg
	c.unused("public_key")
	v := &hmacVerifier{
		keys:   c.hmacKeys(),
		prefix: cfg.Prefix,
	}

	v.header = c.headerName("header", cfg.Header, true)
	v.timestampHeader = c.headerName("timestamp_header", cfg.TimestampHeader, false)
	if v.timestampHeader != "" {
		v.window = c.window(opts)
	} else if cfg.Tolerance != 0 {
		c.fail("tolerance", "used only with timestamp_header for type hmac; "+
			"set timestamp_header or remove tolerance")
	}

	v.newHash, v.size = c.hmacAlgorithm()
	v.decode = c.signatureDecoder()

	template := cfg.SignedContent
	if template == "" {
		template = "${body}"
	}
	content, err := parseSignedContent(template)
	if err != nil {
		c.fail("signed_content", "%v", err)
	}
	v.content = content
	if err == nil && v.timestampHeader != "" && !content.references(v.timestampHeader) {
		c.fail("timestamp_header", "%s is not signed; add ${header.%s} to signed_content, "+
			"or a replayed request could carry a fresh timestamp", v.timestampHeader, v.timestampHeader)
	}
	return v
}

// hmacAlgorithm returns the hash named by Algorithm and its digest size.
func (c *checker) hmacAlgorithm() (func() hash.Hash, int) {
	algorithm := strings.ToLower(strings.TrimSpace(c.cfg.Algorithm))
	if algorithm == "" {
		algorithm = "sha256"
	}
	newHash, ok := hmacAlgorithms[algorithm]
	if !ok {
		c.fail("algorithm", "unknown algorithm %q; valid algorithms: sha1, sha256, sha384, sha512",
			c.cfg.Algorithm)
		return nil, 0
	}
	return newHash, newHash().Size()
}

// signatureDecoder returns the decoder named by Encoding.
func (c *checker) signatureDecoder() func(string) ([]byte, error) {
	encoding := strings.ToLower(strings.TrimSpace(c.cfg.Encoding))
	if encoding == "" {
		encoding = "hex"
	}
	decode, ok := signatureDecoders[encoding]
	if !ok {
		c.fail("encoding", "unknown encoding %q; valid encodings: hex, base64, base64url",
			c.cfg.Encoding)
	}
	return decode
}

// headerName checks a header-name field and returns its canonical form.
func (c *checker) headerName(field, name string, required bool) string {
	name = strings.TrimSpace(name)
	switch {
	case name == "" && required:
		c.fail(field, "required for type hmac; name the header that carries the signature, "+
			"such as X-Signature")
	case name == "":
	case !validHeaderName(name):
		c.fail(field, "invalid header name %q", name)
	default:
		return textproto.CanonicalMIMEHeaderKey(name)
	}
	return ""
}

// Verify checks the timestamp window when one is configured, then the
// signature in the configured header.
func (v *hmacVerifier) Verify(r *http.Request, body []byte) error {
	const t rejecter = TypeHMAC
	value, err := t.header(r.Header, v.header)
	if err != nil {
		return err
	}
	signature, err := v.parseSignature(value)
	if err != nil {
		return t.malformed(v.header, "%v", err)
	}
	if v.timestampHeader != "" {
		timestamp, err := t.header(r.Header, v.timestampHeader)
		if err != nil {
			return err
		}
		seconds, ok := parseUnixSeconds(timestamp)
		if !ok {
			return t.malformed(v.timestampHeader, "expected a Unix time in whole seconds")
		}
		if err := v.window.check(t, v.timestampHeader, seconds); err != nil {
			return err
		}
	}
	parts, err := v.content.render(t, r.Header, body)
	if err != nil {
		return err
	}
	if !macMatches(v.newHash, v.keys, [][]byte{signature}, parts...) {
		return t.mismatch(v.header)
	}
	return nil
}

// parseSignature strips the prefix and decodes the digest.
func (v *hmacVerifier) parseSignature(value string) ([]byte, error) {
	encoded, ok := strings.CutPrefix(value, v.prefix)
	if !ok {
		return nil, fmt.Errorf("expected the prefix %q", v.prefix)
	}
	signature, err := v.decode(encoded)
	if err != nil {
		return nil, errors.New("invalid encoding of the signature")
	}
	if len(signature) != v.size {
		return nil, fmt.Errorf("signature decodes to %d bytes, expected %d", len(signature), v.size)
	}
	return signature, nil
}
