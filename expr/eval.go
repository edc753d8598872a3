package expr

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"unsafe"

	"github.com/tidwall/gjson"
)

// node is a compiled piece of a template.
type node interface {
	eval(r Resolver) (val, error)
}

// constNode is a value without expressions. boxed holds the normalized
// value, and text its rendering.
type constNode struct {
	boxed any
	text  string
}

func newConst(v any) *constNode {
	v = normalizeScalar(v)
	return &constNode{boxed: v, text: Stringify(v)}
}

func (c *constNode) eval(Resolver) (val, error) {
	switch c.boxed.(type) {
	case map[string]any, []any:
		// A default such as {"a": 1} must not be shared between calls,
		// because the caller may modify what Eval returns.
		return goVal(cloneComposite(c.boxed)), nil
	}
	return goVal(c.boxed), nil
}

// cloneComposite copies the maps and slices of a decoded JSON value.
func cloneComposite(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, item := range x {
			out[k] = cloneComposite(item)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			out[i] = cloneComposite(item)
		}
		return out
	}
	return v
}

// textNode is text with expressions, evaluated to a string.
type textNode struct {
	parts []textPart
	// size is the length of the literals plus a guess for each value,
	// used to size the output buffer.
	size int
}

func (t *textNode) eval(r Resolver) (val, error) {
	s, err := t.render(r)
	if err != nil {
		return val{}, err
	}
	return goVal(s), nil
}

func (t *textNode) render(r Resolver) (string, error) {
	buf := make([]byte, 0, t.size)
	for _, part := range t.parts {
		if part.expr == nil {
			buf = append(buf, part.literal...)
			continue
		}
		v, err := part.expr.eval(r)
		if err != nil {
			return "", err
		}
		// The value is written as it is and never scanned again, so a
		// "${" inside it stays literal text.
		buf = appendVal(buf, v)
	}
	if len(buf) == 0 {
		return "", nil
	}
	// buf is not used after this, so the string can share its memory.
	return unsafe.String(unsafe.SliceData(buf), len(buf)), nil
}

// mapNode is a map whose values are templates.
type mapNode struct {
	keys  []string
	nodes []node
}

func (m *mapNode) eval(r Resolver) (val, error) {
	out := make(map[string]any, len(m.keys))
	for i, key := range m.keys {
		v, err := m.nodes[i].eval(r)
		if err != nil {
			return val{}, withField(err, key)
		}
		out[key] = v.toAny()
	}
	return goVal(out), nil
}

// listNode is a list whose items are templates.
type listNode struct {
	nodes []node
}

func (l *listNode) eval(r Resolver) (val, error) {
	out := make([]any, len(l.nodes))
	for i, n := range l.nodes {
		v, err := n.eval(r)
		if err != nil {
			return val{}, withField(err, fmt.Sprintf("[%d]", i))
		}
		out[i] = v.toAny()
	}
	return goVal(out), nil
}

// expression is one "${...}": a value, an optional conversion and an
// optional default.
type expression struct {
	text  string
	value operand
	conv  *conversion
	def   node
}

func (e *expression) eval(r Resolver) (val, error) {
	v, err := e.value.eval(r)
	if err != nil {
		// Checked only on failure: errors.As makes its target escape to
		// the heap, which would cost an allocation on every call.
		var missing *missingOperand
		if !errors.As(err, &missing) || e.def == nil {
			return val{}, e.wrap(err)
		}
		v = val{}
	}
	if v.isNull() && e.def != nil {
		if v, err = e.def.eval(r); err != nil {
			return val{}, err
		}
	}
	if e.conv == nil || v.isNull() {
		return v, nil
	}
	v, err = e.conv.apply(v)
	if err != nil {
		return val{}, e.wrap(err)
	}
	return v, nil
}

// wrap turns an operand or conversion error into an EvalError naming e.
func (e *expression) wrap(err error) error {
	var problem *problemError
	if errors.As(err, &problem) {
		return &EvalError{Expr: e.text, Problem: problem.problem, Err: problem.cause}
	}
	return &EvalError{Expr: e.text, Problem: err.Error()}
}

// problemError is an evaluation problem before the expression that it
// happened in is known.
type problemError struct {
	problem string
	cause   error
}

func (p *problemError) Error() string { return p.problem }

func problemf(format string, args ...any) error {
	return &problemError{problem: fmt.Sprintf(format, args...)}
}

// missingOperand reports an arithmetic operand that is missing or null.
// A default on the expression replaces the whole result.
type missingOperand struct{ problemError }

// operand is a part of an expression that yields a value.
type operand interface {
	eval(r Resolver) (val, error)
}

// pathRef is a source name and a path, such as body.output.url.
type pathRef struct {
	source    string
	segs      []segment
	text      string
	foldFirst bool
}

func (p *pathRef) eval(r Resolver) (val, error) {
	src, ok := r.Resolve(p.source)
	if !ok {
		return val{}, nil
	}
	if src.err != nil {
		return val{}, &problemError{problem: "read " + p.source + ": " + src.err.Error(), cause: src.err}
	}
	return lookupValue(src, p.segs, p.foldFirst), nil
}

// numberLit is a number written in the expression.
type numberLit struct {
	n    number
	text string
}

