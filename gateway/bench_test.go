package gateway_test

import (
	"testing"

	"github.com/tether-go/tether/gateway"
)

func BenchmarkParsePort(b *testing.B) {
	for _, in := range []any{8090, "9834:8090", "remote-server.com:9834:8090"} {
		b.Run(typeName(in), func(b *testing.B) {
			for b.Loop() {
				if _, err := gateway.ParsePort(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func typeName(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return "int"
}
