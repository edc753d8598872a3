package compose_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/compose"
)

func TestWarningsNameUnsetEnv(t *testing.T) {
	cfg, err := compose.Parse([]byte(`
component:
  type: http-client
  base_url: ${env.API_URL}
  path: /x
  headers:
    Authorization: Bearer ${env.API_KEY}
    Literal: $${env.NOT_A_REFERENCE}
  body:
    size: ${env.SIZE | 10}
    region: ${env.REGION}
workflow:
  id: w
`), "test.yml")
	require.NoError(t, err)

	warnings := cfg.Warnings(func(name string) (string, bool) {
		if name == "REGION" {
			return "eu", true
		}
		return "", false
	})
	assert.Equal(t, []string{
		"component.base_url: ${env.API_URL} is not set and has no default; set it, or write ${env.API_URL | default}",
		"component.headers.Authorization: ${env.API_KEY} is not set and has no default; set it, or write ${env.API_KEY | default}",
	}, warnings)
}
