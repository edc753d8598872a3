package expr_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tether-go/tether/expr"
)

var fuzzTemplates = []string{
	"", "plain", "${body}", "${body.task_id}", "id=${body.obj}", "$${x}", "${",
	"${body.x", "${body.a - body.b}", "${(1 + 2) * body.n % 3}", "${body.items[*].id}",
	"${body.items[-1]}", `${body["a.b"]['c']}`, "${env.PORT | 8080}", `${x | "a|b"}`,
	"${env.X | ${env.Y | \"z\"}}", "${body.v as object[]/a,b.c}", "${body.v as json}",
	"${input.p as image/png;base64 @(description \"x (y)\")}", "${gateway:8090.public_url}/cb",
	"${jobs.process-message.output}", "${header.X-Signature}", `${env.X | a\}b}`,
	"${body.n as boolean | {\"a\": [1]}}", "${-body.n / 0}", "${1e999}", "${body[]}",
}

// FuzzCompile checks that compiling any text returns a template or a
// classified error without panicking, and that a compiled template
// evaluates without panicking.
func FuzzCompile(f *testing.F) {
	for _, text := range fuzzTemplates {
		f.Add(text)
	}
	r := testSources()
	f.Fuzz(func(t *testing.T, text string) {
		tmpl, err := expr.Compile(text)
		if err != nil {
			if !errors.Is(err, expr.ErrSyntax) && !errors.Is(err, expr.ErrUnknownSource) {
				t.Fatalf("compile %q: unclassified error %v", text, err)
			}
			var compileErr *expr.CompileError
			if !errors.As(err, &compileErr) || compileErr.Pos < 0 || compileErr.Pos > len(text) {
				t.Fatalf("compile %q: bad position in %v", text, err)
			}
			return
		}
		if hasExpression(text) && tmpl.Static() {
			t.Fatalf("compile %q: static despite an expression", text)
		}
		if hasExpression(text) && !strings.Contains(text, "}") {
			t.Fatalf("compile %q: no error for an unterminated expression", text)
		}
		_ = tmpl.Sources()
		if _, err := tmpl.Eval(r); err != nil && !errors.Is(err, expr.ErrEval) {
			t.Fatalf("evaluate %q: unclassified error %v", text, err)
		}
		if _, err := tmpl.EvalString(r); err != nil && !errors.Is(err, expr.ErrEval) {
			t.Fatalf("evaluate %q as text: unclassified error %v", text, err)
		}
	})
}

// FuzzEval evaluates fixed templates against any body, raw and through
// Of, and checks that nothing panics and errors are classified.
func FuzzEval(f *testing.F) {
	f.Add([]byte(testBody))
	f.Add([]byte(`{"a": {"b": [1, 2, {"c": "d"}]}}`))
	f.Add([]byte(`[1, "x", null, true, 1e400, -0, 12345678901234567890123]`))
	f.Add([]byte(`{"a": "unterminated`))
	f.Add([]byte(`{"a": {"b": "\u00e9\\\"", "c": 1e-7}}`))
	f.Add([]byte(`not json at all`))
	f.Add([]byte(``))
	templates := []*expr.Template{}
	for _, text := range []string{
		"${body}", "${body.a}", "${body.a.b}", "${body.a.b[*].c}", "${body[-1]}",
		"${body[0] + body[1]}", "x=${body.a} y=${body[2]}", "${body.a as text}",
		"${body.a as json}", "${body.a as number}", "${body.a as integer}",
		"${body.a as boolean}", "${body.a as base64}", "${body.a as object[]/b,c.d}",
		"${body.a | ${body.b | 1}}", "${body.a.b[-2] * 2 | 0}", `${body["a"][*][*]}`,
	} {
		templates = append(templates, expr.MustCompile(text))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := expr.Sources{"body": expr.JSON(body)}
		for _, tmpl := range templates {
			if _, err := tmpl.Eval(r); err != nil && !errors.Is(err, expr.ErrEval) {
				t.Fatalf("evaluate %s: unclassified error %v", tmpl, err)
			}
			if _, err := tmpl.EvalString(r); err != nil && !errors.Is(err, expr.ErrEval) {
				t.Fatalf("evaluate %s as text: unclassified error %v", tmpl, err)
			}
		}
		decoded, err := expr.MustCompile("${body}").Eval(r)
		if err != nil {
			t.Fatal(err)
		}
		goSource := expr.Sources{"body": expr.Of(decoded)}
		for _, tmpl := range templates {
			if _, err := tmpl.Eval(goSource); err != nil && !errors.Is(err, expr.ErrEval) {
				t.Fatalf("evaluate %s on Go values: unclassified error %v", tmpl, err)
			}
		}
	})
}

// hasExpression reports whether text has a "${" that is not the end of
// a "$${" escape, scanning left to right as the parser does.
func hasExpression(text string) bool {
	for i := 0; i < len(text); i++ {
		switch {
		case strings.HasPrefix(text[i:], "$${"):
			i += 2
		case strings.HasPrefix(text[i:], "${"):
			return true
		}
	}
	return false
}
