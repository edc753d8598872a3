package verify_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/tether-go/tether/verify"
)

const (
	primarySecret = "primary-secret-3f9a"
	rotatedSecret = "rotated-secret-7c21"
)

func redactedConfig() verify.Config {
	return verify.Config{
		Type:    "hmac",
		Secret:  primarySecret,
		Secrets: []verify.Secret{rotatedSecret},
		Header:  "X-Signature",
	}
}

func assertRedacted(t *testing.T, output string) {
	t.Helper()
	assert.NotContains(t, output, primarySecret)
	assert.NotContains(t, output, rotatedSecret)
	assert.NotContains(t, output, "3f9a")
	assert.NotContains(t, output, "7c21")
	assert.Contains(t, output, "[redacted]")
}

func TestConfigFormatRedacts(t *testing.T) {
	cfg := redactedConfig()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		t.Run(verb, func(t *testing.T) {
			assertRedacted(t, fmt.Sprintf(verb, cfg))
			assertRedacted(t, fmt.Sprintf(verb, &cfg))
			assertRedacted(t, fmt.Sprintf(verb, cfg.Secret))
			assertRedacted(t, fmt.Sprintf(verb, cfg.Secrets))
		})
	}
	assertRedacted(t, fmt.Sprint(cfg))
	assertRedacted(t, fmt.Sprintln(cfg))
	assertRedacted(t, cfg.Secret.String())
	assertRedacted(t, cfg.Secret.GoString())
}

func TestConfigSlogRedacts(t *testing.T) {
	cfg := redactedConfig()
	var buf bytes.Buffer
	handlers := map[string]slog.Handler{
		"text": slog.NewTextHandler(&buf, nil),
		"json": slog.NewJSONHandler(&buf, nil),
	}
	for name, handler := range handlers {
		t.Run(name, func(t *testing.T) {
			buf.Reset()
			logger := slog.New(handler)
			logger.Info("value", "verify", cfg)
			logger.Info("pointer", "verify", &cfg)
			logger.Info("secret", "secret", cfg.Secret, "secrets", cfg.Secrets)
			logger.Info("any", slog.Any("verify", cfg))
			assertRedacted(t, buf.String())
			assert.Contains(t, buf.String(), "X-Signature")
		})
	}
}

func TestConfigMarshalRedacts(t *testing.T) {
	cfg := redactedConfig()

	out, err := json.Marshal(cfg)
	require.NoError(t, err)
	assertRedacted(t, string(out))

	out, err = yaml.Marshal(cfg)
	require.NoError(t, err)
	assertRedacted(t, string(out))
}

func TestEmptySecretPrintsEmpty(t *testing.T) {
	var s verify.Secret
	assert.Equal(t, "", fmt.Sprint(s))
	assert.Equal(t, `""`, fmt.Sprintf("%#v", s))
}

func TestSecretValueSurvivesDecoding(t *testing.T) {
	var cfg verify.Config
	require.NoError(t, json.Unmarshal([]byte(`{"type":"github","secret":"json-secret"}`), &cfg))
	assert.Equal(t, "json-secret", string(cfg.Secret))
}
