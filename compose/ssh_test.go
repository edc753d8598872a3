package compose_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/compose"
	"github.com/tether-go/tether/internal/sshdtest"
	"github.com/tether-go/tether/workflow"
)

// TestSSHGatewayCarriesCallback runs the guide's SSH tunnel example
// against a real sshd on loopback: the workflow sends
// http://${gateway:PORT.public_address}/callback to the API, and the
// API's callback reaches the listener through the SSH server's remote
// port.
func TestSSHGatewayCarriesCallback(t *testing.T) {
	sshd := sshdtest.Start(t, nil)
	local, remote := sshdtest.FreePort(t), sshdtest.FreePort(t)

	callbackURLs := make(chan string, 1)
	replies := make(chan int, 1)
	api := newAsyncAPI(t, nil)
	api.behave = func(task map[string]any) {
		url := task["callback_url"].(string)
		callbackURLs <- url
		api.later(10*time.Millisecond, func() {
			code, _ := post(t, url, map[string]any{"task_id": task["task_id"], "result": map[string]any{"ok": true}})
			replies <- code
		})
	}

	yaml := fmt.Sprintf(`
gateway:
  type: ssh-tunnel
  port:
    - "%[2]d:%[1]d"
  connection:
    host: ${env.SSH_TUNNEL_HOST}
    port: ${env.SSH_TUNNEL_PORT | 22}
    auth:
      type: keyfile
      username: ${env.SSH_USERNAME}
      keyfile: ${env.SSH_KEYFILE | ~/.ssh/id_rsa}
  known_hosts: ${env.KNOWN_HOSTS}

listener:
  type: http-callback
  host: 127.0.0.1
  port: %[1]d
  path: /callback
  identify_by: ${body.task_id}
  result: ${body.result}

component:
  type: http-client
  base_url: ${env.API_URL}
  path: /process
  method: POST
  headers:
    Content-Type: application/json
  body:
    data: ${input.data}
    callback_url: http://${gateway:%[1]d.public_address}/callback
    task_id: ${context.run_id}
  completion:
    type: callback
    wait_for: ${context.run_id}
    timeout: 20s
  output:
    task_id: ${response.task_id}
    result: ${result as json}

workflow:
  title: SSH Tunnel Gateway Example
  input: ${input}
  output: ${output}
`, local, remote)

	env := map[string]string{
		"SSH_TUNNEL_HOST": sshd.Host,
		"SSH_TUNNEL_PORT": fmt.Sprint(sshd.Port),
		"SSH_USERNAME":    sshd.User,
		"SSH_KEYFILE":     sshd.ClientKeyFile,
		"KNOWN_HOSTS":     sshd.KnownHostsFile,
		"API_URL":         api.URL,
	}
	cfg, err := compose.Parse([]byte(yaml), "ssh.yml")
	require.NoError(t, err)
	p, err := compose.New(cfg, &compose.Options{
		LookupEnv: func(name string) (string, bool) {
			v, ok := env[name]
			return v, ok
		},
	})
	require.NoError(t, err)
	cfg.Controller.Disabled = true
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, p.Up(ctx))
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = p.Shutdown(sctx)
	})

	run, err := p.Run(ctx, "", map[string]any{"data": "hello"})
	require.NoError(t, err)
	require.Equal(t, workflow.StateCompleted, run.State, run.Error)
	assert.Equal(t, fmt.Sprintf("http://127.0.0.1:%d/callback", remote), <-callbackURLs,
		"the callback URL is the SSH server's remote port")
	out := run.Output.(map[string]any)
	assert.Equal(t, map[string]any{"ok": true}, out["result"])
	// The run resumes as soon as the listener has the callback, which
	// can be before the reply has travelled back through the tunnel.
	assert.Equal(t, http.StatusOK, <-replies, "the API gets the listener's reply through the tunnel")
}
