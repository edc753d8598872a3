package compose_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/compose"
	"github.com/tether-go/tether/workflow"
)

// TestReadmeListenersLoad builds every listener and gateway block of README.md
// through compose, with a Go component standing in for the workflows
// that the blocks start, so that the README's YAML cannot rot.
func TestReadmeListenersLoad(t *testing.T) {
	text, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(text), -1)
	require.NotEmpty(t, blocks)

	env := map[string]string{
		"GITHUB_WEBHOOK_SECRET":     "gh-secret",
		"SLACK_SIGNING_SECRET":      "slack-secret",
		"DISCORD_PUBLIC_KEY":        strings.Repeat("ab", 32),
		"STRIPE_WEBHOOK_SECRET":     "whsec_new",
		"STRIPE_WEBHOOK_SECRET_OLD": "whsec_old",
		"WEBHOOK_SECRET":            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"NGROK_AUTHTOKEN":           "example-token",
		"SSH_TUNNEL_HOST":           "ssh.example.com",
		"SSH_USERNAME":              "deploy",
	}
	noop := workflow.Func(func(ctx context.Context, input any) (any, error) { return input, nil })
	workflowRef := regexp.MustCompile(`(?m)^\s+workflow: ([\w-]+)`)

	loaded := 0
	for _, b := range blocks {
		src := b[1]
		if !strings.HasPrefix(src, "listener:") && !strings.HasPrefix(src, "gateway:") {
			continue
		}
		for _, m := range workflowRef.FindAllStringSubmatch(src, -1) {
			src += "\n" + "workflows:\n  - id: " + m[1] + "\n    component: noop\n"
		}
		cfg, err := compose.Parse([]byte(src), "README.md")
		require.NoError(t, err, src)
		p, err := compose.New(cfg, &compose.Options{
			Components: map[string]workflow.Component{"noop": noop},
			LookupEnv: func(name string) (string, bool) {
				v, ok := env[name]
				return v, ok
			},
		})
		require.NoError(t, err, src)
		require.NoError(t, p.Close())
		loaded++
	}
	require.GreaterOrEqual(t, loaded, 11, "the README shows a listener per provider and a gateway per driver")
}
