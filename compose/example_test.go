package compose_test

import (
	"context"
	"fmt"

	"github.com/tether-go/tether/compose"
	"github.com/tether-go/tether/workflow"
)

// A project built from YAML runs a workflow whose job calls a component
// written in Go.
func Example() {
	cfg, err := compose.Parse([]byte(`
workflow:
  id: greet
  jobs:
    - id: hello
      component: shout
      input:
        text: "hello, ${input.name}"
  output: ${jobs.hello.output}
`), "tether.yml")
	if err != nil {
		fmt.Println(err)
		return
	}
	shout := workflow.Func(func(ctx context.Context, input any) (any, error) {
		text := input.(map[string]any)["text"].(string)
		return text + "!", nil
	})
	p, err := compose.New(cfg, &compose.Options{
		Components: map[string]workflow.Component{"shout": shout},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()

	run, err := p.Run(context.Background(), "greet", map[string]any{"name": "tether"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(run.State, run.Output)
	// Output: completed hello, tether!
}

// Parse reports every structural mistake with its YAML path and line.
func ExampleParse() {
	_, err := compose.Parse([]byte(`
listener:
  type: http-callback
  runtime: docker
  callbacks:
    - path: /done
    - method: POST
`), "tether.yml")
	fmt.Println(err)
	// Output:
	// tether.yml:4: listener.runtime: docker is not supported: tether runs every listener, gateway and component in its own process; remove the field or set it to native
	// tether.yml:7: listener.callbacks[1].path: required: the route of this endpoint, such as /callback
}
