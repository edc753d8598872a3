package all_test

import (
	"fmt"

	_ "github.com/tether-go/tether/driver/all"

	"github.com/tether-go/tether/driver"
)

func Example() {
	fmt.Println(driver.Drivers())
	// Output: [cloudflare local ngrok ssh static]
}
