// Package local implements the "local" tunnel driver: no tunnel at all.
// The public URL of a port is its own local address, such as
// http://127.0.0.1:8090, so that a configuration written for a real
// tunnel runs unchanged on a laptop and in tests.
//
// Settings (all optional):
//
//	host    the host to put in the public URL and address (default "127.0.0.1")
//	scheme  "http" (default) or "https"
package local
