package workflow

import (
	"errors"
	"fmt"
)

// Sentinel errors, usable with errors.Is.
var (
	// ErrInvalidWorkflow is wrapped by every error that AddWorkflow,
	// AddComponent and AddHTTPClient return for a bad definition. The
	// message names the workflow or component and the field, such as
	// `workflow "x": jobs[1].depends_on: unknown job "y"`.
	ErrInvalidWorkflow = errors.New("invalid workflow")
	// ErrUnknownWorkflow is returned by Start and Run for a workflow id
	// that was never added.
	ErrUnknownWorkflow = errors.New("unknown workflow")
	// ErrUnknownRun is returned by Get, Wait and Cancel, and by
	// Store.Get, for a run id that is not stored.
	ErrUnknownRun = errors.New("unknown run")
	// ErrTimeout is wrapped by the error of a job whose callback or
	// polling did not complete within its timeout, and of an HTTP request
	// that exceeded its timeout.
	ErrTimeout = errors.New("timed out")
	// ErrCancelled is wrapped by the error of a run that was cancelled by
	// Cancel, by Shutdown or Close, or because the context given to Run
	// ended.
	ErrCancelled = errors.New("run cancelled")
	// ErrClosed is returned by Start and Run after Shutdown or Close has
	// begun, and by a second Close.
	ErrClosed = errors.New("workflow engine closed")
	// ErrHTTP is matched by every *HTTPError, also by the error that Get
	// and Wait rebuild from a stored run record.
	ErrHTTP = errors.New("unexpected HTTP status")
)

// HTTPError reports an http-client request that got a response with a
// status outside 200–299.
type HTTPError struct {
	// Method is the request's method.
	Method string
	// URL is the request's URL without query and user information, which
	// may carry secrets.
	URL string
	// StatusCode is the response's status code.
	StatusCode int
	// Body is the start of the response body, at most 256 bytes.
	Body string
}

func (e *HTTPError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("%s %s: unexpected status %d", e.Method, e.URL, e.StatusCode)
	}
	return fmt.Sprintf("%s %s: unexpected status %d: %s", e.Method, e.URL, e.StatusCode, e.Body)
}

// Is reports whether target is ErrHTTP.
func (e *HTTPError) Is(target error) bool { return target == ErrHTTP }

// invalidError is a load-time error: its message names the workflow or
// component and the field, and it wraps ErrInvalidWorkflow and, when
// there is one, the cause (such as an expr compile error).
type invalidError struct {
	msg   string
	cause error
}

func (e *invalidError) Error() string { return e.msg }

func (e *invalidError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrInvalidWorkflow}
	}
	return []error{ErrInvalidWorkflow, e.cause}
}

// invalidf returns an error that wraps ErrInvalidWorkflow. A %w verb in
// format also records its operand as the cause.
func invalidf(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &invalidError{msg: err.Error(), cause: errors.Unwrap(err)}
}
