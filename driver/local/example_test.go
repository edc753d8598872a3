package local_test

import (
	"context"
	"fmt"

	"github.com/tether-go/tether/driver"
	"github.com/tether-go/tether/driver/local"
)

// Example shows the public URL that the local driver reports: the local
// address itself.
func Example() {
	session, err := local.New(nil).Open(context.Background(), driver.Config{})
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
	fmt.Println(tunnel.Endpoint().PublicURL)
	// Output: http://127.0.0.1:8090
}
