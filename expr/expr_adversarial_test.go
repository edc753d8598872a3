package expr

import (
	"encoding/json"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

// advBody is a small JSON body for the adversarial cases.
var advBody = Sources{"body": JSON([]byte(`{"a":5,"s":"x","l":[1,2,3],"secret":"${env.SECRET}"}`))}

// A number literal beyond float64 fails to compile, so that ${1e999 + 1}
// cannot evaluate as if the literal were 0.
func TestAdversarialLiteralOutOfRange(t *testing.T) {
	for _, text := range []string{"${1e999999999 + 1}", "${1e400}", "${body.a * 1E+309}"} {
		_, err := Compile(text)
		if !errors.Is(err, ErrSyntax) {
			t.Fatalf("Compile(%q) error = %v, want ErrSyntax", text, err)
		}
		if !strings.Contains(err.Error(), "out of range") {
			t.Errorf("Compile(%q) error = %q, want it to say out of range", text, err)
		}
	}
	// Within range, and underflow to zero, still compile.
	for text, want := range map[string]any{"${1e308}": 1e308, "${1e-400 + 1}": int64(1)} {
		tmpl, err := Compile(text)
		if err != nil {
			t.Fatalf("Compile(%q): %v", text, err)
		}
		got, err := tmpl.Eval(advBody)
		if err != nil || got != want {
			t.Errorf("%s = %v, %v; want %v", text, got, err, want)
		}
	}
}

// Deeply nested or repeated syntax must fail to compile quickly, never
// overflow the stack or hang.
func TestAdversarialPathologicalTemplates(t *testing.T) {
	const n = 100_000
	cases := map[string]string{
		"parentheses":   "${" + strings.Repeat("(", n) + "body.a" + strings.Repeat(")", n) + "}",
		"unary minus":   "${" + strings.Repeat("- ", n) + "body.a}",
		"defaults":      strings.Repeat("${body.x | ", n) + "1" + strings.Repeat("}", n),
		"unterminated":  strings.Repeat("${", n),
		"open braces":   "${body.x | " + strings.Repeat("{", n) + "}",
		"annotation":    "${body.a @(" + strings.Repeat("(", n) + "}",
		"bad index":     "${body.l[99999999999999999999999]}",
		"bad unicode":   `${body.x | "\u\u"}`,
		"stray closing": "${body.a))}",
	}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			_, err := Compile(text)
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error = %v, want ErrSyntax", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("compile took %v", d)
			}
			var ce *CompileError
			if !errors.As(err, &ce) || ce.Pos < 0 || ce.Pos > len(text) {
				t.Errorf("error %v has no position within the template", err)
			}
		})
	}
}

