package tethertest_test

// This file holds the "Testing your workflows" snippet of
// README.md, so that the snippet compiles and passes.

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/tether-go/tether/tethertest"
)

const generateYAML = `
gateway:
  type: local
  port: 8090
listener:
  type: http-callback
  port: 8090
  path: /done
  identify_by: ${body.task_id}
  status: ${body.status}
  success_when: [completed]
  fail_when: [failed]
  result: ${body.output}
component:
  type: http-client
  base_url: ${env.API_URL}
  path: /generate
  body:
    prompt: ${input.prompt}
    task_id: ${context.run_id}
    callback_url: ${gateway:8090.public_url}/done
  completion:
    type: callback
    wait_for: ${context.run_id}
    timeout: 5m
workflow:
  id: generate
`

func TestGenerate(t *testing.T) {
	image := map[string]any{"url": "https://cdn.test/cat.png"}
	api := tethertest.NewProvider(t, tethertest.Complete(image).Early())
	p := tethertest.NewProject(t, generateYAML,
		tethertest.WithEnv(map[string]string{"API_URL": api.URL}))

	run := p.StartRun("generate", map[string]any{"prompt": "a cat"})
	assert.Equal(t, image, p.RequireCompleted(run))
}

func TestGenerateTimesOut(t *testing.T) {
	api := tethertest.NewProvider(t, tethertest.Never())
	p := tethertest.NewProject(t, generateYAML,
		tethertest.WithEnv(map[string]string{"API_URL": api.URL}))

	run := p.StartRun("generate", map[string]any{"prompt": "a cat"})
	p.WaitUntilWaiting(run)                // the request got its response; wait_for is the run id
	p.Clock.AdvanceTimer(t, 5*time.Minute) // no sleeping
	assert.Contains(t, p.RequireFailed(run), "not received within 5m0s")
}
