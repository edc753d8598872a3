// Package ngrok implements the "ngrok" tunnel driver (gateway type
// "http-tunnel"), with the ngrok agent running inside the process
// (golang.ngrok.com/ngrok/v2). One agent session carries the tunnels of
// all ports.
//
// Settings (all optional):
//
//	authtoken: ${env.NGROK_AUTHTOKEN}  # default: the NGROK_AUTHTOKEN environment variable
//	url: https://hooks.example.ngrok.app # fixed URL for a gateway with one port
//	domain: hooks.example.ngrok.app      # the same, as a domain (https is implied)
//	urls: {8090: https://a.ngrok.app}    # fixed URLs per local port
//	connect_timeout: 30s                 # bound on connecting the agent session
//
// Without a fixed URL, ngrok assigns a random one per port. A missing
// authtoken fails before any traffic, with a message that explains how
// to set it. ngrok's error codes (ERR_NGROK_...) become errors that
// explain what to do. Rejected authtokens wrap [driver.ErrAuth] and are
// not retried. The authtoken never appears in logs or errors.
//
// Sessions implement [driver.Listening]: a host program can serve its
// own handler on an ngrok endpoint without a local port.
package ngrok
