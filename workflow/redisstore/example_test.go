package redisstore_test

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tether-go/tether/waiter/redis"
	"github.com/tether-go/tether/workflow"
	"github.com/tether-go/tether/workflow/redisstore"
)

// This example needs a Redis server, so it is compiled but not run.
func ExampleOpen() {
	ctx := context.Background()
	const url = "redis://127.0.0.1:6379/0"
	store, err := redisstore.Open(ctx, url, &redisstore.Options{KeyPrefix: "shop:", Retention: time.Hour})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	w, err := redis.Open(ctx, url, &redis.Options{KeyPrefix: "shop:"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Close()

	engine := workflow.New(&workflow.Options{Store: store, Waiter: w})
	defer engine.Close()
	// Cancel works for a run that any replica executes.
	fmt.Println(engine.Cancel(ctx, "RUN-ID-FROM-ANOTHER-REPLICA"))
}

// This example needs a Redis server, so it is compiled but not run.
func ExampleNew() {
	client := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	defer client.Close()
	store, err := redisstore.New(client, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()

	runs, err := store.List(context.Background(), workflow.Query{State: workflow.StateProcessing, Limit: 10})
	fmt.Println(len(runs), err)
}
