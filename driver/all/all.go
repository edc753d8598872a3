// Package all registers every built-in tunnel driver (cloudflare, local,
// ngrok, ssh and static) in the default registry when imported:
//
//	import _ "github.com/tether-go/tether/driver/all"
package all

import (
	_ "github.com/tether-go/tether/driver/cloudflare"
	_ "github.com/tether-go/tether/driver/local"
	_ "github.com/tether-go/tether/driver/ngrok"
	_ "github.com/tether-go/tether/driver/ssh"
	_ "github.com/tether-go/tether/driver/static"
)
