package verify_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/verify"
)

func TestSlackCases(t *testing.T) {
	const secret, oldSecret = "slack-signing-new", "slack-signing-old"
	v := mustNew(t, verify.Config{Type: "slack", Secret: secret}, options())
	rotated := mustNew(t, verify.Config{
		Type: "slack", Secret: secret, Secrets: []verify.Secret{oldSecret},
	}, options())
	const sig, ts = "X-Slack-Signature", "X-Slack-Request-Timestamp"
	valid := signSlack(secret, now, body)
	stale := now.Add(-6 * time.Minute)
	future := now.Add(6 * time.Minute)

	runCases(t, v, []string{secret}, []verifyCase{
		{"valid", headers(sig, valid, ts, unix(now)), body, nil},
		{"tampered body", headers(sig, valid, ts, unix(now)), body[1:], verify.ErrMismatch},
		{"re-encoded body", headers(sig, valid, ts, unix(now)), reencodedBody, verify.ErrMismatch},
		{"timestamp changed",
			headers(sig, valid, ts, unix(now.Add(-time.Second))), body, verify.ErrMismatch},
		{"stale timestamp",
			headers(sig, signSlack(secret, stale, body), ts, unix(stale)), body, verify.ErrStale},
		{"future timestamp",
			headers(sig, signSlack(secret, future, body), ts, unix(future)), body, verify.ErrStale},
		{"missing signature", headers(ts, unix(now)), body, verify.ErrMissingHeader},
		{"missing timestamp", headers(sig, valid), body, verify.ErrMissingHeader},
		{"v1 prefix",
			headers(sig, "v1="+valid[3:], ts, unix(now)), body, verify.ErrMalformedHeader},
		{"bad hex", headers(sig, "v0=xyz", ts, unix(now)), body, verify.ErrMalformedHeader},
		{"timestamp not a number",
			headers(sig, valid, ts, "yesterday"), body, verify.ErrMalformedHeader},
		{"timestamp in milliseconds overflow",
			headers(sig, valid, ts, "9999999999999999999999"), body, verify.ErrMalformedHeader},
		{"timestamp sent twice",
			headers(sig, valid, ts, unix(now), ts, unix(now)), body, verify.ErrMalformedHeader},
	})
	runCases(t, rotated, []string{secret, oldSecret}, []verifyCase{
		{"rotated new secret", headers(sig, valid, ts, unix(now)), body, nil},
		{"rotated old secret",
			headers(sig, signSlack(oldSecret, now, body), ts, unix(now)), body, nil},
	})
}

// Slack's documentation walks through this request, signed with the
// example signing secret 8f742231b10e8888abcd99yyyzzz85a5.
func TestSlackDocumentedVector(t *testing.T) {
	const payload = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow" +
		"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner" +
		"&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2F" +
		"commands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN" +
		"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	signedAt := time.Unix(1531420618, 0)
	v := mustNew(t, verify.Config{Type: "slack", Secret: "8f742231b10e8888abcd99yyyzzz85a5"},
		&verify.Options{Clock: fixedClock{signedAt.Add(time.Minute)}})
	r := httptest.NewRequest(http.MethodPost, "/slack/commands", nil)
	r.Header.Set("X-Slack-Request-Timestamp", "1531420618")
	r.Header.Set("X-Slack-Signature",
		"v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")

	assert.NoError(t, v.Verify(r, []byte(payload)))
	assert.ErrorIs(t, v.Verify(r, []byte(payload+"&x=1")), verify.ErrMismatch)
}

func TestSlackStaleMessage(t *testing.T) {
	const secret = "slack-signing"
	v := mustNew(t, verify.Config{Type: "slack", Secret: secret}, options())
	stale := now.Add(-7 * time.Minute)
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.Header.Set("X-Slack-Request-Timestamp", unix(stale))
	r.Header.Set("X-Slack-Signature", signSlack(secret, stale, body))

	err := v.Verify(r, []byte(body))
	require.Error(t, err)
	assert.Equal(t, "verify slack: timestamp in header X-Slack-Request-Timestamp is 7m0s old, "+
		"outside the 5m0s window by 2m0s", err.Error())
	var rejection *verify.Error
	require.ErrorAs(t, err, &rejection)
	assert.Equal(t, "slack", rejection.Type)
	assert.Equal(t, "X-Slack-Request-Timestamp", rejection.Header)
	assert.Equal(t, verify.ErrStale, rejection.Reason)
}
