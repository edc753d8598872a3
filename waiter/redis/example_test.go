package redis_test

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tether-go/tether/waiter"
	redisw "github.com/tether-go/tether/waiter/redis"
)

// This example needs a Redis server, so it is compiled but not run.
func ExampleOpen() {
	ctx := context.Background()
	w, err := redisw.Open(ctx, "redis://127.0.0.1:6379/0", &redisw.Options{
		KeyPrefix: "shop:",
		Retention: 30 * time.Minute,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Close()

	p, err := w.Expect(ctx, "task-123")
	if err != nil {
		fmt.Println(err)
		return
	}
	// Send the request here. Any replica may receive the callback and
	// call Deliver.
	o, err := p.Wait(ctx)
	fmt.Println(o.Result, err)
}

// This example needs a Redis server, so it is compiled but not run.
func ExampleNew() {
	client := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	defer client.Close()
	w, err := redisw.New(client, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Close()

	d, err := w.Deliver(context.Background(), "task-123", waiter.Outcome{Result: "done"})
	fmt.Println(d, err)
}
