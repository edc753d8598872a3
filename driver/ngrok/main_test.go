package ngrok_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them. The
// ngrok SDK's reconnect loop is the exception: after a failed Connect it
// sleeps out its backoff (up to a second in TestSDKAgentConnectBounded)
// before it notices the session is closed and returns.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("golang.ngrok.com/ngrok/v2/internal/tunnel/client.(*reconnectingSession).connect.func1"))
}
