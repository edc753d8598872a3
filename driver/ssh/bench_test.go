package ssh_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tether-go/tether/driver"
	sshdriver "github.com/tether-go/tether/driver/ssh"
	"github.com/tether-go/tether/internal/sshdtest"
)

// benchTunnel opens a tunnel through a loopback sshd to a local HTTP
// server that returns size bytes, and returns the public URL.
func benchTunnel(b *testing.B, size int) string {
	s := sshdtest.Start(b, nil)
	payload := bytes.Repeat([]byte("x"), size)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(payload)
	}))
	b.Cleanup(srv.Close)

	session, err := sshdriver.New(nil).Open(context.Background(), driver.Config{Settings: keySettings(s)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = session.Close() })
	tunnel, err := session.Forward(context.Background(), driver.Forward{
		LocalPort:  srv.Listener.Addr().(*net.TCPAddr).Port,
		RemoteHost: "127.0.0.1",
		RemotePort: sshdtest.FreePort(b),
	})
	if err != nil {
		b.Fatal(err)
	}
	return tunnel.Endpoint().PublicURL
}

func benchGet(b *testing.B, url string, size int) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	b.Cleanup(client.CloseIdleConnections)
	b.SetBytes(int64(size))
	b.ResetTimer()
	for b.Loop() {
		resp, err := client.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if err != nil || n != int64(size) {
			b.Fatalf("read %d of %d bytes: %v", n, size, err)
		}
	}
}

// BenchmarkTunnelRequestSmall measures one HTTP request with a 100-byte
// response through the tunnel, on a reused connection.
func BenchmarkTunnelRequestSmall(b *testing.B) {
	benchGet(b, benchTunnel(b, 100), 100)
}

// BenchmarkTunnelRequest1MiB measures throughput with 1 MiB responses.
func BenchmarkTunnelRequest1MiB(b *testing.B) {
	benchGet(b, benchTunnel(b, 1<<20), 1<<20)
}
