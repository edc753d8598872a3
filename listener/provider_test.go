package listener

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/verify"
)

// provider describes one webhook sender: how it signs, and a delivery in
// its documented shape. Fixtures are made up.
type provider struct {
	name   string
	preset string
	config func(secret, oldSecret string) verify.Config
	// sign returns the headers for body signed with secret at time ts.
	sign     func(t *testing.T, secret string, ts time.Time, body []byte) http.Header
	body     string
	timed    bool // the scheme signs a timestamp
	rotation bool // the scheme accepts several secrets
}

func hmacHex(key, msg []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(msg)
	return hex.EncodeToString(mac.Sum(nil))
}

// discordKey derives a fixed Ed25519 key pair from a secret, so the
// table can treat Discord like the HMAC schemes.
func discordKey(secret string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte(secret))
	return ed25519.NewKeyFromSeed(seed[:])
}

var providers = []provider{
	{
		name:   "github",
		preset: PresetGitHub,
		config: func(secret, old string) verify.Config {
			return verify.Config{Type: verify.TypeGitHub, Secret: verify.Secret(secret), Secrets: secrets(old)}
		},
		sign: func(t *testing.T, secret string, ts time.Time, body []byte) http.Header {
			return http.Header{
				"X-Hub-Signature-256": {"sha256=" + hmacHex([]byte(secret), body)},
				"X-Github-Event":      {"push"},
				"X-Github-Delivery":   {"72d3162e-cc78-11e3-81ab-4c9367dc0958"},
			}
		},
		body:     `{"ref":"refs/heads/main","repository":{"full_name":"octo-org/hello"},"pusher":{"name":"octocat"}}`,
		rotation: true,
	},
	{
		name:   "stripe",
		preset: PresetStripe,
		config: func(secret, old string) verify.Config {
			return verify.Config{Type: verify.TypeStripe, Secret: verify.Secret(secret), Secrets: secrets(old)}
		},
		sign: func(t *testing.T, secret string, ts time.Time, body []byte) http.Header {
			unix := strconv.FormatInt(ts.Unix(), 10)
			sig := hmacHex([]byte(secret), append([]byte(unix+"."), body...))
			return http.Header{"Stripe-Signature": {"t=" + unix + ",v1=" + sig}}
		},
		body:     `{"id":"evt_1Example","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1Example","amount":2000}}}`,
		timed:    true,
		rotation: true,
	},
	{
		name:   "slack",
		preset: PresetSlackEvents,
		config: func(secret, old string) verify.Config {
			return verify.Config{Type: verify.TypeSlack, Secret: verify.Secret(secret), Secrets: secrets(old)}
		},
		sign: func(t *testing.T, secret string, ts time.Time, body []byte) http.Header {
			unix := strconv.FormatInt(ts.Unix(), 10)
			sig := hmacHex([]byte(secret), append([]byte("v0:"+unix+":"), body...))
			return http.Header{"X-Slack-Request-Timestamp": {unix}, "X-Slack-Signature": {"v0=" + sig}}
		},
		body:     `{"type":"event_callback","team_id":"T1","event_id":"Ev08EXAMPLE","event":{"type":"app_mention","text":"hello","channel":"C1"}}`,
		timed:    true,
		rotation: true,
	},
	{
		name:   "standard-webhooks",
		preset: PresetStandardWebhooks,
		config: func(secret, old string) verify.Config {
			return verify.Config{Type: verify.TypeStandardWebhooks, Secret: verify.Secret(whsec(secret)), Secrets: secrets(whsecOrEmpty(old))}
		},
		sign: func(t *testing.T, secret string, ts time.Time, body []byte) http.Header {
			id, unix := "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", strconv.FormatInt(ts.Unix(), 10)
			mac := hmac.New(sha256.New, []byte(secret))
			mac.Write([]byte(id + "." + unix + "."))
			mac.Write(body)
			sig := base64.StdEncoding.EncodeToString(mac.Sum(nil))
			return http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {unix}, "Webhook-Signature": {"v1," + sig}}
		},
		body:     `{"type":"invoice.paid","timestamp":"2026-01-02T03:04:05Z","data":{"id":"inv_1"}}`,
		timed:    true,
		rotation: true,
	},
	{
		name:   "discord",
		preset: PresetDiscordInteractions,
		config: func(secret, old string) verify.Config {
			public := discordKey(secret).Public().(ed25519.PublicKey)
			return verify.Config{Type: verify.TypeDiscord, PublicKey: hex.EncodeToString(public)}
		},
		sign: func(t *testing.T, secret string, ts time.Time, body []byte) http.Header {
			unix := strconv.FormatInt(ts.Unix(), 10)
			sig := ed25519.Sign(discordKey(secret), append([]byte(unix), body...))
			return http.Header{"X-Signature-Ed25519": {hex.EncodeToString(sig)}, "X-Signature-Timestamp": {unix}}
		},
		body:  `{"id":"1100000000000000001","application_id":"2","type":2,"data":{"name":"ask"}}`,
		timed: true,
	},
}

func secrets(old string) []verify.Secret {
	if old == "" {
		return nil
	}
	return []verify.Secret{verify.Secret(old)}
}

// whsec encodes raw key bytes the way Standard Webhooks secrets are
// written.
func whsec(raw string) string { return "whsec_" + base64.StdEncoding.EncodeToString([]byte(raw)) }

func whsecOrEmpty(raw string) string {
	if raw == "" {
		return ""
	}
	return whsec(raw)
}

// reencode returns the same JSON document with different formatting.
func reencode(t *testing.T, body string) []byte {
	var v any
	require.NoError(t, json.Unmarshal([]byte(body), &v))
	out, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	require.NotEqual(t, body, string(out))
	return out
}

