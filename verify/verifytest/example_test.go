package verifytest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/tether-go/tether/verify"
	"github.com/tether-go/tether/verify/verifytest"
)

// A listener test signs a request the way Slack would, checks that it
// passes, and then replays it later to see it rejected.
func ExampleSlack() {
	v, err := verify.New(verify.Config{Type: "slack", Secret: "test-signing-secret"}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	body := []byte("token=test&command=%2Fdeploy")

	r := httptest.NewRequest(http.MethodPost, "/slack/commands", nil)
	verifytest.Slack(r.Header, "test-signing-secret", body, time.Now())
	fmt.Println(v.Verify(r, body))

	verifytest.Slack(r.Header, "test-signing-secret", body, time.Now().Add(-time.Hour))
	fmt.Println(v.Verify(r, body) != nil)
	// Output:
	// <nil>
	// true
}
