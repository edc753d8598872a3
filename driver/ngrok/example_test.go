package ngrok_test

import (
	"fmt"

	"github.com/tether-go/tether/driver"
	ngrokdriver "github.com/tether-go/tether/driver/ngrok"
)

// Example checks settings as a gateway does when its configuration
// loads, without connecting: a misspelled setting is reported by name.
func Example() {
	err := ngrokdriver.New(nil).Validate(driver.Config{Settings: map[string]any{
		"auth_token": "...",
		"domain":     "hooks.example.ngrok.app",
	}})
	fmt.Println(err)
	// Output: invalid setting "auth_token": unknown setting; check its spelling
}
