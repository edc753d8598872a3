package expr

import (
	"encoding/json"
	"unsafe"
)

// Value is the value of one source, such as the body of a request. It is
// either a raw JSON document, looked up with gjson without decoding it
// whole, or a Go value.
//
// The zero Value is a Go nil: every path in it is missing.
type Value struct {
	raw  []byte
	data any
	json bool
	err  error
}

// JSON returns a Value backed by a raw JSON document. raw must stay
// unchanged while the Value is in use. Strings taken from it are copied,
// so evaluation results stay valid after raw is reused.
//
// JSON does not validate raw. Lookups in malformed JSON return whatever
// gjson finds or nothing, without an error, so check the document with
// [encoding/json.Valid] first when it comes from a client.
func JSON(raw []byte) Value { return Value{raw: raw, json: true} }

// Of returns a Value backed by a Go value: nil, bool, string, any integer
// or float type, json.Number, map[string]any, []any, http.Header and
// url.Values (looked up by key, case-insensitively for http.Header), or a
// [Fields]. Other maps with string keys and other slices are looked up
// through reflection. A [Value] inside the value is looked into as well,
// and a json.RawMessage (also when given to Of itself) is read like
// [JSON]. Other types, such as structs, are opaque: they can be a whole
// value, but a path into them is missing, so implement [Fields] to expose
// their fields. Decode JSON with [encoding/json.Decoder.UseNumber], or
// pass it to [JSON], so that integers beyond 2^53 keep every digit.
func Of(v any) Value {
	switch v := v.(type) {
	case Value:
		return v
	case json.RawMessage:
		return JSON(v)
	}
	return Value{data: v}
}

// Failed returns a Value for a source that exists but cannot be read
// now, such as a gateway whose tunnel failed to open. Every expression
// that reads it fails with an [EvalError] that wraps err, and a default
// does not replace it.
func Failed(err error) Value { return Value{err: err} }

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
// It is safe for concurrent use as long as the map is not modified.
type Sources map[string]Value

// Resolve returns s[source].
func (s Sources) Resolve(source string) (Value, bool) {
	v, ok := s[source]
	return v, ok
}

var (
	_ Resolver = Sources(nil)
	_ Resolver = ResolverFunc(nil)
)

// rawString returns b as a string without copying. The caller must not
// keep the string, or substrings of it, past the lifetime of b.
func rawString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