// TestProviderDeliveries runs each provider's delivery through a
// verified trigger: valid, tampered, re-encoded, stale, signed with a
// rotated-out secret, and repeated.
func TestProviderDeliveries(t *testing.T) {
	const secret, oldSecret = "new-signing-secret", "old-signing-secret"
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			clk := newFakeClock()
			v, err := verify.New(p.config(secret, oldSecret), &verify.Options{Clock: clk})
			require.NoError(t, err)
			starter := &recordingStarter{}
			cfg := TriggerConfig{Triggers: []Trigger{{Path: "/hook", Workflow: "wf", Verify: v, Preset: p.preset}}}
			l, err := NewTrigger(cfg, starter, &Options{Clock: clk})
			require.NoError(t, err)

			post := func(header http.Header, body []byte) (int, string, string) {
				header = header.Clone()
				header.Set("Content-Type", "application/json")
				rec := send(t, l, http.MethodPost, "/hook", header, body)
				return rec.Code, rec.Body.String(), rec.Header().Get(replayedHeader)
			}
			body := []byte(p.body)
			now := clk.Now()

			tampered := append([]byte(nil), body...)
			tampered[len(tampered)-2] ^= 1
			status, reply, _ := post(p.sign(t, secret, now, body), tampered)
			assert.Equal(t, http.StatusUnauthorized, status, "tampered body")
			assert.NotContains(t, reply, "secret")

			status, _, _ = post(p.sign(t, secret, now, body), reencode(t, p.body))
			assert.Equal(t, http.StatusUnauthorized, status, "re-encoded body")

			if p.timed {
				stale := now.Add(-time.Hour)
				status, _, _ = post(p.sign(t, secret, stale, body), body)
				assert.Equal(t, http.StatusUnauthorized, status, "stale timestamp")
			}
			status, _, _ = post(p.sign(t, "wrong-secret", now, body), body)
			assert.Equal(t, http.StatusUnauthorized, status, "wrong secret")
			assert.Empty(t, starter.started(), "no rejected delivery starts a run")

			status, first, _ := post(p.sign(t, secret, now, body), body)
			require.Equal(t, http.StatusOK, status, "valid: %s", first)
			require.Len(t, starter.started(), 1)

			status, again, replayed := post(p.sign(t, secret, now.Add(time.Second), body), body)
			assert.Equal(t, http.StatusOK, status, "duplicate")
			assert.Equal(t, first, again, "a duplicate gets the first reply")
			assert.Equal(t, "true", replayed)
			assert.Len(t, starter.started(), 1, "a duplicate starts nothing")

			if p.rotation {
				rotated := reencode(t, p.body)
				var doc map[string]any
				require.NoError(t, json.Unmarshal(rotated, &doc))
				doc["id"], doc["event_id"] = "second-delivery", "second-delivery"
				rotated, err = json.Marshal(doc)
				require.NoError(t, err)
				header := p.sign(t, oldSecret, now, rotated)
				header.Set("X-Github-Delivery", "second-delivery")
				header.Set("Webhook-Id", "second-delivery")
				header = resign(t, p, oldSecret, now, rotated, header)
				status, reply, _ = post(header, rotated)
				assert.Equal(t, http.StatusOK, status, "rotated secret: %s", reply)
				assert.Len(t, starter.started(), 2)
			}
		})
	}
}

// resign signs again after the test changed an id header that the
// scheme covers (Standard Webhooks signs webhook-id).
func resign(t *testing.T, p provider, secret string, ts time.Time, body []byte, header http.Header) http.Header {
	if p.name != "standard-webhooks" {
		return header
	}
	id, unix := header.Get("Webhook-Id"), strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(id + "." + unix + "."))
	mac.Write(body)
	header.Set("Webhook-Signature", "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	return header
}

// TestProviderHandshakes checks the replies that providers expect
// before they send events, with signatures checked.
func TestProviderHandshakes(t *testing.T) {
	const secret = "handshake-secret"
	clk := newFakeClock()
	cases := []struct {
		provider string
		body     string
		reply    string
	}{
		{"slack", `{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`,
			`{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}`},
		{"discord", `{"id":"1","application_id":"2","type":1,"version":1,"token":"t"}`, `{"type":1}`},
	}
	for _, tc := range cases {
		t.Run(tc.provider, func(t *testing.T) {
			var p provider
			for _, candidate := range providers {
				if candidate.name == tc.provider {
					p = candidate
				}
			}
			v, err := verify.New(p.config(secret, ""), &verify.Options{Clock: clk})
			require.NoError(t, err)
			starter := &recordingStarter{}
			for _, kind := range []string{"trigger", "callback"} {
				var h http.Handler
				fw := &fakeWaiter{}
				if kind == "trigger" {
					h = newTestTrigger(t, Trigger{Path: "/hook", Workflow: "wf", Verify: v, Preset: p.preset}, starter)
				} else {
					h = newTestCallback(t, Callback{Path: "/hook", Verify: v, Preset: p.preset}, fw)
				}
				header := p.sign(t, secret, clk.Now(), []byte(tc.body))
				header.Set("Content-Type", "application/json")
				rec := send(t, h, http.MethodPost, "/hook", header, []byte(tc.body))
				assert.Equal(t, http.StatusOK, rec.Code, kind)
				assert.JSONEq(t, tc.reply, rec.Body.String(), kind)
				assert.Empty(t, fw.deliveries(), kind)

				unsigned := send(t, h, http.MethodPost, "/hook", http.Header{"Content-Type": {"application/json"}}, []byte(tc.body))
				assert.Equal(t, http.StatusUnauthorized, unsigned.Code, kind)
			}
			assert.Empty(t, starter.started())
		})
	}
}
