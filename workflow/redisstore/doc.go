// Package redisstore is a [workflow.SharedStore] on Redis, so that the
// workflow engines of several replicas share their runs: a run started on
// one replica can be read, listed, waited for and cancelled on any other.
//
//	store, err := redisstore.Open(ctx, "redis://127.0.0.1:6379/0", &redisstore.Options{KeyPrefix: "shop:"})
//	if err != nil {
//		return err // names the address when Redis cannot be reached
//	}
//	defer store.Close()
//	engine := workflow.New(&workflow.Options{Store: store, Waiter: redisWaiter})
//
// [New] takes a go-redis client that the program already has, and leaves
// closing it to the program. Use it with the Redis waiter of package
// waiter/redis, so that callbacks received by any replica also reach the
// engine that waits for them.
//
// # Records
//
// Save writes the run as JSON and adds its id to a sorted set ordered by
// creation time, in one MULTI transaction. Records of runs in progress
// never expire. The record of an ended run expires Options.Retention (24
// hours by default) after its end state is saved; List and a periodic
// pass every 1024 saves of ended runs remove the ids of expired records
// from the sorted set. Records are decoded with JSON numbers kept as
// [encoding/json.Number], so integers above 2^53 keep every digit.
//
// # Cancel and end events
//
// Every Store subscribes to one pub/sub channel. RequestCancel stores a
// cancel marker and publishes "cancel:ID"; the Store whose engine
// executes the run calls the engine's cancel function. Save of an end
// state publishes "end:ID", which wakes [workflow.Engine.Wait] on every
// replica without polling. Events published while a Store's connection
// is down are lost to it, so when go-redis has reconnected the
// subscription, the Store wakes every waiting Wait to read the record
// again and applies the cancel markers of its own runs. Durability across a Redis restart is what Redis's own persistence
// gives (appendonly yes keeps all but the last second of writes when the
// server crashes).
//
// # Keys
//
// With the default prefix "tether:": tether:run:ID (the record),
// tether:runs (the sorted set of ids), tether:cancel:ID (a cancel
// request, TTL Retention) and the channel tether:run-events. None of them
// collides with the keys of the Redis waiter, so both can use the same
// prefix.
package redisstore
