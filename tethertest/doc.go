// Package tethertest tests tether workflows in-process, in the manner of
// net/http/httptest: a project on free 127.0.0.1 ports, a fake
// asynchronous provider, a fake clock, and helpers that wait for runs
// with a bounded real-time deadline instead of sleeping.
//
// # A whole workflow test
//
// The project below posts a task to an image API and waits for the
// API's callback. The test replaces the API with a Provider that
// replies 202 and sends the callback, runs the workflow and checks its output:
//
//	const project = `
//	gateway:
//	  type: local
//	  port: 8090
//	listener:
//	  type: http-callback
//	  port: 8090
//	  path: /done
//	  identify_by: ${body.task_id}
//	  status: ${body.status}
//	  success_when: [completed]
//	  fail_when: [failed]
//	  result: ${body.output}
//	component:
//	  type: http-client
//	  base_url: ${env.API_URL}
//	  path: /generate
//	  body:
//	    prompt: ${input.prompt}
//	    task_id: ${context.run_id}
//	    callback_url: ${gateway:8090.public_url}/done
//	  completion:
//	    type: callback
//	    wait_for: ${context.run_id}
//	    timeout: 5m
//	workflow:
//	  id: generate
//	`
//
//	func TestGenerate(t *testing.T) {
//		api := tethertest.NewProvider(t, tethertest.Complete(map[string]any{"url": "https://cdn/cat.png"}))
//		p := tethertest.NewProject(t, project, tethertest.WithEnv(map[string]string{"API_URL": api.URL}))
//
//		run := p.StartRun("generate", map[string]any{"prompt": "a cat"})
//		out := p.RequireCompleted(run)
//		assert.Equal(t, map[string]any{"url": "https://cdn/cat.png"}, out)
//	}
//
// The local gateway makes ${gateway:8090.public_url} the address the
// listener is bound to, so the provider's callbacks reach it.
//
// # Providers
//
// A Behavior scripts what the Provider does with each task: Complete,
// Fail and Never set the callbacks, and Early, Late, Duplicated and
// OutOfOrder change when and how they are sent:
//
//	tethertest.Complete(out).Early()       // the callback overtakes the 202
//	tethertest.Complete(out).Duplicated()  // the "completed" callback twice
//	tethertest.Complete(out).OutOfOrder()  // "completed" before "processing"
//	tethertest.Fail("out of memory")       // a "failed" callback
//	tethertest.Complete(out).Late()        // held until Provider.Release
//	tethertest.Never()                     // 202 and silence
//
// Provider.Replies returns what the listener replied to each callback,
// such as "delivered", "stored" or "duplicate".
//
// # Time
//
// A project uses a fake Clock unless WithRealClock is given, so a
// timeout fires only when the test advances the clock. The code under
// test arms its timers in its own goroutines, so wait for the timer
// first; AdvanceTimer does both:
//
//	api.SetBehavior(tethertest.Never())
//	run := p.StartRun("generate", input)
//	p.Clock.AdvanceTimer(t, 5*time.Minute) // the completion timeout
//	msg := p.RequireFailed(run)
//
// Polling intervals and retry delays run on the same clock, so a test of
// a polling component advances the clock for each poll.
//
// # Callbacks without HTTP
//
// Project.Deliver hands an outcome to the project's waiter as the
// listener would, and Project.WaitUntilWaiting returns once a job waits
// for a callback id:
//
//	p.WaitUntilWaiting(run)
//	p.Deliver(run, waiter.Outcome{Result: map[string]any{"url": "u"}})
//
// # Engines built in Go
//
// A service that builds its workflow.Engine in Go, without compose,
// uses the same Provider and Clock, and NewRuns for the waiting
// helpers:
//
//	clk := tethertest.NewClock()
//	engine := workflow.New(&workflow.Options{Clock: clk, ...})
//	runs := tethertest.NewRuns(t, engine, clk)
//	out := runs.RequireCompleted(run.ID)
//
// # Failures
//
// Helpers fail the test with what they saw: the run's state, each job's
// state and error, and the timers armed on the fake clock. Each waits
// for at most DefaultTimeout of real time. Project logs go to t.Log.
package tethertest
