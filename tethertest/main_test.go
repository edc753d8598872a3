package tethertest_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that projects and providers stop every goroutine they
// start once their tests have cleaned up.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
