// Package ssh implements the "ssh" tunnel driver (gateway type
// "ssh-tunnel"): remote port forwarding over SSH, as "ssh -R" does, with
// golang.org/x/crypto/ssh.
//
// Settings:
//
//	connection:
//	  host: remote-server.com        # required
//	  port: 22
//	  auth:
//	    type: keyfile                # or password
//	    username: user               # default: the current user
//	    keyfile: ~/.ssh/id_rsa       # type keyfile; "~" is expanded
//	    private_key: ...             # type keyfile: the key itself, instead of keyfile
//	    passphrase: ...              # type keyfile: for an encrypted key
//	    password: ${env.SSH_PASSWORD} # type password
//	known_hosts: ~/.ssh/known_hosts  # a path or a list of paths
//	insecure_ignore_host_key: false  # true turns host key checking off, with a warning
//	public_host: ""                  # host for public_address; default connection.host
//	keepalive_interval: 15s          # numbers are milliseconds; 0 turns keepalives off
//	keepalive_count: 3               # a connection is dead after interval × count without a reply
//	retry_interval: 2s               # first delay between reconnect attempts, doubled each time
//	max_retry_interval: 30s          # longest delay between attempts
//	max_retry_count: 0               # attempts per outage; 0 retries forever
//	connect_timeout: 15s             # TCP connect plus SSH handshake
//
// Host keys are checked against known_hosts, which may hold hashed
// entries and "[host]:port" entries, and the key types it lists for the
// server are offered first.
//
// Each port opens one remote forward on the server. "9834:8090" binds
// port 9834 on the server and leads it to local port 8090; a bare 8090
// binds port 8090. Without a remote host the forward binds all of the
// server's addresses, which OpenSSH allows only with "GatewayPorts yes"
// or "GatewayPorts clientspecified" (otherwise it binds loopback only).
// The public address is connection.host (or public_host) with the remote
// port, and the public URL is "http://" plus the public address.
//
// One SSH connection carries all forwards. A keepalive is sent every
// keepalive_interval. When no reply has come for keepalive_interval ×
// keepalive_count, or when the connection drops, the driver reconnects
// with backoff and binds the forwards again, keeping the public address. Rejected credentials and
// host keys are not retried. A forward that the server denies is
// reported with the most likely reason, found by probing the port
// through the connection, because the SSH protocol gives none.
//
// Sessions implement [driver.Listening], so a host program can serve
// its own handler on the remote port.
package ssh
