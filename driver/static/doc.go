// Package static implements the "static" tunnel driver, for production
// behind a real domain: the public URL of each port comes from the
// configuration and nothing is opened.
//
// Settings:
//
//	public_url   the public URL of every port, such as https://api.example.com
//	public_urls  a map from local port to public URL, for gateways with
//	             several ports ({8090: https://a.example.com, 8091: ...})
//
// One of them is required. The public address is the URL's host and
// port, with 443 for https and 80 for http when the URL has no port.
package static
