package verify_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"testing"
	"time"

	"github.com/tether-go/tether/verify"
)

func TestHMACDefaults(t *testing.T) {
	const secret, oldSecret = "generic-new", "generic-old"
	v := mustNew(t, verify.Config{
		Type: "hmac", Secret: secret, Secrets: []verify.Secret{oldSecret}, Header: "x-signature",
	}, nil)
	const name = "X-Signature"
	valid := hex.EncodeToString(hmacSHA256([]byte(secret), body))

	runCases(t, v, []string{secret, oldSecret}, []verifyCase{
		{"valid", headers(name, valid), body, nil},
		{"rotated old secret",
			headers(name, hex.EncodeToString(hmacSHA256([]byte(oldSecret), body))), body, nil},
		{"tampered body", headers(name, valid), body + "x", verify.ErrMismatch},
		{"re-encoded body", headers(name, valid), reencodedBody, verify.ErrMismatch},
		{"base64 instead of hex",
			headers(name, base64.StdEncoding.EncodeToString(hmacSHA256([]byte(secret), body))), body, verify.ErrMalformedHeader},
		{"missing header", headers(), body, verify.ErrMissingHeader},
	})
}

// TestHMACTemplate covers a sender in the style of many SaaS products:
// "t=" prefix, base64 HMAC-SHA512 over "<timestamp>.<body>", with the
// timestamp in its own header.
func TestHMACTemplate(t *testing.T) {
	const secret = "generic-template"
	v := mustNew(t, verify.Config{
		Type:            "hmac",
		Secret:          secret,
		Header:          "X-Sig",
		Algorithm:       "SHA512",
		Encoding:        "base64",
		Prefix:          "v1=",
		SignedContent:   "${header.X-Timestamp}.${ body }",
		TimestampHeader: "X-Timestamp",
		Tolerance:       verify.Duration(time.Minute),
	}, options())
	sign := func(at time.Time, payload string) string {
		mac := hmac.New(sha512.New, []byte(secret))
		mac.Write([]byte(unix(at) + "." + payload))
		return "v1=" + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	}
	unpadded := func(s string) string { return s[:len(s)-2] } // 64 bytes encode with "==" padding
	stale := now.Add(-2 * time.Minute)
	future := now.Add(2 * time.Minute)

	runCases(t, v, []string{secret}, []verifyCase{
		{"valid", headers("X-Sig", sign(now, body), "X-Timestamp", unix(now)), body, nil},
		{"valid unpadded",
			headers("X-Sig", unpadded(sign(now, body)), "X-Timestamp", unix(now)), body, nil},
		{"tampered body",
			headers("X-Sig", sign(now, body), "X-Timestamp", unix(now)), body[:10], verify.ErrMismatch},
		{"re-encoded body",
			headers("X-Sig", sign(now, body), "X-Timestamp", unix(now)), reencodedBody, verify.ErrMismatch},
		{"timestamp changed",
			headers("X-Sig", sign(now, body), "X-Timestamp", unix(now.Add(time.Second))), body, verify.ErrMismatch},
		{"stale timestamp",
			headers("X-Sig", sign(stale, body), "X-Timestamp", unix(stale)), body, verify.ErrStale},
		{"future timestamp",
			headers("X-Sig", sign(future, body), "X-Timestamp", unix(future)), body, verify.ErrStale},
		{"missing timestamp", headers("X-Sig", sign(now, body)), body, verify.ErrMissingHeader},
		{"timestamp not a number",
			headers("X-Sig", sign(now, body), "X-Timestamp", "12:00"), body, verify.ErrMalformedHeader},
		{"missing prefix",
			headers("X-Sig", sign(now, body)[3:], "X-Timestamp", unix(now)), body, verify.ErrMalformedHeader},
		{"bad base64",
			headers("X-Sig", "v1=%%%", "X-Timestamp", unix(now)), body, verify.ErrMalformedHeader},
		{"sha256 length",
			headers("X-Sig", "v1="+base64.StdEncoding.EncodeToString(hmacSHA256([]byte(secret), body)), "X-Timestamp", unix(now)), body, verify.ErrMalformedHeader},
	})
}

func TestHMACSHA1Base64URL(t *testing.T) {
	const secret = "generic-sha1"
	v := mustNew(t, verify.Config{
		Type: "hmac", Secret: secret, Header: "X-Hook-Signature", Algorithm: "sha1",
		Encoding: "base64url", Prefix: "sha1=",
		SignedContent: "${header.X-Delivery}:${body}",
	}, nil)
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte("d-42:" + body))
	valid := "sha1=" + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))

	runCases(t, v, []string{secret}, []verifyCase{
		{"valid", headers("X-Hook-Signature", valid, "X-Delivery", "d-42"), body, nil},
		{"other delivery",
			headers("X-Hook-Signature", valid, "X-Delivery", "d-43"), body, verify.ErrMismatch},
		{"missing template header",
			headers("X-Hook-Signature", valid), body, verify.ErrMissingHeader},
		{"template header twice",
			headers("X-Hook-Signature", valid, "X-Delivery", "d-42", "X-Delivery", "d-42"), body, verify.ErrMalformedHeader},
	})
}

// TestHMACBodyBytes checks that ${body} is the body byte for byte,
// including bytes that are not valid UTF-8 and "${" sequences inside it.
func TestHMACBodyBytes(t *testing.T) {
	const secret = "generic-bytes"
	v := mustNew(t, verify.Config{
		Type: "hmac", Secret: secret, Header: "X-Signature", SignedContent: "a${body}z",
	}, nil)
	payload := "\xff\x00${header.X-Signature}\r\n"
	valid := hex.EncodeToString(hmacSHA256([]byte(secret), "a", payload, "z"))

	runCases(t, v, []string{secret}, []verifyCase{
		{"binary body", headers("X-Signature", valid), payload, nil},
		{"binary body changed", headers("X-Signature", valid), payload[1:], verify.ErrMismatch},
	})
}
