package cloudflare_test

import (
	"context"
	"fmt"

	"github.com/tether-go/tether/driver"
	"github.com/tether-go/tether/driver/cloudflare"
)

// Example opens a quick tunnel to local port 8090 and prints its random
// trycloudflare.com URL. It is compiled but not run, because it needs
// cloudflared and reaches Cloudflare.
func Example() {
	session, err := cloudflare.New(nil).Open(context.Background(), driver.Config{
		Settings: map[string]any{"url_timeout": "30s"},
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
	fmt.Println(tunnel.Endpoint().PublicURL)
}
