package waitertest_test

import (
	"testing"

	"github.com/tether-go/tether/waiter"
	"github.com/tether-go/tether/waiter/waitertest"
)

// A backend's test file runs the suite with a constructor that returns a
// fresh waiter for each subtest. This example is compiled but not run,
// because the suite needs the *testing.T of a test.
func ExampleRun() {
	var t *testing.T // the test's own t
	waitertest.Run(t, func(t *testing.T) waiter.Waiter {
		w := waiter.NewMemory(nil)
		t.Cleanup(func() { _ = w.Close() })
		return w
	})
}
