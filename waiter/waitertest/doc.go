// Package waitertest is the conformance suite for [waiter.Waiter]
// implementations. Every backend runs [Run]. A backend shared between
// processes also runs [RunShared] with two instances on one store.
//
//	func TestConformance(t *testing.T) {
//		waitertest.Run(t, func(t *testing.T) waiter.Waiter {
//			w := waiter.NewMemory(nil)
//			t.Cleanup(func() { _ = w.Close() })
//			return w
//		})
//	}
//
// The suite checks the contract written on [waiter.Waiter]: early and late
// outcomes, exactly-once delivery under concurrency, duplicates, a second
// Expect, Cancel, the end of a Wait's context, Close, empty ids, and that
// an outcome survives a JSON round trip.
package waitertest
