package ssh_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tether-go/tether/driver"
	sshdriver "github.com/tether-go/tether/driver/ssh"
)

// Example opens remote port 9834 on an SSH server and leads it to local
// port 8090, as "ssh -R 9834:127.0.0.1:8090 user@remote-server.com"
// does. It is compiled but not run, because it needs a real server.
func Example() {
	settings := map[string]any{
		"connection": map[string]any{
			"host": "remote-server.com",
			"port": 22,
			"auth": map[string]any{"type": "keyfile", "username": "user", "keyfile": "~/.ssh/id_rsa"},
		},
		"keepalive_interval": "15s",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	session, err := sshdriver.New(nil).Open(ctx, driver.Config{Settings: settings})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer session.Close()

	tunnel, err := session.Forward(ctx, driver.Forward{LocalPort: 8090, RemotePort: 9834})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tunnel.Endpoint().PublicAddress) // remote-server.com:9834
}
