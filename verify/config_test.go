package verify_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/tether-go/tether/verify"
)

const discordPublicKey = "b25a5b1b54b2c71d5e39a8d8e5dd7a7e9f1d1b1c3e5f7a9b0c2d4e6f8a0b2c4d"

func TestNewRejectsConfig(t *testing.T) {
	cases := []struct {
		name string
		cfg  verify.Config
		want string
	}{
		{"type missing", verify.Config{Secret: "s"},
			"verify.type: required; valid types: discord, github, hmac, slack, standard-webhooks, stripe"},
		{"type unknown", verify.Config{Type: "gitlab", Secret: "s"},
			`verify.type: unknown type "gitlab"; valid types: discord, github, hmac, slack, standard-webhooks, stripe`},
		{"github secret missing", verify.Config{Type: "github"},
			"verify.secret: required for type github"},
		{"stripe secret missing", verify.Config{Type: "stripe"},
			"verify.secret: required for type stripe"},
		{"slack secret missing", verify.Config{Type: "slack"},
			"verify.secret: required for type slack"},
		{"hmac secret missing", verify.Config{Type: "hmac", Header: "X-Sig"},
			"verify.secret: required for type hmac"},
		{"empty rotation entry",
			verify.Config{Type: "github", Secret: "s", Secrets: []verify.Secret{""}},
			"verify.secrets[0]: empty; remove the entry or set its value"},
		{"github public key",
			verify.Config{Type: "github", Secret: "s", PublicKey: discordPublicKey},
			"verify.public_key: not used by type github; remove it"},
		{"github tolerance",
			verify.Config{Type: "github", Secret: "s", Tolerance: verify.Duration(time.Minute)},
			"verify.tolerance: not used by type github; remove it"},
		{"stripe header", verify.Config{Type: "stripe", Secret: "s", Header: "X-Sig"},
			"verify.header: not used by type stripe; remove it"},
		{"negative tolerance",
			verify.Config{Type: "stripe", Secret: "s", Tolerance: verify.Duration(-time.Second)},
			`verify.tolerance: negative (-1s); use a positive duration such as "5m"`},
		{"whsec not base64", verify.Config{Type: "standard-webhooks", Secret: "whsec_not*base64"},
			`verify.secret: invalid base64; expected "whsec_" followed by the base64 key shown by the sender`},
		{"whsec rotation entry not base64", verify.Config{
			Type: "standard-webhooks", Secret: "whsec_c2VjcmV0", Secrets: []verify.Secret{"bad!"},
		}, `verify.secrets[0]: invalid base64`},
		{"whsec empty key", verify.Config{Type: "standard-webhooks", Secret: "whsec_"},
			`verify.secret: empty key after the "whsec_" prefix`},
		{"discord key missing", verify.Config{Type: "discord"},
			"verify.public_key: required for type discord"},
		{"discord key short", verify.Config{Type: "discord", PublicKey: "abcd"},
			"verify.public_key: expected 64 hex digits (an Ed25519 public key), got 4 characters"},
		{"discord key not hex", verify.Config{Type: "discord", PublicKey: strings.Repeat("x", 64)},
			"verify.public_key: expected 64 hex digits"},
		{"discord secret", verify.Config{Type: "discord", PublicKey: discordPublicKey, Secret: "s"},
			"verify.secret: not used by type discord; remove it"},
		{"hmac header missing", verify.Config{Type: "hmac", Secret: "s"},
			"verify.header: required for type hmac"},
		{"hmac header invalid", verify.Config{Type: "hmac", Secret: "s", Header: "X Sig"},
			`verify.header: invalid header name "X Sig"`},
		{"hmac algorithm unknown",
			verify.Config{Type: "hmac", Secret: "s", Header: "X-Sig", Algorithm: "md5"},
			`verify.algorithm: unknown algorithm "md5"; valid algorithms: sha1, sha256, sha384, sha512`},
		{"hmac encoding unknown",
			verify.Config{Type: "hmac", Secret: "s", Header: "X-Sig", Encoding: "base32"},
			`verify.encoding: unknown encoding "base32"; valid encodings: hex, base64, base64url`},
		{"hmac content without body",
			verify.Config{Type: "hmac", Secret: "s", Header: "X-Sig", SignedContent: "${header.X-Id}"},
			"verify.signed_content: must contain ${body}, or the signature would not cover the body"},
		{"hmac content unterminated",
			verify.Config{Type: "hmac", Secret: "s", Header: "X-Sig", SignedContent: "${body}.${header.X"},
			`verify.signed_content: unterminated reference at byte 8; close it with "}"`},
		{"hmac content unknown reference",
			verify.Config{Type: "hmac", Secret: "s", Header: "X-Sig", SignedContent: "${query.a}${body}"},
			"verify.signed_content: unknown reference ${query.a}; use ${body} or ${header.NAME}"},
		{"hmac content empty header",
			verify.Config{Type: "hmac", Secret: "s", Header: "X-Sig", SignedContent: "${header.}${body}"},
			`verify.signed_content: invalid header name "" in ${header.}`},
		{"hmac tolerance without timestamp header",
			verify.Config{Type: "hmac", Secret: "s", Header: "X-Sig", Tolerance: verify.Duration(time.Minute)},
			"verify.tolerance: used only with timestamp_header for type hmac"},
		{"hmac timestamp header unsigned",
			verify.Config{Type: "hmac", Secret: "s", Header: "X-Sig", TimestampHeader: "x-ts"},
			"verify.timestamp_header: X-Ts is not signed; add ${header.X-Ts} to signed_content, " +
				"or a replayed request could carry a fresh timestamp"},
		{"hmac public key",
			verify.Config{Type: "hmac", Secret: "s", Header: "X-Sig", PublicKey: discordPublicKey},
			"verify.public_key: not used by type hmac; remove it"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := verify.New(tc.cfg, nil)
			require.Error(t, err)
			assert.Nil(t, v)
			assert.Contains(t, err.Error(), tc.want)
			assert.ErrorIs(t, err, verify.ErrInvalidConfig)
			var field *verify.ConfigError
			assert.True(t, errors.As(err, &field))
			if len(tc.cfg.Secret) > len("whsec_") {
				assert.NotContains(t, err.Error(), string(tc.cfg.Secret))
			}
		})
	}
}

