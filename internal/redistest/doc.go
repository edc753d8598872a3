// Package redistest starts a real redis-server for a test, on a free
// loopback port, with its data in a temporary directory.
//
//	srv := redistest.Start(t, nil)
//	client := redis.NewClient(&redis.Options{Addr: srv.Addr})
//
// The server runs with appendonly yes, so that data written before
// [Server.Restart] are still there afterwards. When redis-server is not on
// PATH the test is skipped, unless the environment variable CI is "true":
// then the test fails, so that a missing server cannot hide a failure.
package redistest
