package cloudflare

import "testing"

func BenchmarkURLFromLine(b *testing.B) {
	lines := map[string]string{
		"box":   "2024-05-01T10:00:00Z INF |  https://word-word-word-word.trycloudflare.com                        |",
		"other": "2024-05-01T10:00:00Z INF Registered tunnel connection connIndex=0 connection=x location=ams01 protocol=quic",
		"error": "2024-05-01T10:00:00Z ERR failed to request quick Tunnel: Post \"https://api.trycloudflare.com/tunnel\"",
	}
	for name, line := range lines {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				urlFromLine(line)
			}
		})
	}
}
