// Command ssh-tunnel exposes a local HTTP server through an SSH reverse
// tunnel: a request to SSH_TUNNEL_HOST:SSH_REMOTE_PORT reaches the local
// server on LOCAL_PORT.
//
// It reads its settings from environment variables:
//
//	SSH_TUNNEL_HOST   the SSH server (required)
//	SSH_TUNNEL_PORT   its port (default 22)
//	SSH_USERNAME      the login (default: the current user)
//	SSH_KEYFILE       private key for keyfile login (default ~/.ssh/id_rsa)
//	SSH_PASSWORD      password; when set, password login is used instead of the key
//	SSH_KNOWN_HOSTS   known_hosts file (default ~/.ssh/known_hosts)
//	SSH_REMOTE_PORT   port to bind on the server (default 9834)
//	SSH_REMOTE_BIND   address to bind it on (default: all of the server's addresses)
//	LOCAL_PORT        port of the local HTTP server (default 8090)
//
// Run it with
//
//	SSH_TUNNEL_HOST=remote-server.com SSH_USERNAME=me go run ./examples/ssh-tunnel
//
// and stop it with Ctrl-C. tether.yaml beside this file is the same
// setup for "tether up".
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	_ "github.com/tether-go/tether/driver/ssh"
	"github.com/tether-go/tether/gateway"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ssh-tunnel:", err)
		os.Exit(1)
	}
}

// run starts the local server and the tunnel, prints the public address
// and waits until ctx ends.
func run(ctx context.Context, getenv func(string) string, out io.Writer) error {
	host := getenv("SSH_TUNNEL_HOST")
	if host == "" {
		return errors.New("SSH_TUNNEL_HOST is not set; set it to the SSH server that should carry the tunnel")
	}
	localPort, err := portFromEnv(getenv, "LOCAL_PORT", 8090)
	if err != nil {
		return err
	}
	remotePort, err := portFromEnv(getenv, "SSH_REMOTE_PORT", 9834)
	if err != nil {
		return err
	}
	sshPort, err := portFromEnv(getenv, "SSH_TUNNEL_PORT", 22)
	if err != nil {
		return err
	}

	// The local service: a plain HTTP server on loopback.
	listener, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(localPort)))
	if err != nil {
		return fmt.Errorf("listen on local port %d: %w", localPort, err)
	}
	server := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "hello from tether through %s\n", host)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = server.Serve(listener) }()
	defer server.Close()

	auth := map[string]any{"type": "keyfile", "keyfile": orDefault(getenv("SSH_KEYFILE"), "~/.ssh/id_rsa")}
	if password := getenv("SSH_PASSWORD"); password != "" {
		auth = map[string]any{"type": "password", "password": password}
	}
	if user := getenv("SSH_USERNAME"); user != "" {
		auth["username"] = user
	}
	settings := map[string]any{
		"connection": map[string]any{"host": host, "port": sshPort, "auth": auth},
	}
	if file := getenv("SSH_KNOWN_HOSTS"); file != "" {
		settings["known_hosts"] = file
	}

	cfg := gateway.Config{
		Type:     gateway.TypeSSHTunnel,
		Ports:    []gateway.PortMapping{{RemoteHost: getenv("SSH_REMOTE_BIND"), RemotePort: remotePort, LocalPort: localPort}},
		Settings: settings,
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	g, err := gateway.New(cfg, &gateway.Options{Logger: logger})
	if err != nil {
		return err
	}
	defer g.Close()
	if err := g.Start(ctx); err != nil {
		return err
	}

	readyCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	endpoint, err := g.Endpoint(readyCtx, localPort)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "public address: %s\npublic URL: %s\n", endpoint.PublicAddress, endpoint.PublicURL)

	<-ctx.Done()
	shutdownCtx, cancelShutdown := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelShutdown()
	return g.Shutdown(shutdownCtx)
}

func portFromEnv(getenv func(string) string, name string, def int) (int, error) {
	text := getenv(name)
	if text == "" {
		return def, nil
	}
	port, err := strconv.Atoi(text)
	if err != nil || port < 1 || port > 65535 {
		return 0, fmt.Errorf("%s=%q is not a port from 1 to 65535", name, text)
	}
	return port, nil
}

func orDefault(value, def string) string {
	if value == "" {
		return def
	}
	return value
}
