package ngrok

import (
	"errors"
	"fmt"
	"strings"

	"golang.ngrok.com/ngrok/v2"

	"github.com/tether-go/tether/driver"
)

// ErrSessionLimit is wrapped when ngrok refuses a session because the
// account has as many agent sessions as its plan allows
// (ERR_NGROK_108).
var ErrSessionLimit = errors.New("ngrok: agent session limit reached")

// Error is an error from the ngrok service, with its code. Message has
// the authtoken removed.
type Error struct {
	// Code is ngrok's error code, such as "ERR_NGROK_107".
	Code string
	// Message is ngrok's message, without the code.
	Message string
	// Hint describes what to do, for the codes in knownCodes.
	Hint string
	kind error
}

// Error returns the code, the message and the hint.
func (e *Error) Error() string {
	msg := fmt.Sprintf("ngrok error %s: %s", e.Code, e.Message)
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// Unwrap returns the class of the error: [driver.ErrAuth],
// [ErrSessionLimit], [driver.ErrInvalidConfig] or nil.
func (e *Error) Unwrap() error { return e.kind }

// knownCodes maps ngrok error codes (https://ngrok.com/docs/errors) to a
// class and a hint.
var knownCodes = map[string]struct {
	kind error
	hint string
}{
	"ERR_NGROK_105":  {driver.ErrAuth, "the authtoken is malformed; copy it again from the ngrok dashboard"},
	"ERR_NGROK_106":  {driver.ErrAuth, "the authtoken is an old ngrok v1 token; get a current one from the ngrok dashboard"},
	"ERR_NGROK_107":  {driver.ErrAuth, "the authtoken is invalid or was reset; copy the current one from the ngrok dashboard"},
	"ERR_NGROK_4018": {driver.ErrAuth, "ngrok needs a verified account and its authtoken; set authtoken or NGROK_AUTHTOKEN"},
	"ERR_NGROK_108":  {ErrSessionLimit, "stop the other ngrok agents of this account, or raise the plan's session limit"},
	"ERR_NGROK_9037": {driver.ErrInvalidConfig, "the url or domain setting is not a valid ngrok URL"},
}

// mapError turns an error of the ngrok SDK into one that names its code
// and what to do, and removes the authtoken from its text.
func mapError(err error, token string) error {
	if err == nil {
		return nil
	}
	var coded ngrok.Error
	if errors.As(err, &coded) && coded.Code() != "" {
		e := &Error{Code: coded.Code(), Message: redact(messageWithoutCode(coded.Error(), coded.Code()), token)}
		if known, ok := knownCodes[coded.Code()]; ok {
			e.kind, e.Hint = known.kind, known.hint
		}
		return e
	}
	text := redact(err.Error(), token)
	if strings.Contains(text, "authentication failed") {
		return fmt.Errorf("%w: %s; check authtoken or NGROK_AUTHTOKEN", driver.ErrAuth, text)
	}
	if text != err.Error() {
		return &redactedError{text: text, cause: err}
	}
	return err
}

// redactedError is an error whose text had the authtoken removed. It
// matches the sentinels of its cause with errors.Is but does not unwrap
// to it, because the cause's text holds the token.
type redactedError struct {
	text  string
	cause error
}

func (e *redactedError) Error() string { return e.text }

func (e *redactedError) Is(target error) bool { return errors.Is(e.cause, target) }

func messageWithoutCode(msg, code string) string {
	var lines []string
	for _, line := range strings.Split(msg, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && line != code {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, " ")
}

func redact(text, token string) string {
	if token == "" {
		return text
	}
	return strings.ReplaceAll(text, token, "[REDACTED]")
}
