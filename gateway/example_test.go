package gateway_test

import (
	"context"
	"fmt"

	_ "github.com/tether-go/tether/driver/local"
	"github.com/tether-go/tether/gateway"
)

// Example exposes two local ports with the local driver, which needs no
// network, and reads what ${gateway:8090.public_url} would return.
func Example() {
	cfg, err := gateway.ParseConfig(map[string]any{
		"type": "local",
		"port": []any{8090, 8091},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	g, err := gateway.New(cfg, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer g.Close()

	ctx := context.Background()
	if err := g.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	e, err := g.Endpoint(ctx, 8090)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(e.PublicURL, e.PublicAddress, e.Port)

	_, err = g.Endpoint(ctx, 9000)
	fmt.Println(err)
	// Output:
	// http://127.0.0.1:8090 127.0.0.1:8090 8090
	// gateway: no tunnel for port 9000 (gateway local serves ports [8090 8091])
}

// ExampleParsePort shows the port forms of a gateway.
func ExampleParsePort() {
	for _, in := range []any{8090, "9834:8090", "remote-server.com:9834:8090"} {
		m, err := gateway.ParsePort(in)
		fmt.Printf("host=%q remote=%d local=%d err=%v\n", m.RemoteHost, m.RemotePort, m.LocalPort, err)
	}
	// Output:
	// host="" remote=0 local=8090 err=<nil>
	// host="" remote=9834 local=8090 err=<nil>
	// host="remote-server.com" remote=9834 local=8090 err=<nil>
}
