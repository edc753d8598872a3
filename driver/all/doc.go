// Package all registers every built-in tunnel driver (cloudflare, local,
// ngrok, ssh and static) in the default registry when imported:
//
//	import _ "github.com/tether-go/tether/driver/all"
package all
