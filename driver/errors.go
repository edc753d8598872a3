package driver

import (
	"errors"
	"fmt"
)

// Sentinel errors, usable with errors.Is. Drivers wrap them so that
// callers can classify a failure without matching text.
var (
	// ErrUnknownDriver is wrapped by [Registry.Lookup] and
	// [Registry.Open] for a name that no driver was registered under.
	ErrUnknownDriver = errors.New("driver: unknown driver")
	// ErrInvalidConfig is wrapped by every error about a setting that is
	// missing, unknown or of the wrong type or value.
	ErrInvalidConfig = errors.New("driver: invalid configuration")
	// ErrAuth is wrapped by errors for rejected credentials. A gateway
	// never retries them.
	ErrAuth = errors.New("driver: authentication failed")
	// ErrClosed is returned by operations on a closed session, tunnel or
	// listener, including a second Close.
	ErrClosed = errors.New("driver: closed")
	// ErrNotSupported is wrapped when a driver lacks an optional
	// capability, such as [Listening].
	ErrNotSupported = errors.New("driver: not supported")
)

// ConfigError reports one invalid setting. It wraps [ErrInvalidConfig].
type ConfigError struct {
	// Field is the dotted path of the setting, such as
	// "connection.auth.keyfile".
	Field string
	// Value is the rejected value as text, or "" when the setting is
	// missing or secret. Secret values are never stored here.
	Value string
	// Reason describes what is wrong and, where possible, what to do.
	Reason string
}

// Error returns a message naming the field, the value and the reason.
func (e *ConfigError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("invalid setting %q: %s", e.Field, e.Reason)
	}
	return fmt.Sprintf("invalid setting %q = %q: %s", e.Field, e.Value, e.Reason)
}

// Is reports whether target is [ErrInvalidConfig].
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }
