package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// headerStripeSignature carries "t=<unix seconds>" and one or more
// "v1=<hex HMAC-SHA256 of t.body>" items, separated by commas. Stripe
// sends several v1 items while an endpoint secret is being rolled.
const headerStripeSignature = "Stripe-Signature"

// stripeVerifier checks Stripe webhook events.
type stripeVerifier struct {
	keys   [][]byte
	window window
}

func (c *checker) newStripe(opts *Options) Verifier {
	c.unused(withHMACFields("public_key")...)
	return &stripeVerifier{keys: c.hmacKeys(), window: c.window(opts)}
}

// Verify checks the timestamp window, then every v1 signature.
func (v *stripeVerifier) Verify(r *http.Request, body []byte) error {
	const t rejecter = TypeStripe
	value, err := t.header(r.Header, headerStripeSignature)
	if err != nil {
		return err
	}
	header, err := parseStripeSignature(value)
	if err != nil {
		return t.malformed(headerStripeSignature, "%v", err)
	}
	if err := v.window.check(t, headerStripeSignature, header.timestamp); err != nil {
		return err
	}
	prefix := strconv.FormatInt(header.timestamp, 10) + "."
	if !macMatches(sha256.New, v.keys, header.signatures, []byte(prefix), body) {
		return t.mismatch(headerStripeSignature)
	}
	return nil
}

// stripeSignature is a parsed Stripe-Signature header.
type stripeSignature struct {
	timestamp int64
	// signatures are the v1 items that decode to a SHA-256 digest. Items
	// with bad hex are dropped, as Stripe's own libraries do, so they
	// count as not matching.
	signatures [][]byte
}

// parseStripeSignature parses a Stripe-Signature value such as
// "t=1492774577,v1=5257a8...,v0=6ffbb5...". Items other than t and v1
// are ignored. It fails when t is missing, repeated or not a whole
// number of seconds, when an item has no "=", or when there is no v1
// item.
func parseStripeSignature(value string) (stripeSignature, error) {
	var header stripeSignature
	seenTimestamp := false
	v1Items := 0
	for i, item := range strings.Split(value, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		key, val, ok := strings.Cut(item, "=")
		if !ok {
			return stripeSignature{}, fmt.Errorf("item %d has no \"=\"", i+1)
		}
		switch key {
		case "t":
			if seenTimestamp {
				return stripeSignature{}, errors.New("more than one t= item")
			}
			seconds, ok := parseUnixSeconds(val)
			if !ok {
				return stripeSignature{}, errors.New("t= is not a Unix time in whole seconds")
			}
			header.timestamp = seconds
			seenTimestamp = true
		case "v1":
			v1Items++
			signature, err := hex.DecodeString(val)
			if err == nil && len(signature) == sha256.Size {
				header.signatures = append(header.signatures, signature)
			}
		}
	}
	switch {
	case !seenTimestamp:
		return stripeSignature{}, errors.New("no t= timestamp")
	case v1Items == 0:
		return stripeSignature{}, errors.New("no v1= signature")
	}
	return header, nil
}
