package listener

import (
	"bytes"
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/tether-go/tether/verify"
)

// readmeEndpoint is the part of a listener block in README.md that this
// package maps; verify blocks belong to package verify.
type readmeEndpoint struct {
	Type        string           `yaml:"type"`
	Path        string           `yaml:"path"`
	Workflow    string           `yaml:"workflow"`
	Preset      string           `yaml:"preset"`
	Input       any              `yaml:"input"`
	IdentifyBy  string           `yaml:"identify_by"`
	Status      string           `yaml:"status"`
	SuccessWhen []string         `yaml:"success_when"`
	FailWhen    []string         `yaml:"fail_when"`
	Result      any              `yaml:"result"`
	Responses   []readmeResponse `yaml:"responses"`
	Reply       *readmeResponse  `yaml:"reply"`
	Verify      map[string]any   `yaml:"verify"`
}

type readmeResponse struct {
	When    string            `yaml:"when"`
	Equals  []string          `yaml:"equals"`
	Status  int               `yaml:"status"`
	Body    any               `yaml:"body"`
	Headers map[string]string `yaml:"headers"`
}

func (r readmeResponse) response() Response {
	return Response{When: r.When, Equals: r.Equals, Status: r.Status, Body: r.Body, Headers: r.Headers}
}

// TestReadmeExamplesCompile parses every YAML block in README.md and
// builds the listener it describes, so the examples stay valid.
func TestReadmeExamplesCompile(t *testing.T) {
	text, err := os.ReadFile("README.md")
	require.NoError(t, err)
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(text), -1)
	require.NotEmpty(t, blocks)
	for i, block := range blocks {
		var doc struct {
			Listener  *readmeEndpoint  `yaml:"listener"`
			Responses []readmeResponse `yaml:"responses"`
			Reply     *readmeResponse  `yaml:"reply"`
		}
		require.NoError(t, yaml.Unmarshal([]byte(block[1]), &doc), "block %d", i)
		ep := doc.Listener
		if ep == nil {
			ep = &readmeEndpoint{Type: "http-trigger", Path: "/p", Workflow: "wf", Responses: doc.Responses, Reply: doc.Reply}
		}
		if ep.Verify != nil {
			raw, err := yaml.Marshal(ep.Verify)
			require.NoError(t, err)
			dec := yaml.NewDecoder(bytes.NewReader(raw))
			dec.KnownFields(true)
			var cfg verify.Config
			assert.NoError(t, dec.Decode(&cfg), "block %d: verify block", i)
		}

		var responses []Response
		for _, r := range ep.Responses {
			responses = append(responses, r.response())
		}
		var reply *Reply
		if ep.Reply != nil {
			reply = &Reply{Status: ep.Reply.Status, Body: ep.Reply.Body, Headers: ep.Reply.Headers}
		}
		switch ep.Type {
		case "http-trigger":
			_, err = NewTrigger(TriggerConfig{Triggers: []Trigger{{
				Path: ep.Path, Workflow: ep.Workflow, Preset: ep.Preset, Input: ep.Input,
				Responses: responses, Reply: reply,
			}}}, &recordingStarter{}, nil)
		case "http-callback":
			_, err = NewCallback(CallbackConfig{Callbacks: []Callback{{
				Path: ep.Path, Preset: ep.Preset, IdentifyBy: ep.IdentifyBy, Status: ep.Status,
				SuccessWhen: ep.SuccessWhen, FailWhen: ep.FailWhen, Result: ep.Result,
				Responses: responses, Reply: reply,
			}}}, &fakeWaiter{}, nil)
		default:
			t.Fatalf("block %d: unknown listener type %q", i, ep.Type)
		}
		assert.NoError(t, err, "block %d", i)
	}
}
