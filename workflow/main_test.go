package workflow

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the tests when goroutines outlive them, such as a run
// that Close did not stop. Idle keep-alive connections of
// http.DefaultTransport are allowed to stay.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
	)
}
