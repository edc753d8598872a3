// Package driver defines the contract between tether's gateways and the
// tunnel services behind them, and the registry in which drivers are
// found by name.
//
// Users of tunnels hold a [github.com/tether-go/tether/gateway.Gateway];
// this package is for writing drivers. The built-in drivers live in the
// subpackages ssh, ngrok, cloudflare, local and static, and register
// themselves when imported:
//
//	import _ "github.com/tether-go/tether/driver/ssh"
//
// # The contract
//
// A [Driver] opens a [Session] with its settings. A session opens one
// [Tunnel] per local port through [Session.Forward]. A tunnel reports
// its public [Endpoint], notifies watchers when it changes (an SSH
// reconnect, a restarted cloudflared) and closes. Sessions that can hand
// the host program a [net.Listener] on the public side implement
// [Listening].
//
// A driver must:
//
//   - register itself in an init function under an exported Name
//     constant, and accept nil options in its constructor;
//   - reject unknown and invalid settings with errors that wrap
//     [ErrInvalidConfig], before any network traffic ([Settings] does
//     the bookkeeping);
//   - wrap [ErrAuth] for rejected credentials, so that they are not
//     retried;
//   - never put a secret (password, token, key) in an error or a log
//     record;
//   - stop every goroutine and process it started when Close returns.
//
// The driver/drivertest package checks these rules; every driver should
// pass it.
//
// # Registries
//
// [Register] and [Open] use the default [Registry], in the manner of
// database/sql. Registering a name twice panics, and looking up an
// unknown name returns an error that wraps [ErrUnknownDriver] and lists
// the known names. Tests and programs that avoid global state build
// their own registry with [NewRegistry].
//
// # A custom driver
//
// A driver that only announces a fixed URL, for example one set up by a
// load balancer, fits in a few lines:
//
//	type fixed struct{}
//
//	func (fixed) Open(ctx context.Context, cfg driver.Config) (driver.Session, error) {
//		s := driver.NewSettings(cfg.Settings)
//		base := s.String("base_url", "")
//		if err := s.Err(); err != nil {
//			return nil, err
//		}
//		return &session{base: base}, nil
//	}
//
//	func init() { driver.Register("fixed", fixed{}) }
//
// The package example shows the whole driver with its session and
// tunnel types.
package driver