func TestNewReportsEveryField(t *testing.T) {
	_, err := verify.New(verify.Config{
		Type: "hmac", Algorithm: "md5", Encoding: "base32",
	}, nil)
	require.Error(t, err)
	for _, field := range []string{"verify.secret:", "verify.header:", "verify.algorithm:", "verify.encoding:"} {
		assert.Contains(t, err.Error(), field)
	}
}

func TestNewAcceptsEveryType(t *testing.T) {
	configs := []verify.Config{
		{Type: "github", Secret: "s"},
		{Type: " GitHub ", Secrets: []verify.Secret{"a", "b"}},
		{Type: "stripe", Secret: "s", Tolerance: verify.Duration(time.Minute)},
		{Type: "slack", Secret: "s"},
		{Type: "standard-webhooks", Secret: "whsec_c2VjcmV0"},
		{Type: "standard-webhooks", Secret: "c2VjcmV0"},
		{Type: "discord", PublicKey: discordPublicKey},
		{Type: "discord", PublicKey: strings.ToUpper(discordPublicKey)},
		{Type: "hmac", Secret: "s", Header: "X-Sig"},
		{
			Type: "hmac", Secret: "s", Header: "X-Sig", TimestampHeader: "X-Ts",
			SignedContent: "${header.x-ts}.${body}", Tolerance: verify.Duration(time.Minute),
		},
	}
	for _, cfg := range configs {
		v, err := verify.New(cfg, nil)
		assert.NoError(t, err, cfg.Type)
		assert.NotNil(t, v, cfg.Type)
	}
	assert.Len(t, verify.Types(), 6)
}

func TestConfigFromYAML(t *testing.T) {
	const text = `
type: hmac
secret: yaml-secret-value
secrets: [older-secret-value]
header: X-Signature
algorithm: sha256
encoding: hex
prefix: "sha256="
signed_content: "${header.X-Timestamp}.${body}"
timestamp_header: X-Timestamp
tolerance: 90s
`
	var cfg verify.Config
	require.NoError(t, yaml.Unmarshal([]byte(text), &cfg))

	assert.Equal(t, "hmac", cfg.Type)
	assert.Equal(t, verify.Secret("yaml-secret-value"), cfg.Secret)
	assert.Equal(t, []verify.Secret{"older-secret-value"}, cfg.Secrets)
	assert.Equal(t, "X-Signature", cfg.Header)
	assert.Equal(t, "sha256=", cfg.Prefix)
	assert.Equal(t, "${header.X-Timestamp}.${body}", cfg.SignedContent)
	assert.Equal(t, "X-Timestamp", cfg.TimestampHeader)
	assert.Equal(t, verify.Duration(90*time.Second), cfg.Tolerance)
	_, err := verify.New(cfg, nil)
	assert.NoError(t, err)
}

func TestDurationFromYAMLAndJSON(t *testing.T) {
	cases := []struct {
		text string
		want time.Duration
	}{
		{`"5m"`, 5 * time.Minute},
		{`5m`, 5 * time.Minute},
		{`"1m30s"`, 90 * time.Second},
		{`300`, 300 * time.Second},
		{`"300"`, 300 * time.Second},
		{`0`, 0},
		{`""`, 0},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			var fromYAML struct {
				Tolerance verify.Duration `yaml:"tolerance"`
			}
			require.NoError(t, yaml.Unmarshal([]byte("tolerance: "+tc.text), &fromYAML))
			assert.Equal(t, verify.Duration(tc.want), fromYAML.Tolerance)

			if tc.text == "5m" {
				return // not JSON
			}
			var fromJSON verify.Config
			require.NoError(t, json.Unmarshal([]byte(`{"tolerance":`+tc.text+`}`), &fromJSON))
			assert.Equal(t, verify.Duration(tc.want), fromJSON.Tolerance)
		})
	}
}

func TestDurationRejectsInvalid(t *testing.T) {
	for _, text := range []string{`-5`, `"-1m"`, `1.5`, `"soon"`, `true`, `99999999999999`, `[1]`, `18446744073709551615`} {
		t.Run(text, func(t *testing.T) {
			var cfg verify.Config
			err := yaml.Unmarshal([]byte("tolerance: "+text), &cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "tolerance")

			err = json.Unmarshal([]byte(`{"tolerance":`+text+`}`), &cfg)
			require.Error(t, err)
		})
	}
}

func TestDurationMarshal(t *testing.T) {
	d := verify.Duration(90 * time.Second)
	out, err := yaml.Marshal(map[string]verify.Duration{"tolerance": d})
	require.NoError(t, err)
	assert.Equal(t, "tolerance: 1m30s\n", string(out))

	out, err = json.Marshal(d)
	require.NoError(t, err)
	assert.Equal(t, `"1m30s"`, string(out))
}
