// Package gateway exposes local ports to the outside world through
// tunnels, and reports the public side of each tunnel for
// ${gateway:PORT.public_url}, ${gateway:PORT.public_address} and
// ${gateway:PORT.port}.
//
// # Configuration
//
// A gateway has a type, a driver, one or more ports and the driver's own
// settings. [ParseConfig] reads the map that a YAML decoder produces:
//
//	gateway:
//	  type: http-tunnel        # http-tunnel, ssh-tunnel, local or static
//	  driver: ngrok            # for http-tunnel: ngrok, cloudflare, local, static or a custom driver
//	  port: [8090, "9834:8091"]
//
// The types map to drivers as follows:
//
//	type          driver                   public URL
//	http-tunnel   ngrok                    https://<random or fixed domain> from ngrok
//	http-tunnel   cloudflare               https://<random>.trycloudflare.com, or hostname of a named tunnel
//	ssh-tunnel    ssh (implied)            http://<connection.host>:<remote port>
//	local         local (implied)          http://127.0.0.1:<port>
//	static        static (implied)         public_url from the settings
//
// "http-tunnel" with driver "local" or "static" is the same as type
// "local" or "static". An empty type with a driver name selects that
// driver, which is how custom drivers are used.
//
// # Ports
//
// Each entry of port is one tunnel. [ParsePort] reads:
//
//	8090                    local port 8090; for ssh, remote port 8090 too
//	"9834:8090"             remote port 9834 leads to local port 8090 (ssh)
//	"remote_host:9834:8090" the same, bound to remote_host on the server (ssh)
//
// ${gateway:PORT...} always names the local port: with "9834:8090",
// ${gateway:8090.public_address} is "remote-server.com:9834".
//
// # Lifecycle
//
// [New] checks the configuration, so that a mistake is reported when the
// file loads. [Gateway.Start] opens the driver's session and then the
// tunnels in the background; [Gateway.Endpoint] waits for a tunnel to be
// ready, up to a deadline. Each tunnel logs
//
//	gateway <driver>: <public URL> -> <local port>
//
// when it is ready, and a warning when its public URL changes, for
// example after an SSH reconnect or a cloudflared restart.
// [Gateway.Shutdown] and [Gateway.Close] close the tunnels, stop any
// process the driver started and wait for it to exit.
//
// # Secrets
//
// Passwords, tokens and keys in the settings never appear in errors or
// logs. [Config.Redacted], [Config.String] and [Config.LogValue] hide
// them in configuration dumps.
package gateway
