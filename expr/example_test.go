package expr_test

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/tether-go/tether/expr"
)

// A callback listener compiles its fields once and evaluates them for
// every request.
func ExampleCompile() {
	identify := expr.MustCompile("${body.task_id}")

	body := []byte(`{"task_id": "t-1", "status": "done"}`)
	id, err := identify.Eval(expr.Sources{"body": expr.JSON(body)})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(id)
	// Output: t-1
}

// A template that is one expression keeps the value's type. Text around
// it makes a string, with objects written as compact JSON.
func ExampleTemplate_Eval() {
	r := expr.Sources{"body": expr.JSON([]byte(`{"n": 42, "obj": {"a": 1}}`))}

	n, _ := expr.MustCompile("${body.n}").Eval(r)
	text, _ := expr.MustCompile("id=${body.obj}").Eval(r)
	fmt.Printf("%T %v\n", n, n)
	fmt.Printf("%T %v\n", text, text)
	// Output:
	// int64 42
	// string id={"a":1}
}

func ExampleTemplate_EvalString() {
	header := http.Header{}
	header.Set("X-Signature", "sha256=abc")
	r := expr.Sources{
		"header":       expr.Of(header),
		"gateway:8090": expr.Of(map[string]any{"public_url": "https://abc.example.test"}),
	}

	for _, text := range []string{
		"${gateway:8090.public_url}/callback",
		"${header.x-signature}",
	} {
		s, err := expr.MustCompile(text).EvalString(r)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(s)
	}
	// Output:
	// https://abc.example.test/callback
	// sha256=abc
}

// Result mappings are maps whose string leaves are templates.
func ExampleCompileValue() {
	mapping, err := expr.CompileValue(map[string]any{
		"url":     "${body.output.url}",
		"width":   "${body.output.width}",
		"savings": "${body.original_size - body.compressed_size}",
		"quality": 85,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	body := []byte(`{"output": {"url": "https://cdn.example.test/a.png", "width": 640},
		"original_size": 1000, "compressed_size": 400}`)
	result, err := mapping.Eval(expr.Sources{"body": expr.JSON(body)})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(result)
	fmt.Println(mapping.Sources())
	// Output:
	// map[quality:85 savings:600 url:https://cdn.example.test/a.png width:640]
	// [body]
}

// A default replaces a missing or null value, but not 0 or "".
func Example_defaults() {
	r := expr.Sources{
		"env":  expr.Of(map[string]any{}),
		"body": expr.JSON([]byte(`{"n": 0, "s": ""}`)),
	}
	for _, text := range []string{
		"${env.PORT | 8080}",
		"${env.NAME | John Doe}",
		`${env.SEP | "a|b"}`,
		`${env.KEY | ${env.FALLBACK | "dev"}}`,
		"${body.n | 5}",
		"${body.s | x}",
	} {
		v, _ := expr.MustCompile(text).Eval(r)
		fmt.Printf("%-40s %T %q\n", text, v, fmt.Sprint(v))
	}
	// Output:
	// ${env.PORT | 8080}                       int64 "8080"
	// ${env.NAME | John Doe}                   string "John Doe"
	// ${env.SEP | "a|b"}                       string "a|b"
	// ${env.KEY | ${env.FALLBACK | "dev"}}     string "dev"
	// ${body.n | 5}                            int64 "0"
	// ${body.s | x}                            string ""
}

func Example_arithmetic() {
	r := expr.Sources{"body": expr.JSON([]byte(`{"a": 10, "b": 4, "zero": 0}`))}
	for _, text := range []string{
		"${body.a - body.b}",
		"${body.a + body.b * 2}",
		"${(body.a + body.b) * 2}",
		"${body.a / body.b}",
		"${body.a / body.zero}",
	} {
		v, err := expr.MustCompile(text).Eval(r)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(v)
	}
	// Output:
	// 6
	// 18
	// 28
	// 2.5
	// expr: evaluate "${body.a / body.zero}": division by zero: body.zero is 0
}

func Example_types() {
	r := expr.Sources{"response": expr.JSON([]byte(`{
		"data": "{\"k\": 1}",
		"count": "12",
		"users": [{"id": 1, "profile": {"email": "a@example.test"}, "extra": true}]}`))}
	for _, text := range []string{
		"${response.data as json}",
		"${response.count as integer}",
		"${response.users as object[]/id,profile.email}",
		"${response.count as base64}",
	} {
		v, _ := expr.MustCompile(text).Eval(r)
		fmt.Println(v)
	}
	// Output:
	// map[k:1]
	// 12
	// [map[email:a@example.test id:1]]
	// MTI=
}

// $${ writes a literal ${, and values written into text are never
// evaluated again.
func Example_escaping() {
	r := expr.Sources{"body": expr.JSON([]byte(`{"title": "${env.API_KEY}"}`))}
	for _, text := range []string{
		"price: $${amount}",
		"Title: ${body.title}",
	} {
		s, _ := expr.MustCompile(text).EvalString(r)
		fmt.Println(s)
	}
	// Output:
	// price: ${amount}
	// Title: ${env.API_KEY}
}

func Example_errors() {
	_, err := expr.Compile("${bdy.task_id}")
	fmt.Println(errors.Is(err, expr.ErrUnknownSource))

	_, err = expr.Compile("callback ${body.task_id")
	fmt.Println(errors.Is(err, expr.ErrSyntax))
	fmt.Println(err)
	// Output:
	// true
	// true
	// expr: "callback ${body.task_id": position 9: unterminated "${": add the closing "}", or write "$${" for a literal "${"
}

func ExampleStringify() {
	fmt.Println(expr.Stringify(map[string]any{"b": []any{1, "x"}, "a": nil}))
	fmt.Println(expr.Stringify(int64(1318183058574413864)))
	fmt.Println(expr.Stringify(2.5))
	fmt.Printf("%q\n", expr.Stringify(nil))
	// Output:
	// {"a":null,"b":[1,"x"]}
	// 1318183058574413864
	// 2.5
	// ""
}

// environment exposes variables one at a time, as the env source does.
type environment map[string]string

func (e environment) Field(name string) (any, bool) {
	v, ok := e[name]
	return v, ok
}

// A Fields source is asked for one key at a time, so it never has to
// list its content.
func ExampleFields() {
	r := expr.Sources{"env": expr.Of(environment{"SSH_USERNAME": "deploy"})}
	s, _ := expr.MustCompile("${env.SSH_USERNAME}@${env.SSH_TUNNEL_HOST | localhost}:${env.SSH_TUNNEL_PORT | 22}").EvalString(r)
	fmt.Println(s)
	// Output: deploy@localhost:22
}

// A ResolverFunc builds sources on demand, here the tunnel of a gateway.
func ExampleResolverFunc() {
	r := expr.ResolverFunc(func(source string) (expr.Value, bool) {
		if source == "gateway:8090" {
			return expr.Of(map[string]any{"public_address": "203.0.113.7:9834"}), true
		}
		return expr.Value{}, false
	})
	tmpl := expr.MustCompile("http://${gateway:8090.public_address}/callback")
	fmt.Println(tmpl.Sources())
	s, _ := tmpl.EvalString(r)
	fmt.Println(s)
	// Output:
	// [gateway:8090]
	// http://203.0.113.7:9834/callback
}
