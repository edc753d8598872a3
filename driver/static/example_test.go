package static_test

import (
	"context"
	"fmt"

	"github.com/tether-go/tether/driver"
	"github.com/tether-go/tether/driver/static"
)

// Example reports a production URL for a port, as a gateway with
// "type: static" and "public_url: https://api.example.com" does.
func Example() {
	session, err := static.New(nil).Open(context.Background(), driver.Config{
		Settings: map[string]any{"public_url": "https://api.example.com"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer session.Close()

	tunnel, err := session.Forward(context.Background(), driver.Forward{LocalPort: 8090})
	if err != nil {
		fmt.Println(err)
		return
	}
	e := tunnel.Endpoint()
	fmt.Println(e.PublicURL, e.PublicAddress)
	// Output: https://api.example.com api.example.com:443
}
