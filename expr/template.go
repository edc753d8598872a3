package expr

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
)

// Template is a compiled template: a string with ${...} expressions, or a
// map or list whose string leaves are such strings. A Template is
// immutable and safe for concurrent use. The zero Template is the empty
// text.
type Template struct {
	text    string
	root    node
	sources []string
	dynamic bool
}

// emptyText is the root of the zero Template.
var emptyText = newConst("")

func (t *Template) node() node {
	if t.root == nil {
		return emptyText
	}
	return t.root
}

// Compile parses a template string. Errors are [*CompileError]s that
// wrap [ErrSyntax] or [ErrUnknownSource].
func Compile(text string) (*Template, error) {
	p := newParser(text)
	root, err := p.parseTemplate()
	if err != nil {
		return nil, err
	}
	return &Template{text: text, root: root, sources: p.sources, dynamic: p.hasExpr}, nil
}

// CompileValue compiles a value decoded from YAML or JSON: a string, a
// map[string]any, a []any or a scalar. Every string leaf is a template.
// Map keys are taken literally. Other maps with string keys (including
// map[any]any with string keys) and other slices are accepted too. Any
// other type is a compile error wrapping [ErrSyntax]. An error in a leaf
// names the leaf's field path.
func CompileValue(v any) (*Template, error) {
	c := &valueCompiler{seen: map[string]bool{}}
	root, err := c.compile(v, "")
	if err != nil {
		return nil, err
	}
	text, ok := v.(string)
	if !ok {
		text = Stringify(v)
	}
	return &Template{text: text, root: root, sources: c.sources, dynamic: c.hasExpr}, nil
}

// valueCompiler compiles the leaves of a value and merges their sources.
type valueCompiler struct {
	sources []string
	seen    map[string]bool
	hasExpr bool
}

func (c *valueCompiler) compile(v any, field string) (node, error) {
	switch x := v.(type) {
	case string:
		p := newParser(x)
		n, err := p.parseTemplate()
		if err != nil {
			return nil, withField(err, field)
		}
		for _, s := range p.sources {
			if !c.seen[s] {
				c.seen[s] = true
				c.sources = append(c.sources, s)
			}
		}
		c.hasExpr = c.hasExpr || p.hasExpr
		return n, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		return c.compileMap(keys, func(k string) any { return x[k] }, field)
	case []any:
		return c.compileList(len(x), func(i int) any { return x[i] }, field)
	case *Template:
		return nil, &CompileError{Template: x.text, Field: field, Problem: "a compiled *Template cannot be a leaf: pass its source value", Kind: ErrSyntax}
	}
	switch n := normalizeScalar(v).(type) {
	case nil, bool, int64, float64, json.Number:
		return newConst(n), nil
	}
	if n, ok, err := c.compileReflect(v, field); ok {
		return n, err
	}
	return nil, &CompileError{Template: fmt.Sprint(v), Field: field, Problem: fmt.Sprintf(
		"unsupported value of type %T: use a string, a map, a list, a number, a boolean or nil", v), Kind: ErrSyntax}
}

// compileReflect compiles maps with string keys and slices that are not
// map[string]any or []any. It reports false for other kinds.
func (c *valueCompiler) compileReflect(v any, field string) (node, bool, error) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		keys := make([]string, 0, rv.Len())
		values := make(map[string]any, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			k, ok := iter.Key().Interface().(string)
			if !ok {
				if iter.Key().Kind() != reflect.String {
					return nil, true, &CompileError{Template: Stringify(v), Field: field, Problem: fmt.Sprintf(
						"map key %v of type %T is not a string", iter.Key().Interface(), iter.Key().Interface()), Kind: ErrSyntax}
				}
				k = iter.Key().String()
			}
			keys = append(keys, k)
			values[k] = iter.Value().Interface()
		}
		n, err := c.compileMap(keys, func(k string) any { return values[k] }, field)
		return n, true, err
	case reflect.Slice, reflect.Array:
		if _, ok := v.([]byte); ok {
			return nil, false, nil
		}
		n, err := c.compileList(rv.Len(), func(i int) any { return rv.Index(i).Interface() }, field)
		return n, true, err
	}
	return nil, false, nil
}

// compileMap compiles the values of a map in sorted key order, so that
// Sources is deterministic.
func (c *valueCompiler) compileMap(keys []string, value func(string) any, field string) (node, error) {
	slices.Sort(keys)
	m := &mapNode{keys: keys, nodes: make([]node, len(keys))}
	for i, k := range keys {
		n, err := c.compile(value(k), joinField(field, k))
		if err != nil {
			return nil, err
		}
		m.nodes[i] = n
	}
	return m, nil
}

func (c *valueCompiler) compileList(n int, item func(int) any, field string) (node, error) {
	l := &listNode{nodes: make([]node, n)}
	for i := range n {
		child, err := c.compile(item(i), field+"["+strconv.Itoa(i)+"]")
		if err != nil {
			return nil, err
		}
		l.nodes[i] = child
	}
	return l, nil
}

// MustCompile is like [Compile] but panics on error. It is meant for
// templates fixed in Go source.
func MustCompile(text string) *Template {
	t, err := Compile(text)
	if err != nil {
		panic(err)
	}
	return t
}

// Eval evaluates the template against r. A template that is exactly one
// expression keeps the value's type; text with several parts renders to a
// string. A missing value without a default evaluates to nil.
//
// Numbers come out as int64 when integral and within range, as float64
// otherwise, and as json.Number for integers beyond int64, with every
// digit kept. Objects and arrays found in raw JSON come out as
// map[string]any and []any. Maps and slices found in Go sources are
// returned as they are, not copied. A map or list template gives a new
// map[string]any or []any on every call.
//
// Errors are [*EvalError]s that wrap [ErrEval]. Eval is safe for
// concurrent use if r is.
func (t *Template) Eval(r Resolver) (any, error) {
	v, err := t.node().eval(r)
	if err != nil {
		return nil, err
	}
	return v.toAny(), nil
}

// EvalString evaluates the template and renders the result as text, in
// the form that [Stringify] gives. It is safe for concurrent use if r
// is.
func (t *Template) EvalString(r Resolver) (string, error) {
	switch root := t.node().(type) {
	case *constNode:
		return root.text, nil
	case *textNode:
		return root.render(r)
	}
	v, err := t.node().eval(r)
	if err != nil {
		return "", err
	}
	return valString(v), nil
}

// Sources returns the distinct source names the template refers to, such
// as "body" or "gateway:8090", in order of first appearance. The leaves
// of a map are visited in sorted key order. The caller owns the returned
// slice.
func (t *Template) Sources() []string { return slices.Clone(t.sources) }

// Static reports whether the template contains no expression, so that
// Eval always returns the same value.
func (t *Template) Static() bool { return !t.dynamic }

// String returns the template's source text (for a map or list, its JSON
// form).
func (t *Template) String() string { return t.text }
