package expr

// This file fixes the exported API of package expr. The bodies are
// placeholders until the evaluator lands; other packages compile against
// these signatures.

import "errors"

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

// Value is the value of one source, such as the body of a request. It is
// either a raw JSON document, looked up with gjson without decoding it
// whole, or a Go value.
type Value struct {
	raw  []byte
	data any
	json bool
}

// JSON returns a Value backed by a raw JSON document. raw must stay
// unchanged while the Value is in use.
func JSON(raw []byte) Value { return Value{raw: raw, json: true} }

// Of returns a Value backed by a Go value: nil, bool, string, any integer
// or float type, json.Number, map[string]any, []any, http.Header and
// url.Values (looked up by key, case-insensitively for http.Header), or a
// [Fields].
func Of(v any) Value { return Value{data: v} }

// Fields is a source whose top-level keys are looked up one at a time,
// such as the process environment.
type Fields interface {
	// Field returns the value stored under name.
	Field(name string) (any, bool)
}

// Resolver looks sources up by name: "body", "query", "header", "item",
// "input", "response", "result", "output", "jobs", "env", "context", and
// "gateway:PORT". Implementations must be safe for concurrent use if the
// caller evaluates templates concurrently.
type Resolver interface {
	// Resolve returns the value of the named source, and false when the
	// source is absent.
	Resolve(source string) (Value, bool)
}

// ResolverFunc adapts a function to the [Resolver] interface.
type ResolverFunc func(source string) (Value, bool)

// Resolve calls f(source).
func (f ResolverFunc) Resolve(source string) (Value, bool) { return f(source) }

// Sources is a [Resolver] backed by a map from source name to value.
type Sources map[string]Value

// Resolve returns s[source].
func (s Sources) Resolve(source string) (Value, bool) {
	v, ok := s[source]
	return v, ok
}

// Template is a compiled template: a string with ${...} expressions, or a
// map or list whose string leaves are such strings. A Template is
// immutable and safe for concurrent use.
type Template struct {
	text string
}

// Compile parses a template string.
func Compile(text string) (*Template, error) { panic("expr: not implemented") }

// CompileValue compiles a value decoded from YAML or JSON: a string, a
// map[string]any, a []any or a scalar. Every string leaf is a template.
func CompileValue(v any) (*Template, error) { panic("expr: not implemented") }

// MustCompile is like [Compile] but panics on error. It is meant for
// templates fixed in Go source.
func MustCompile(text string) *Template { panic("expr: not implemented") }

// Eval evaluates the template against r. A template that is exactly one
// expression keeps the value's type; text with several parts renders to a
// string. A missing value without a default evaluates to nil.
func (t *Template) Eval(r Resolver) (any, error) { panic("expr: not implemented") }

// EvalString evaluates the template and renders the result as text, in
// the form that [Stringify] gives.
func (t *Template) EvalString(r Resolver) (string, error) { panic("expr: not implemented") }

// Sources returns the distinct source names the template refers to, such
// as "body" or "gateway:8090", in order of first appearance.
func (t *Template) Sources() []string { panic("expr: not implemented") }

// Static reports whether the template contains no expression, so that
// Eval always returns the same value.
func (t *Template) Static() bool { panic("expr: not implemented") }

// String returns the template's source text (for a map or list, its JSON
// form).
func (t *Template) String() string { return t.text }

// Stringify renders a value as text: strings as they are, numbers in
// decimal without loss, nil as the empty string, and objects and arrays
// as compact JSON.
func Stringify(v any) string { panic("expr: not implemented") }
