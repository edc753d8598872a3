package compose_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/compose"
)

func TestParseProblems(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		want []string
	}{
		{
			name: "callbacks path required",
			yaml: `
listener:
  type: http-callback
  callbacks:
    - path: /a
    - method: POST
`,
			want: []string{"test.yml:6: listener.callbacks[1].path: required"},
		},
		{
			name: "unknown field",
			yaml: `
listener:
  type: http-callback
  path: /cb
  identfy_by: ${body.id}
`,
			want: []string{"test.yml:5: listener.identfy_by: unknown field; the known fields are"},
		},
		{
			name: "runtime docker",
			yaml: `
listener:
  type: http-callback
  runtime: docker
  path: /cb
`,
			want: []string{"test.yml:4: listener.runtime: docker is not supported"},
		},
		{
			name: "bad duration",
			yaml: `
component:
  type: http-client
  endpoint: http://127.0.0.1:1/x
  timeout: soon
`,
			want: []string{`test.yml:5: component.timeout: invalid duration "soon"`},
		},
		{
			name: "negative concurrency",
			yaml: `
listener:
  type: http-callback
  path: /cb
  max_concurrent_count: -1
`,
			want: []string{"listener.max_concurrent_count: invalid value -1: must be at least 0"},
		},
		{
			name: "bad listener type",
			yaml: `
listener:
  type: http-webhook
  path: /cb
`,
			want: []string{`listener.type: invalid value "http-webhook": use one of http-callback, http-trigger`},
		},
		{
			name: "unknown top-level key",
			yaml: `
listenr:
  type: http-callback
`,
			want: []string{"test.yml:2: listenr: unknown top-level key"},
		},
		{
			name: "trigger without workflow",
			yaml: `
listener:
  type: http-trigger
  path: /hook
`,
			want: []string{"listener.workflow: required"},
		},
		{
			name: "callback with triggers list",
			yaml: `
listener:
  type: http-callback
  triggers:
    - path: /x
      workflow: w
`,
			want: []string{"listener.triggers: an http-callback listener takes callbacks"},
		},
		{
			name: "bulk without item",
			yaml: `
listener:
  type: http-callback
  path: /cb
  bulk: true
`,
			want: []string{"listener.item: required when bulk is true"},
		},
		{
			name: "bad YAML",
			yaml: "listener: [",
			want: []string{"invalid YAML"},
		},
		{
			name: "empty file",
			yaml: "",
			want: []string{"the file is empty"},
		},
		{
			name: "completion type",
			yaml: `
component:
  type: http-client
  endpoint: http://127.0.0.1:1/x
  completion:
    wait_for: ${context.run_id}
`,
			want: []string{"component.completion.type: required: set callback or polling"},
		},
		{
			name: "port list of maps",
			yaml: `
gateway:
  type: http-tunnel
  driver: local
  port:
    - {local: 8090}
`,
			want: []string{`gateway.port[0]: each port must be a number or a string such as "9834:8090"`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := compose.Parse([]byte(tc.yaml), "test.yml")
			require.Error(t, err)
			assert.ErrorIs(t, err, compose.ErrInvalidConfig)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			var problems compose.Problems
			require.True(t, errors.As(err, &problems))
			assert.NotEmpty(t, problems)
		})
	}
}

func TestParseDurations(t *testing.T) {
	cfg, err := compose.Parse([]byte(`
component:
  type: http-client
  endpoint: http://127.0.0.1:1/x
  timeout: 300000
  completion:
    type: polling
    interval: 1m30s
    timeout: 250ms
`), "test.yml")
	require.NoError(t, err)
	require.Len(t, cfg.Components, 1)
	c := cfg.Components[0]
	assert.Equal(t, 5*time.Minute, c.Timeout.Value, "a number is milliseconds")
	assert.Equal(t, 90*time.Second, c.Completion.Interval.Value)
	assert.Equal(t, 250*time.Millisecond, c.Completion.Timeout.Value)
}

func TestParseComponentForms(t *testing.T) {
	cfg, err := compose.Parse([]byte(`
components:
  - id: a
    type: http-client
    endpoint: http://127.0.0.1:1/a
  - id: b
    type: http-client
    endpoint: http://127.0.0.1:1/b
workflows:
  - id: one
    component: a
  - id: two
    component: b
`), "test.yml")
	require.NoError(t, err)
	assert.Len(t, cfg.Components, 2)
	assert.Equal(t, "b", cfg.Components[1].ID)
	assert.Len(t, cfg.Workflows, 2)
	p, err := compose.New(cfg, nil)
	require.NoError(t, err)
	defer p.Close()
	infos := p.Engine().Workflows()
	require.Len(t, infos, 2)
	assert.Equal(t, "one", infos[0].ID)
}

func TestNewProblems(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		want string
	}{
		{
			name: "gateway port not served",
			yaml: `
gateway:
  type: http-tunnel
  driver: local
  port: 8090
component:
  type: http-client
  endpoint: ${gateway:9000.public_url}/x
`,
			want: "component: ${gateway:9000...} refers to port 9000, which no gateway serves",
		},
		{
			name: "env only in ports",
			yaml: `
listener:
  type: http-callback
  port: ${body.port}
  path: /cb
`,
			want: "listener.port: only ${env.*} can be used here",
		},
		{
			name: "dependency cycle",
			yaml: `
component:
  type: http-client
  endpoint: http://127.0.0.1:1/x
workflow:
  jobs:
    - id: a
      depends_on: [b]
    - id: b
      depends_on: [a]
`,
			want: "dependency cycle",
		},
		{
			name: "bad template",
			yaml: `
component:
  type: http-client
  endpoint: http://127.0.0.1:1/x
  body:
    x: ${input.a
`,
			want: `component.body: expr: "${input.a" in field "x": position 0: unterminated`,
		},
		{
			name: "unsupported component type",
			yaml: `
component:
  type: shell
`,
			want: `component.type: unsupported component type "shell"`,
		},
		{
			name: "several workflows need ids",
			yaml: `
component:
  type: http-client
  endpoint: http://127.0.0.1:1/x
workflows:
  - title: a
  - title: b
`,
			want: "workflows[1].id: required when there are several workflows",
		},
		{
			name: "callback needs wait_for",
			yaml: `
component:
  type: http-client
  endpoint: http://127.0.0.1:1/x
  completion:
    type: callback
`,
			want: "completion.wait_for is required",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := compose.Parse([]byte(tc.yaml), "test.yml")
			require.NoError(t, err)
			_, err = compose.New(cfg, nil)
			require.Error(t, err)
			assert.ErrorIs(t, err, compose.ErrInvalidConfig)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(asyncYAML))
	f.Add([]byte(triggerYAML))
	f.Add([]byte("listener: {type: http-callback, callbacks: [{path: /a}]}"))
	f.Add([]byte("gateway: {type: ssh-tunnel, port: [\"9834:8090\"]}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := compose.Parse(data, "fuzz.yml")
		if err != nil {
			return
		}
		p, err := compose.New(cfg, nil)
		if err == nil {
			_ = p.Close()
		}
	})
}
