// Package redis is a [waiter.Waiter] shared by several replicas through
// Redis, so that a callback received by any replica wakes the job that
// waits for it on another one.
//
//	w, err := redis.Open(ctx, "redis://127.0.0.1:6379/0", &redis.Options{KeyPrefix: "shop:"})
//	if err != nil {
//		return err // names the address when Redis cannot be reached
//	}
//	defer w.Close()
//
// [New] takes a go-redis client that the program already has, and leaves
// closing it to the program.
//
// # How an outcome travels
//
// Expect stores a registration key holding a token unique to the Pending.
// Deliver runs a Lua script that checks the duplicate marker, writes the
// outcome and the marker and, when the id is registered, publishes the id
// on one pub/sub channel. Every replica subscribes to that channel. The
// replica that holds the registration reads the outcome with another
// script, which returns it only to the token's holder. The outcome is
// deleted when that wait finishes. A Deliver on one replica therefore
// wakes a Wait on another within a few round trips, without polling.
//
// Each check and the change it guards run in one script, so two replicas
// never both accept an outcome, and never both register an id while the
// first registration's lease is renewed.
//
// # Failures
//
// The outcome is in Redis before Deliver returns. When the waiting replica
// crashes, its registration ends with its lease (Options.Lease, 15 seconds
// by default), and a new Expect for the id, on any replica, receives the
// outcome. Every replica renews its registrations every Lease/3 and reads
// outcomes whose notification it missed in the same pass. After go-redis
// has reconnected the subscription, the replica runs that pass at once,
// so waits survive a lost connection or a Redis restart. Durability
// across a Redis restart is what Redis's own persistence gives: with
// appendonly yes and the default appendfsync everysec, a crash of the
// Redis server can lose up to the last second of writes, and a clean
// shutdown loses none.
//
// # Keys
//
// For an id, with the default prefix "tether:": tether:out:ID (outcome,
// JSON, TTL Retention), tether:dup:ID (duplicate marker, TTL
// DuplicateRetention) and tether:reg:ID (registration, TTL Lease). The
// sorted set tether:stored counts outcomes that arrived before any Expect,
// for MaxStored, and the channel tether:delivered carries the ids.
// Outcomes are decoded with JSON numbers kept as [encoding/json.Number],
// so integers above 2^53 keep every digit.
package redis
