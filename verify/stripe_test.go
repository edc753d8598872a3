package verify_test

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/verify"
)

func TestStripeCases(t *testing.T) {
	const secret, oldSecret = "whsec_stripe_new", "whsec_stripe_old"
	v := mustNew(t, verify.Config{Type: "stripe", Secret: secret}, options())
	rotated := mustNew(t, verify.Config{
		Type: "stripe", Secrets: []verify.Secret{oldSecret, secret},
	}, options())
	const name = "Stripe-Signature"
	ts := "t=" + unix(now)
	valid := ts + "," + signStripe(secret, now, body)
	stale := now.Add(-5*time.Minute - time.Second)
	future := now.Add(5*time.Minute + time.Second)
	edge := now.Add(-5 * time.Minute)

	runCases(t, v, []string{secret}, []verifyCase{
		{"valid", headers(name, valid), body, nil},
		{"valid with v0 item",
			headers(name, valid+",v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"), body, nil},
		{"valid with spaces", headers(name, ts+", "+signStripe(secret, now, body)), body, nil},
		{"valid at window edge",
			headers(name, "t="+unix(edge)+","+signStripe(secret, edge, body)), body, nil},
		{"second v1 matches",
			headers(name, ts+","+signStripe("other", now, body)+","+signStripe(secret, now, body)), body, nil},
		{"tampered body", headers(name, valid), body + " ", verify.ErrMismatch},
		{"re-encoded body", headers(name, valid), reencodedBody, verify.ErrMismatch},
		{"timestamp changed",
			headers(name, "t="+unix(now.Add(time.Second))+","+signStripe(secret, now, body)), body, verify.ErrMismatch},
		{"stale timestamp",
			headers(name, "t="+unix(stale)+","+signStripe(secret, stale, body)), body, verify.ErrStale},
		{"future timestamp",
			headers(name, "t="+unix(future)+","+signStripe(secret, future, body)), body, verify.ErrStale},
		{"far future timestamp",
			headers(name, "t=999999999999999999,"+signStripeRaw(secret, "999999999999999999", body)), body, verify.ErrStale},
		{"epoch timestamp",
			headers(name, "t=0,"+signStripeRaw(secret, "0", body)), body, verify.ErrStale},
		{"bad hex in v1", headers(name, ts+",v1=zz"), body, verify.ErrMismatch},
		{"only v0",
			headers(name, ts+",v0="+strings.Repeat("ab", 32)), body, verify.ErrMalformedHeader},
		{"no timestamp",
			headers(name, signStripe(secret, now, body)), body, verify.ErrMalformedHeader},
		{"two timestamps", headers(name, ts+","+valid), body, verify.ErrMalformedHeader},
		{"negative timestamp",
			headers(name, "t=-1,"+signStripe(secret, now, body)), body, verify.ErrMalformedHeader},
		{"fractional timestamp",
			headers(name, "t="+unix(now)+".5,"+signStripe(secret, now, body)), body, verify.ErrMalformedHeader},
		{"item without equals", headers(name, valid+",garbage"), body, verify.ErrMalformedHeader},
		{"missing header", headers(), body, verify.ErrMissingHeader},
		{"sent twice", headers(name, valid, name, valid), body, verify.ErrMalformedHeader},
	})
	runCases(t, rotated, []string{secret, oldSecret}, []verifyCase{
		{"rotated new secret", headers(name, valid), body, nil},
		{"rotated old secret", headers(name, ts+","+signStripe(oldSecret, now, body)), body, nil},
		{"rotated both signatures",
			headers(name, ts+","+signStripe(oldSecret, now, body)+","+signStripe(secret, now, body)), body, nil},
		{"rotated neither",
			headers(name, ts+","+signStripe("third", now, body)), body, verify.ErrMismatch},
	})
}

func TestStripeCustomTolerance(t *testing.T) {
	const secret = "whsec_stripe"
	v := mustNew(t, verify.Config{
		Type: "stripe", Secret: secret, Tolerance: verify.Duration(10 * time.Minute),
	}, options())
	const name = "Stripe-Signature"
	inside := now.Add(-9 * time.Minute)
	outside := now.Add(-11 * time.Minute)

	runCases(t, v, []string{secret}, []verifyCase{
		{"nine minutes old",
			headers(name, "t="+unix(inside)+","+signStripe(secret, inside, body)), body, nil},
		{"eleven minutes old",
			headers(name, "t="+unix(outside)+","+signStripe(secret, outside, body)), body, verify.ErrStale},
	})
}

// signStripeRaw signs a timestamp given as text, for times that
// time.Time cannot hold.
func signStripeRaw(secret, timestamp, body string) string {
	return "v1=" + hex.EncodeToString(hmacSHA256([]byte(secret), timestamp, ".", body))
}
