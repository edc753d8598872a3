// Package drivertest is a conformance suite for tunnel drivers. Every
// driver in tether passes it, and custom drivers should too:
//
//	func TestConformance(t *testing.T) {
//		drivertest.Run(t, drivertest.Harness{
//			Driver:   mydriver.New(nil),
//			Settings: map[string]any{"base_url": "https://example.com"},
//		})
//	}
//
// The suite starts an HTTP server on loopback as the local service, opens
// tunnels to it and checks the contract of package driver: settings
// checked before any traffic, endpoints, change notification, Close
// that is complete and idempotent, and (when the harness says how to
// reach the public side) that a request through the tunnel reaches the
// local service.
package drivertest
