package verify_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/tether-go/tether/verify"
)

const advSecret = "adv-secret-9f2c"

func TestAdversarialGitHubForgeries(t *testing.T) {
	v := mustNew(t, verify.Config{Type: "github", Secret: advSecret}, options())
	good := signGitHub(advSecret, body)
	hexPart := strings.TrimPrefix(good, "sha256=")
	runCases(t, v, []string{advSecret}, []verifyCase{
		{"valid", headers("X-Hub-Signature-256", good), body, nil},
		{"header name case", headers("x-hub-signature-256", good), body, nil},
		{"upper-case hex", headers("X-Hub-Signature-256", "sha256="+strings.ToUpper(hexPart)), body, nil},
		{"re-encoded body", headers("X-Hub-Signature-256", good), reencodedBody, verify.ErrMismatch},
		{"body with trailing newline", headers("X-Hub-Signature-256", good), body + "\n", verify.ErrMismatch},
		{"empty body", headers("X-Hub-Signature-256", good), "", verify.ErrMismatch},
		{"truncated signature", headers("X-Hub-Signature-256", good[:len(good)-2]), body, verify.ErrMalformedHeader},
		{"extended signature", headers("X-Hub-Signature-256", good+"00"), body, verify.ErrMalformedHeader},
		{"prefix case", headers("X-Hub-Signature-256", "SHA256="+hexPart), body, verify.ErrMalformedHeader},
		{"sha1 prefix", headers("X-Hub-Signature-256", "sha1="+hexPart), body, verify.ErrMalformedHeader},
		{"no prefix", headers("X-Hub-Signature-256", hexPart), body, verify.ErrMalformedHeader},
		{"space padded", headers("X-Hub-Signature-256", " "+good+" "), body, verify.ErrMalformedHeader},
		{"duplicated header", headers("X-Hub-Signature-256", good, "X-Hub-Signature-256", good), body, verify.ErrMalformedHeader},
		{"good and forged", headers("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64), "X-Hub-Signature-256", good), body, verify.ErrMalformedHeader},
		{"zero signature", headers("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64)), body, verify.ErrMismatch},
		{"other secret", headers("X-Hub-Signature-256", signGitHub("other", body)), body, verify.ErrMismatch},
		{"empty header", headers("X-Hub-Signature-256", ""), body, verify.ErrMissingHeader},
		{"old sha1 header only", headers("X-Hub-Signature", good), body, verify.ErrMissingHeader},
		{"huge header", headers("X-Hub-Signature-256", "sha256="+strings.Repeat("ab", 1<<15)), body, verify.ErrMalformedHeader},
	})
}

func TestAdversarialStripeReplayAndWindow(t *testing.T) {
	v := mustNew(t, verify.Config{Type: "stripe", Secret: advSecret}, options())
	sig := func(at time.Time) string { return "t=" + unix(at) + "," + signStripe(advSecret, at, body) }
	stale := now.Add(-5*time.Minute - time.Second)
	edge := now.Add(-5 * time.Minute)
	runCases(t, v, []string{advSecret}, []verifyCase{
		{"valid", headers("Stripe-Signature", sig(now)), body, nil},
		{"window edge past", headers("Stripe-Signature", sig(edge)), body, nil},
		{"window edge future", headers("Stripe-Signature", sig(now.Add(5*time.Minute))), body, nil},
		{"replayed after window", headers("Stripe-Signature", sig(stale)), body, verify.ErrStale},
		{"future beyond window", headers("Stripe-Signature", sig(now.Add(5*time.Minute+time.Second))), body, verify.ErrStale},
		{"timestamp swapped", headers("Stripe-Signature", "t="+unix(now)+","+signStripe(advSecret, stale, body)), body, verify.ErrMismatch},
		{"two timestamps", headers("Stripe-Signature", "t="+unix(stale)+",t="+unix(now)+","+signStripe(advSecret, now, body)), body, verify.ErrMalformedHeader},
		{"negative timestamp", headers("Stripe-Signature", "t=-1,"+signStripe(advSecret, now, body)), body, verify.ErrMalformedHeader},
		{"fractional timestamp", headers("Stripe-Signature", "t="+unix(now)+".5,"+signStripe(advSecret, now, body)), body, verify.ErrMalformedHeader},
		{"overflowing timestamp", headers("Stripe-Signature", "t=99999999999999999999,"+signStripe(advSecret, now, body)), body, verify.ErrMalformedHeader},
		{"far-future timestamp", headers("Stripe-Signature", "t=999999999999999999,"+signStripe(advSecret, now, body)), body, verify.ErrStale},
		{"zero timestamp", headers("Stripe-Signature", "t=0,"+signStripe(advSecret, now, body)), body, verify.ErrStale},
		{"v0 only", headers("Stripe-Signature", "t="+unix(now)+",v0="+strings.TrimPrefix(signStripe(advSecret, now, body), "v1=")), body, verify.ErrMalformedHeader},
		{"forged first v1", headers("Stripe-Signature", "t="+unix(now)+",v1=zz,"+signStripe(advSecret, now, body)), body, nil},
		{"many forged v1", headers("Stripe-Signature", "t="+unix(now)+strings.Repeat(",v1="+strings.Repeat("0", 64), 500)), body, verify.ErrMismatch},
		{"item without equals", headers("Stripe-Signature", "t="+unix(now)+",junk,"+signStripe(advSecret, now, body)), body, verify.ErrMalformedHeader},
		{"duplicated header", headers("Stripe-Signature", sig(now), "Stripe-Signature", sig(now)), body, verify.ErrMalformedHeader},
	})
}

func TestAdversarialSlackWindow(t *testing.T) {
	v := mustNew(t, verify.Config{Type: "slack", Secret: advSecret, Tolerance: verify.Duration(time.Minute)}, options())
	at := now.Add(-time.Minute - time.Second)
	runCases(t, v, []string{advSecret}, []verifyCase{
		{"valid", headers("X-Slack-Request-Timestamp", unix(now), "X-Slack-Signature", signSlack(advSecret, now, body)), body, nil},
		{"stale", headers("X-Slack-Request-Timestamp", unix(at), "X-Slack-Signature", signSlack(advSecret, at, body)), body, verify.ErrStale},
		{"timestamp moved forward", headers("X-Slack-Request-Timestamp", unix(now), "X-Slack-Signature", signSlack(advSecret, at, body)), body, verify.ErrMismatch},
		{"timestamp with sign", headers("X-Slack-Request-Timestamp", "+"+unix(now), "X-Slack-Signature", signSlack(advSecret, now, body)), body, verify.ErrMalformedHeader},
		{"timestamp with space", headers("X-Slack-Request-Timestamp", unix(now)+" ", "X-Slack-Signature", signSlack(advSecret, now, body)), body, verify.ErrMalformedHeader},
		{"two timestamps", headers("X-Slack-Request-Timestamp", unix(now), "X-Slack-Request-Timestamp", unix(now), "X-Slack-Signature", signSlack(advSecret, now, body)), body, verify.ErrMalformedHeader},
		{"no timestamp", headers("X-Slack-Signature", signSlack(advSecret, now, body)), body, verify.ErrMissingHeader},
	})
}

func TestAdversarialStandardWebhooks(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	v := mustNew(t, verify.Config{Type: "standard-webhooks", Secret: secret}, options())
	good := signStandard(secret, "msg_1", now, body)
	runCases(t, v, []string{secret, strings.TrimPrefix(secret, "whsec_")}, []verifyCase{
		{"valid", headers("Webhook-Id", "msg_1", "Webhook-Timestamp", unix(now), "Webhook-Signature", good), body, nil},
		{"other id", headers("Webhook-Id", "msg_2", "Webhook-Timestamp", unix(now), "Webhook-Signature", good), body, verify.ErrMismatch},
		{"forged then valid", headers("Webhook-Id", "msg_1", "Webhook-Timestamp", unix(now), "Webhook-Signature", "v1,AAAA "+good), body, nil},
		{"version changed", headers("Webhook-Id", "msg_1", "Webhook-Timestamp", unix(now), "Webhook-Signature", "v2"+strings.TrimPrefix(good, "v1")), body, verify.ErrMalformedHeader},
		{"truncated base64", headers("Webhook-Id", "msg_1", "Webhook-Timestamp", unix(now), "Webhook-Signature", good[:len(good)-4]), body, verify.ErrMismatch},
		{"two ids", headers("Webhook-Id", "msg_1", "Webhook-Id", "msg_1", "Webhook-Timestamp", unix(now), "Webhook-Signature", good), body, verify.ErrMalformedHeader},
	})
}

// Rejections never quote the secret or the expected signature, in the
// error or in the message the listener would log.
func TestAdversarialRejectionsRedacted(t *testing.T) {
	v := mustNew(t, verify.Config{Type: "github", Secret: advSecret}, options())
	want := signGitHub(advSecret, body)
	r := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body))
	r.Header.Set("X-Hub-Signature-256", signGitHub("wrong", body))
	err := v.Verify(r, []byte(body))
	assert.ErrorIs(t, err, verify.ErrMismatch)
	assert.Equal(t, "verify github: no signature in header X-Hub-Signature-256 matched", err.Error())
	assert.NotContains(t, err.Error(), strings.TrimPrefix(want, "sha256="))
}