// Long but valid templates evaluate in bounded time.
func TestAdversarialLongTemplates(t *testing.T) {
	cases := map[string]struct {
		text string
		want any
	}{
		"sum chain":        {"${body.a" + strings.Repeat(" + body.a", 10_000) + "}", int64(50_005)},
		"many expressions": {strings.Repeat("${body.a}", 10_000), strings.Repeat("5", 10_000)},
		"escapes":          {strings.Repeat("$${", 10_000), strings.Repeat("${", 10_000)},
		"index chain":      {"${body" + strings.Repeat("[0]", 2_000) + "}", nil},
		"star chain":       {"${body.l" + strings.Repeat("[*]", 2_000) + "}", nil},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			tmpl, err := Compile(c.text)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tmpl.Eval(advBody)
			if err != nil {
				t.Fatal(err)
			}
			if s, ok := c.want.(string); ok {
				if got != s {
					t.Errorf("got %d bytes, want %d", len(got.(string)), len(s))
				}
			} else if got != c.want {
				if l, isList := got.([]any); !(isList && len(l) == 0 && c.want == nil) {
					t.Errorf("got %v, want %v", got, c.want)
				}
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// Arithmetic at the edges of int64 gives a float64 instead of wrapping.
func TestAdversarialIntegerEdges(t *testing.T) {
	cases := map[string]any{
		"${-9223372036854775808 % -1}":         int64(0),
		"${9223372036854775807 + 1}":           9.223372036854776e+18,
		"${-9223372036854775808 / -1}":         9.223372036854776e+18,
		"${-9223372036854775807 - 2}":          int64(-9223372036854775808),
		"${3037000500 * 3037000500}":           9.223372037000250e+18,
		"${body.l[-9223372036854775808]}":      nil,
		"${body.l[9223372036854775807]}":       nil,
		"${99999999999999999999999999999 - 0}": 1e29,
	}
	for text, want := range cases {
		tmpl, err := Compile(text)
		if err != nil {
			t.Fatalf("Compile(%q): %v", text, err)
		}
		got, err := tmpl.Eval(advBody)
		if err != nil || got != want {
			t.Errorf("%s = %#v, %v; want %#v", text, got, err, want)
		}
	}
	_, err := mustCompile(t, "${1e308 * 10}").Eval(advBody)
	if !errors.Is(err, ErrEval) || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("overflowing product: error = %v, want out of range", err)
	}
}

// Text from a source is never scanned for ${ again.
func TestAdversarialValuesNotReevaluated(t *testing.T) {
	src := Sources{
		"body": advBody["body"],
		"env":  Of(map[string]any{"SECRET": "hunter2"}),
	}
	for _, text := range []string{"${body.secret}", "x ${body.secret} y", "${body.missing | ${body.secret}}", "${body.secret as json | 1}"} {
		got, err := mustCompile(t, text).Eval(src)
		if strings.Contains(Stringify(got), "hunter2") {
			t.Errorf("%s evaluated the body's text: %v", text, got)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error repeats the secret: %v", text, err)
		}
	}
}

func mustCompile(t *testing.T, text string) *Template {
	t.Helper()
	tmpl, err := Compile(text)
	if err != nil {
		t.Fatalf("Compile(%q): %v", text, err)
	}
	return tmpl
}

// A path of many segments compiles and evaluates in time and memory
// proportional to its length.
func TestAdversarialLongPathLinear(t *testing.T) {
	const n = 100_000
	nested := strings.Repeat(`{"k":`, 40) + `"leaf"` + strings.Repeat("}", 40)
	src := Sources{"body": JSON([]byte(nested))}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()

	_, err := Compile("${body" + strings.Repeat("[0]", n) + "}")
	if err != nil {
		t.Fatal(err)
	}
	got, err := mustCompile(t, "${body"+strings.Repeat(".k", 40)+"}").Eval(src)
	if err != nil || got != "leaf" {
		t.Errorf("40 keys = %v, %v; want leaf", got, err)
	}
	got, err = mustCompile(t, "${body"+strings.Repeat(".k", 41)+" | none}").Eval(src)
	if err != nil || got != "none" {
		t.Errorf("41 keys = %v, %v; want none", got, err)
	}

	runtime.ReadMemStats(&after)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 200<<20 {
		t.Errorf("allocated %d MiB for a path of %d segments", alloc>>20, n)
	}
}

// A number beyond float64 in a body is named as such, not as "a number,
// not a number".
func TestAdversarialHugeNumberMessages(t *testing.T) {
	src := Sources{
		"body":  JSON([]byte(`{"huge":1e400}`)),
		"input": Of(map[string]any{"huge": json.Number("-1e400")}),
	}
	cases := map[string]string{
		"${body.huge + 1}":        `expr: evaluate "${body.huge + 1}": body.huge is a number beyond the float64 range`,
		"${input.huge * 2}":       `expr: evaluate "${input.huge * 2}": input.huge is a number beyond the float64 range`,
		"${body.huge as number}":  `expr: evaluate "${body.huge as number}": cannot convert the value to a number: it is beyond the float64 range`,
		"${body.huge as integer}": `expr: evaluate "${body.huge as integer}": cannot convert a number to an integer: out of the int64 range`,
	}
	for text, want := range cases {
		_, err := mustCompile(t, text).Eval(src)
		if !errors.Is(err, ErrEval) || err.Error() != want {
			t.Errorf("%s: error = %v\nwant %s", text, err, want)
		}
	}
	got, err := mustCompile(t, "${body.huge}").Eval(src)
	if err != nil || got != json.Number("1e400") {
		t.Errorf("${body.huge} = %#v, %v; want the digits kept", got, err)
	}
}
