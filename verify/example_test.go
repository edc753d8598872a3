package verify_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tether-go/tether/verify"
)

// A listener verifies the raw body before it parses anything, and
// responds with 401 when Verify returns an error.
func ExampleNew() {
	v, err := verify.New(verify.Config{
		Type:   "github",
		Secret: "It's a Secret to Everybody",
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}

	r := httptest.NewRequest(http.MethodPost, "/hooks/github", nil)
	r.Header.Set("X-Hub-Signature-256",
		"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
	fmt.Println(v.Verify(r, []byte("Hello, World!")))

	err = v.Verify(r, []byte("Hello, World?"))
	fmt.Println(err)
	fmt.Println(errors.Is(err, verify.ErrUnverified), errors.Is(err, verify.ErrMismatch))
	// Output:
	// <nil>
	// verify github: no signature in header X-Hub-Signature-256 matched
	// true true
}

// Stripe signs "<timestamp>.<body>" and sends the timestamp in the
// header. The verifier rejects a timestamp outside the tolerance, which
// limits replays. While a secret rotates, both the old and the new one
// are accepted.
func ExampleNew_stripe() {
	v, err := verify.New(verify.Config{
		Type:    "stripe",
		Secret:  "whsec_new",
		Secrets: []verify.Secret{"whsec_old"},
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	body := []byte(`{"id":"evt_1","type":"invoice.paid"}`)
	sign := func(secret string, at time.Time) string {
		t := strconv.FormatInt(at.Unix(), 10)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(t + "." + string(body)))
		return "t=" + t + ",v1=" + hex.EncodeToString(mac.Sum(nil))
	}

	r := httptest.NewRequest(http.MethodPost, "/hooks/stripe", nil)
	r.Header.Set("Stripe-Signature", sign("whsec_old", time.Now()))
	fmt.Println(v.Verify(r, body))

	r.Header.Set("Stripe-Signature", sign("whsec_new", time.Now().Add(-time.Hour)))
	fmt.Println(errors.Is(v.Verify(r, body), verify.ErrStale))
	// Output:
	// <nil>
	// true
}

// Type hmac covers senders with their own scheme. Here the sender signs
// "<X-Timestamp>.<body>" with HMAC-SHA256 and sends "sha256=" and the hex
// digest in X-Signature.
func ExampleNew_hmac() {
	v, err := verify.New(verify.Config{
		Type:            "hmac",
		Secret:          "hook-secret",
		Header:          "X-Signature",
		Prefix:          "sha256=",
		SignedContent:   "${header.X-Timestamp}.${body}",
		TimestampHeader: "X-Timestamp",
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	body := []byte(`{"order":42}`)
	timestamp := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte("hook-secret"))
	mac.Write([]byte(timestamp + "." + string(body)))

	r := httptest.NewRequest(http.MethodPost, "/hooks/orders", nil)
	r.Header.Set("X-Timestamp", timestamp)
	r.Header.Set("X-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	fmt.Println(v.Verify(r, body))

	r.Header.Del("X-Timestamp")
	fmt.Println(v.Verify(r, body))
	// Output:
	// <nil>
	// verify hmac: missing header X-Timestamp
}

// A verify: block decodes straight into a Config. Printing or logging the
// Config never shows the secret.
func ExampleConfig() {
	const block = `
type: hmac
secret: resolved-from-env
header: X-Signature
prefix: "sha256="
signed_content: "${header.X-Timestamp}.${body}"
timestamp_header: X-Timestamp
tolerance: 2m
`
	var cfg verify.Config
	if err := yaml.Unmarshal([]byte(block), &cfg); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := verify.New(cfg, nil); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s %v %s\n", cfg.Type, cfg.Secret, cfg.Tolerance)
	// Output:
	// hmac [redacted] 2m0s
}

// The errors from New name the field at fault and how to fix it.
func ExampleNew_invalidConfig() {
	_, err := verify.New(verify.Config{Type: "github"}, nil)
	fmt.Println(err)

	_, err = verify.New(verify.Config{Type: "gitlab", Secret: "s"}, nil)
	fmt.Println(err)

	var field *verify.ConfigError
	fmt.Println(errors.As(err, &field), field.Field)
	// Output:
	// verify.secret: required for type github
	// verify.type: unknown type "gitlab"; valid types: discord, github, hmac, slack, standard-webhooks, stripe
	// true type
}
