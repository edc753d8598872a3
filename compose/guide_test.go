package compose_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/compose"
)

// The files in testdata/guide are the YAML blocks of model-compose's
// "System Integration" chapter, in order. Whole configurations must load;
// fragments must fail with an error that names what is missing.
var guideCases = []struct {
	file string
	want string // "" means the file loads; otherwise a substring of the error
}{
	{"00.yml", ""},
	{"01.yml", ""},
	{"02.yml", ""},
	{"03.yml", ""},
	{"04.yml", ""},
	{"05.yml", ""},
	{"06.yml", ""},
	{"07.yml", "listener.type: required: set http-callback"},
	{"08.yml", "listener.type: required"},
	{"09.yml", "listener.type: required"},
	{"10.yml", `listener.workflow: unknown workflow "my-workflow"`},
	{"11.yml", `listener.workflow: unknown workflow "deployment-workflow"`},
	{"12.yml", `listener.triggers[1].workflow: unknown workflow "slack-handler"`},
	{"13.yml", `listener.workflow: unknown workflow "item-processor"`},
	{"14.yml", `unknown workflow "my-workflow"`},
	{"15.yml", `unknown workflow "my-workflow"`},
	{"16.yml", `unknown workflow "my-workflow"`},
	{"17.yml", `unknown workflow "my-workflow"`},
	{"18.yml", `workflow.jobs[0].component: unknown component "git-clone"; define it under components`},
	{"19.yml", `workflow.jobs[0].component: unknown component "nlp-analyzer"`},
	{"20.yml", ""},
	{"21.yml", ""},
	{"22.yml", ""},
	{"23.yml", ""},
	{"24.yml", ""},
	{"25.yml", ""},
	{"26.yml", ""},
	{"27.yml", ""},
	{"28.yml", ""},
	{"29.yml", ""},
	{"30.yml", ""},
	{"31.yml", ""},
	{"32.yml", ""},
	{"33.yml", "components.service: base_url or endpoint is required"},
	{"34.yml", "components.service: base_url or endpoint is required"},
	{"35.yml", ""},
	{"36.yml", ""},
	{"37.yml", ""},
	{"38.yml", "listener.type: required"},
	{"39.yml", "components.service.type: required: set http-client"},
	{"40.yml", "components.service: base_url or endpoint is required"},
	{"41.yml", "listener.type: required"},
	{"42.yml", `workflow.jobs[0].component: unknown component "async-service"`},
	{"43.yml", "listener.type: required"},
	{"44.yml", `workflow.jobs[0].component: unknown component "external-api"`},
	{"45.yml", "listener.type: required"},
}

func TestGuideExamplesLoad(t *testing.T) {
	env := map[string]string{
		"SSH_TUNNEL_HOST": "remote-server.com",
		"SSH_TUNNEL_PORT": "22",
		"SSH_USERNAME":    "user",
		"SSH_PASSWORD":    "example-password",
		"SSH_KEYFILE":     "~/.ssh/id_rsa",
		"NGROK_AUTHTOKEN": "example-token",
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	files, err := filepath.Glob("testdata/guide/*.yml")
	require.NoError(t, err)
	require.Len(t, files, len(guideCases), "every guide file needs an expectation")

	for _, tc := range guideCases {
		t.Run(tc.file, func(t *testing.T) {
			err := load(filepath.Join("testdata/guide", tc.file))
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.ErrorIs(t, err, compose.ErrInvalidConfig)
		})
	}
}

// load parses and builds a configuration without opening any socket,
// as tether validate does.
func load(path string) error {
	cfg, err := compose.Load(path)
	if err != nil {
		return err
	}
	p, err := compose.New(cfg, nil)
	if err != nil {
		return err
	}
	return p.Close()
}

func TestLoadMissingFile(t *testing.T) {
	_, err := compose.Load(filepath.Join(t.TempDir(), "nope.yml"))
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrNotExist)
}