func (l *numberLit) eval(Resolver) (val, error) { return goVal(l.n.value()), nil }

// negOp is a unary minus.
type negOp struct {
	x    operand
	text string
}

func (n *negOp) eval(r Resolver) (val, error) {
	x, err := operandNumber(r, n.x)
	if err != nil {
		return val{}, err
	}
	if x.isInt && x.i != math.MinInt64 {
		return goVal(-x.i), nil
	}
	return goVal(normalizeFloat(-x.f)), nil
}

// binaryOp is one of + - * / % between two operands.
type binaryOp struct {
	op          byte
	left, right operand
	text        string
}

func (b *binaryOp) eval(r Resolver) (val, error) {
	x, err := operandNumber(r, b.left)
	if err != nil {
		return val{}, err
	}
	y, err := operandNumber(r, b.right)
	if err != nil {
		return val{}, err
	}
	if (b.op == '/' || b.op == '%') && y.isZero() {
		return val{}, problemf("division by zero: %s is 0", operandText(b.right))
	}
	if x.isInt && y.isInt {
		if n, ok := intArithmetic(b.op, x.i, y.i); ok {
			return goVal(n), nil
		}
	}
	var f float64
	switch b.op {
	case '+':
		f = x.f + y.f
	case '-':
		f = x.f - y.f
	case '*':
		f = x.f * y.f
	case '/':
		f = x.f / y.f
	default:
		f = math.Mod(x.f, y.f)
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return val{}, problemf("result of %s is out of range", b.text)
	}
	return goVal(normalizeFloat(f)), nil
}

// intArithmetic computes x op y exactly, and reports false when the
// result does not fit in int64 or, for "/", is not an integer.
func intArithmetic(op byte, x, y int64) (int64, bool) {
	switch op {
	case '+':
		s := x + y
		return s, (s > x) == (y > 0)
	case '-':
		d := x - y
		return d, (d < x) == (y > 0)
	case '*':
		if x == 0 || y == 0 {
			return 0, true
		}
		p := x * y
		return p, p/y == x && !(x == -1 && y == math.MinInt64) && !(y == -1 && x == math.MinInt64)
	case '/':
		if x%y != 0 || (x == math.MinInt64 && y == -1) {
			return 0, false
		}
		return x / y, true
	}
	return x % y, true
}

// operandNumber evaluates o and converts its value to a number.
func operandNumber(r Resolver, o operand) (number, error) {
	v, err := o.eval(r)
	if err != nil {
		return number{}, err
	}
	if v.isNull() {
		return number{}, &missingOperand{problemError{problem: fmt.Sprintf(
			"%s is missing or null: check the path, or add a default such as | 0", operandText(o))}}
	}
	n, ok := valNumber(v, false)
	if !ok {
		if isHugeNumber(v) {
			return number{}, problemf("%s is a number beyond the float64 range", operandText(o))
		}
		return number{}, problemf("%s is %s, not a number", operandText(o), describe(v))
	}
	return n, nil
}

// isHugeNumber reports whether v, which valNumber rejected, is a number
// all the same: one beyond the float64 range, such as 1e400, or an
// infinite float.
func isHugeNumber(v val) bool {
	if v.kind == valJSON {
		return v.res.Type == gjson.Number
	}
	switch v.v.(type) {
	case json.Number, float64, float32:
		return true
	}
	return false
}

func operandText(o operand) string {
	switch o := o.(type) {
	case *pathRef:
		return o.text
	case *numberLit:
		return o.text
	case *negOp:
		return o.text
	case *binaryOp:
		return o.text
	}
	return "operand"
}

// valNumber converts a number, or a string that holds a number in JSON
// syntax, to a number. With bools set, true and false count as 1 and 0.
func valNumber(v val, bools bool) (number, bool) {
	if v.kind == valJSON {
		switch v.res.Type {
		case gjson.Number:
			if v.res.Raw == "" {
				return floatNumber(v.res.Num), true
			}
			return numberOfText(v.res.Raw)
		case gjson.String:
			return numberOfText(v.res.Str)
		case gjson.True, gjson.False:
			if bools {
				return boolNumber(v.res.Type == gjson.True), true
			}
		}
		return number{}, false
	}
	switch x := normalizeScalar(goToAny(v.v)).(type) {
	case int64:
		return intNumber(x), true
	case float64:
		return floatNumber(x), !math.IsNaN(x) && !math.IsInf(x, 0)
	case string:
		return numberOfText(x)
	case json.Number:
		// An integer beyond int64 or a float beyond float64.
		return numberOfText(string(x))
	case bool:
		if bools {
			return boolNumber(x), true
		}
	}
	return number{}, false
}

func boolNumber(b bool) number {
	if b {
		return intNumber(1)
	}
	return intNumber(0)
}

// describe names the kind of a value for error messages, without the
// value itself, which may be a secret.
func describe(v val) string {
	if v.kind == valJSON {
		switch v.res.Type {
		case gjson.String:
			return "a string"
		case gjson.True, gjson.False:
			return "a boolean"
		case gjson.Number:
			return "a number"
		case gjson.Null:
			return "null"
		}
		if v.res.IsArray() {
			return "an array"
		}
		return "an object"
	}
	switch v.v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("a value of type %T", v.v)
}
