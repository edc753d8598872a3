package verify

import (
	"crypto/ed25519"
	"crypto/sha256"
	"net/http"
	"testing"
	"time"

	"github.com/tether-go/tether/clock"
)

func FuzzParseStripeSignature(f *testing.F) {
	for _, seed := range []string{
		"t=1492774577,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd,v0=6ffbb59b",
		"t=1,v1=,v1=zz", "t=,", "=,=", ",,,", "v1=00", "t=99999999999999999999,v1=ab", "t=1,t=2",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		header, err := parseStripeSignature(value)
		if err != nil {
			return
		}
		if header.timestamp < 0 {
			t.Errorf("negative timestamp %d from %q", header.timestamp, value)
		}
		for _, signature := range header.signatures {
			if len(signature) != sha256.Size {
				t.Errorf("signature of %d bytes from %q", len(signature), value)
			}
		}
	})
}

func FuzzParseStandardSignatures(f *testing.F) {
	for _, seed := range []string{
		"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
		"v1a,abc v1,def v2,ghi", "v1,", ",", "   ", "v1,,, v1", "v1,====",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		signatures, err := parseStandardSignatures(value)
		if err != nil {
			return
		}
		for _, signature := range signatures.symmetric {
			if len(signature) != sha256.Size {
				t.Errorf("v1 signature of %d bytes from %q", len(signature), value)
			}
		}
		for _, signature := range signatures.asymmetric {
			if len(signature) != ed25519.SignatureSize {
				t.Errorf("v1a signature of %d bytes from %q", len(signature), value)
			}
		}
	})
}

func FuzzParsePrefixedHex(f *testing.F) {
	for _, seed := range []string{
		"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
		"sha256=", "sha256", "v0=zz", "sha256=" + string(make([]byte, 64)),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		signature, err := parsePrefixedHex(value, "sha256=", sha256.Size)
		if err == nil && len(signature) != sha256.Size {
			t.Errorf("signature of %d bytes from %q", len(signature), value)
		}
	})
}

func FuzzParseUnixSeconds(f *testing.F) {
	for _, seed := range []string{"1700000000", "0", "", "-1", "+1", "1e9", "999999999999999999", "9999999999999999999"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		seconds, ok := parseUnixSeconds(value)
		if ok && seconds < 0 {
			t.Errorf("negative result %d from %q", seconds, value)
		}
	})
}

func FuzzParseSignedContent(f *testing.F) {
	for _, seed := range []string{
		"${body}", "${header.X-Timestamp}.${body}", "${", "}${body}{", "$${body}", "${ body }",
		"${header.}", "${header.X Y}${body}", "${${body}}", "a${body}b${body}c",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		content, err := parseSignedContent(text)
		if err != nil {
			return
		}
		hasBody := false
		for _, part := range content {
			hasBody = hasBody || part.body
		}
		if !hasBody {
			t.Errorf("template %q compiled without ${body}", text)
		}
		h := http.Header{}
		for _, part := range content {
			if part.header != "" {
				h.Set(part.header, "v")
			}
		}
		if _, err := content.render(TypeHMAC, h, []byte("body")); err != nil {
			t.Errorf("render %q with every header set: %v", text, err)
		}
	})
}

func FuzzParseDuration(f *testing.F) {
	for _, seed := range []string{"5m", "300", "", " 90s ", "-1s", "1.5", "9223372037", "1h1h"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		d, err := parseDuration(text)
		if err == nil && d < 0 {
			t.Errorf("negative duration %s from %q", time.Duration(d), text)
		}
	})
}

// FuzzVerifyHeaders sends arbitrary header values to every scheme. None
// may panic, and none may accept a request signed with nothing.
func FuzzVerifyHeaders(f *testing.F) {
	f.Add("sha256=00", "1700000000", "msg_1", "v1,AAAA", []byte(`{}`))
	f.Add("t=1700000000,v1=00", "", "", "", []byte(nil))
	f.Add("v0=", "-1", "\x00", "v1,", []byte("\xff"))
	now := time.Unix(1_700_000_000, 0)
	verifiers := fuzzVerifiers(f, now)
	f.Fuzz(func(t *testing.T, signature, timestamp, id, extra string, body []byte) {
		h := http.Header{}
		for _, name := range []string{
			headerGitHubSignature, headerStripeSignature, headerSlackSignature,
			headerWebhookSignature, headerDiscordSignature, "X-Signature",
		} {
			h.Set(name, signature)
		}
		for _, name := range []string{
			headerSlackTimestamp, headerWebhookTimestamp, headerDiscordTimestamp, "X-Timestamp",
		} {
			h.Set(name, timestamp)
		}
		h.Set(headerWebhookID, id)
		h.Add(headerWebhookSignature, extra)
		r := &http.Request{Method: http.MethodPost, Header: h}
		for name, v := range verifiers {
			if err := v.Verify(r, body); err == nil {
				t.Errorf("%s accepted signature %q timestamp %q", name, signature, timestamp)
			}
		}
	})
}

type fuzzClock struct{ at time.Time }

func (c fuzzClock) Now() time.Time { return c.at }

func (c fuzzClock) AfterFunc(d time.Duration, fn func()) clock.Timer {
	return time.AfterFunc(d, fn)
}

func fuzzVerifiers(f *testing.F, now time.Time) map[string]Verifier {
	opts := &Options{Clock: fuzzClock{now}}
	configs := map[string]Config{
		"github":            {Type: TypeGitHub, Secret: "k"},
		"stripe":            {Type: TypeStripe, Secret: "k"},
		"slack":             {Type: TypeSlack, Secret: "k"},
		"standard-webhooks": {Type: TypeStandardWebhooks, Secret: "whsec_a2V5"},
		"discord":           {Type: TypeDiscord, PublicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"},
		"hmac": {Type: TypeHMAC, Secret: "k", Header: "X-Signature", Encoding: "base64",
			SignedContent: "${header.X-Timestamp}.${body}", TimestampHeader: "X-Timestamp"},
	}
	verifiers := map[string]Verifier{}
	for name, cfg := range configs {
		v, err := New(cfg, opts)
		if err != nil {
			f.Fatalf("new %s: %v", name, err)
		}
		verifiers[name] = v
	}
	return verifiers
}
