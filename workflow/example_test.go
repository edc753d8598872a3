package workflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/tether-go/tether/waiter"
	"github.com/tether-go/tether/workflow"
)

func ExampleEngine_Run() {
	e := workflow.New(nil)
	defer e.Close()

	shout := workflow.Func(func(ctx context.Context, input any) (any, error) {
		s, ok := input.(string)
		if !ok {
			return nil, fmt.Errorf("shout: input %v is not text", input)
		}
		return strings.ToUpper(s) + "!", nil
	})
	if err := e.AddComponent("shout", shout); err != nil {
		fmt.Println(err)
		return
	}
	// "greeting" refers to ${jobs.name...}, so it runs after "name".
	err := e.AddWorkflow(&workflow.Workflow{
		ID: "greet",
		Jobs: []workflow.Job{
			{ID: "greeting", Component: "shout", Input: "hello, ${jobs.name.output}"},
			{ID: "name", Component: "shout", Input: "${input.name}"},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	run, err := e.Run(context.Background(), "greet", map[string]any{"name": "ada"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(run.State, run.Output)
	// Output: completed HELLO, ADA!!
}

func ExampleEngine_AddWorkflow() {
	e := workflow.New(nil)
	defer e.Close()
	_ = e.AddComponent("noop", workflow.Func(func(ctx context.Context, input any) (any, error) { return input, nil }))

	err := e.AddWorkflow(&workflow.Workflow{
		ID: "loop",
		Jobs: []workflow.Job{
			{ID: "a", Component: "noop", DependsOn: []workflow.Dependency{{"b"}}},
			{ID: "b", Component: "noop", Input: "${jobs.a.output}"},
		},
	})
	fmt.Println(errors.Is(err, workflow.ErrInvalidWorkflow))
	fmt.Println(err)
	// Output:
	// true
	// workflow "loop": jobs[0].depends_on: dependency cycle a -> b -> a; a ${jobs.ID} reference also counts as a dependency
}

func ExampleEngine_AddHTTPClient() {
	callbacks := waiter.NewMemory(nil)
	defer callbacks.Close()

	// A stand-in for an asynchronous API: it accepts the task with 202
	// and reports the result later, here straight to the waiter instead
	// of through an http-callback listener.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var task struct {
			Prompt string `json:"prompt"`
			TaskID string `json:"task_id"`
		}
		if err := json.NewDecoder(r.Body).Decode(&task); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		go callbacks.Deliver(context.Background(), task.TaskID, waiter.Outcome{
			Result: map[string]any{"url": "http://127.0.0.1/" + task.Prompt + ".png"},
		})
	}))
	defer api.Close()

	e := workflow.New(&workflow.Options{Waiter: callbacks})
	defer e.Close()
	err := e.AddHTTPClient("image-generator", &workflow.HTTPClient{
		BaseURL: api.URL,
		Path:    "/generate",
		Body:    map[string]any{"prompt": "${input.prompt}", "task_id": "${context.run_id}"},
		Completion: &workflow.Completion{
			Type:    workflow.CompletionCallback,
			WaitFor: "${context.run_id}",
		},
		Output: map[string]any{"image_url": "${result.url}"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := e.AddWorkflow(&workflow.Workflow{ID: "generate", Component: "image-generator"}); err != nil {
		fmt.Println(err)
		return
	}

	run, err := e.Run(context.Background(), "generate", map[string]any{"prompt": "cat"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(run.Output)
	// Output: map[image_url:http://127.0.0.1/cat.png]
}
