// Package cloudflare implements the "cloudflare" tunnel driver (gateway
// type "http-tunnel"), which runs the cloudflared program, one process
// per port.
//
// Settings (all optional):
//
//	cloudflared: /usr/local/bin/cloudflared  # default: cloudflared from PATH
//	token: ${env.CLOUDFLARE_TUNNEL_TOKEN}    # named tunnel by token
//	tunnel: my-tunnel                        # named tunnel by name or id ...
//	credentials_file: ~/.cloudflared/ID.json # ... with its credentials file
//	hostname: api.example.com                # public hostname of a named tunnel
//	url_timeout: 30s                         # wait for the public URL; numbers are milliseconds
//	restart_delay: 1s                        # first delay before restarting a crashed cloudflared
//	max_restarts: 0                          # restarts in a row before giving up; 0 never gives up
//
// Without token or tunnel the driver opens a quick tunnel with a random
// https://<name>.trycloudflare.com URL. It runs cloudflared with its own
// empty configuration file, so that a ~/.cloudflared/config.yml written
// for a named tunnel cannot take the quick tunnel over. It reads the URL
// from cloudflared's metrics endpoint (/quicktunnel) or from its log, in
// both the logfmt style of releases before 2021 and the current console
// style. A line that reports an error, and the quick tunnel
// service's own address api.trycloudflare.com, are never taken for the
// URL.
//
// A named tunnel (token, or tunnel with credentials_file) needs hostname,
// the DNS name routed to the tunnel in Cloudflare; its public URL is
// https://<hostname>. A named tunnel serves one local port: several
// cloudflared processes of one tunnel would share its traffic.
//
// The token goes to cloudflared through the TUNNEL_TOKEN environment
// variable, never the command line, and never appears in logs or errors.
// Both output pipes are read for the life of the process. When
// cloudflared exits on its own, it is started again with backoff and the
// new URL is published; Close stops it (SIGTERM, then SIGKILL after five
// seconds) together with any process it started.
package cloudflare
