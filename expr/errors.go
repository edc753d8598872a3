package expr

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors, usable with errors.Is.
var (
	// ErrSyntax is wrapped by every compile error caused by malformed
	// template text (unterminated "${", bad operator, bad type name).
	ErrSyntax = errors.New("expr: syntax error")
	// ErrUnknownSource is wrapped by compile errors for a source name
	// that is not part of the language, such as ${bdy.x}.
	ErrUnknownSource = errors.New("expr: unknown source")
	// ErrEval is wrapped by every evaluation error (division by zero,
	// arithmetic on a non-number, a failed type conversion).
	ErrEval = errors.New("expr: evaluation failed")
)

// CompileError describes template text that does not compile. It wraps
// [ErrSyntax] or [ErrUnknownSource], and its message has the form
//
//	expr: "<template>": position N: <problem>
//
// with ` in field "<path>"` after the template when the text is a leaf
// of a value given to [CompileValue].
type CompileError struct {
	// Template is the template text that failed to compile.
	Template string
	// Field is the path of the leaf inside a value given to
	// CompileValue, such as "result.url" or "items[2]", or "".
	Field string
	// Pos is the 0-based byte offset in Template where the problem is.
	Pos int
	// Problem describes the mistake and how to fix it.
	Problem string
	// Kind is ErrSyntax or ErrUnknownSource.
	Kind error
}

// Error returns the message described on [CompileError].
func (e *CompileError) Error() string {
	var b strings.Builder
	b.WriteString("expr: ")
	b.WriteString(strconv.Quote(e.Template))
	if e.Field != "" {
		b.WriteString(" in field ")
		b.WriteString(strconv.Quote(e.Field))
	}
	b.WriteString(": position ")
	b.WriteString(strconv.Itoa(e.Pos))
	b.WriteString(": ")
	b.WriteString(e.Problem)
	return b.String()
}

// Unwrap returns Kind, so that errors.Is matches ErrSyntax or
// ErrUnknownSource.
func (e *CompileError) Unwrap() error { return e.Kind }

// EvalError describes an expression that failed during evaluation. It
// wraps [ErrEval] and, when there is one, the underlying cause (such as a
// JSON or base64 error). Its message has the form
//
//	expr: evaluate "${body.a / body.b}": division by zero: body.b is 0
//
// with ` in field "<path>"` after the expression when it is a leaf of a
// value given to [CompileValue].
type EvalError struct {
	// Expr is the text of the failing expression, from "${" to "}".
	Expr string
	// Field is the path of the leaf inside a compiled value, or "".
	Field string
	// Problem describes the failure and how to fix it.
	Problem string
	// Err is the underlying cause, or nil.
	Err error
}

// Error returns the message described on [EvalError].
func (e *EvalError) Error() string {
	var b strings.Builder
	b.WriteString("expr: evaluate ")
	b.WriteString(strconv.Quote(e.Expr))
	if e.Field != "" {
		b.WriteString(" in field ")
		b.WriteString(strconv.Quote(e.Field))
	}
	b.WriteString(": ")
	b.WriteString(e.Problem)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns ErrEval and, when set, Err.
func (e *EvalError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrEval}
	}
	return []error{ErrEval, e.Err}
}

// withField records that err happened in the leaf at field, prefixing
// any field path the error already carries. Errors of other types are
// returned unchanged.
func withField(err error, field string) error {
	var ce *CompileError
	if errors.As(err, &ce) {
		ce.Field = joinField(field, ce.Field)
		return err
	}
	var ee *EvalError
	if errors.As(err, &ee) {
		ee.Field = joinField(field, ee.Field)
	}
	return err
}

// joinField joins a parent field path and a child path: "a" and "b"
// give "a.b", and "a" and "[0]" give "a[0]".
func joinField(parent, child string) string {
	switch {
	case child == "":
		return parent
	case parent == "":
		return child
	case child[0] == '[':
		return parent + child
	}
	return parent + "." + child
}

var (
	_ error = (*CompileError)(nil)
	_ error = (*EvalError)(nil)
)
