package expr_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/expr"
)

// testBody is the raw JSON body most cases read.
const testBody = `{
  "n": 0,
  "s": "",
  "f": false,
  "nil": null,
  "obj": {"a": 1},
  "task_id": "t-42",
  "status": "done",
  "big": 1318183058574413864,
  "huge": 123456789012345678901234567890,
  "float": 2.5,
  "exp": 1e3,
  "neg": -7,
  "numstr": "12",
  "word": "abc",
  "output": {"url": "https://cdn.example.test/a.png", "width": 640, "height": 480, "file_size": 2048},
  "sizes": {"original_size": 1000, "compressed_size": 400},
  "times": {"processing_time_ms": 120, "queue_time_ms": 30},
  "items": [{"id": 1, "tags": ["x", "y"]}, {"id": 2, "tags": ["z"]}, {"name": "no id"}],
  "matrix": [[1, 2], [3, 4, 5]],
  "first.name": "Janet",
  "a*b": "star",
  "q?": "question",
  "p|q": "pipe",
  "#": "hash",
  "@at": "at",
  "key with space": "space",
  "a-b": "dash",
  "process-message": {"output": {"result": "ok"}},
  "unicode": "h\u00e9llo \"quoted\"",
  "nested": {"deep": {"list": [10, 20, 30]}},
  "title": "${env.API_KEY}",
  "users": [
    {"id": 1, "name": "John", "profile": {"email": "john@example.test"}},
    {"id": 2, "name": "Jane", "profile": {"email": "jane@example.test"}},
    "not an object"
  ],
  "b64": "aGk=",
  "jsontext": "{\"k\": [1, 2.5, \"v\"]}",
  "yes": "yes",
  "one": 1,
  "ключ": "unicode key"
}`

// envFields is a Fields backed by a map, like an environment.
type envFields map[string]string

func (e envFields) Field(name string) (any, bool) {
	v, ok := e[name]
	return v, ok
}

func testSources() expr.Sources {
	header := http.Header{}
	header.Set("X-Signature", "sha256=abc")
	header.Add("Accept", "a/b")
	header.Add("Accept", "c/d")
	return expr.Sources{
		"body":   expr.JSON([]byte(testBody)),
		"env":    expr.Of(envFields{"HOME": "/root", "NUM": "7"}),
		"header": expr.Of(header),
		"query":  expr.Of(url.Values{"task_id": {"q-1", "q-2"}, "page": {"3"}}),
		"input": expr.Of(map[string]any{
			"name":  "Ada",
			"count": 3,
			"price": float32(0.1),
			"list":  []any{"a", "b", "c"},
			"typed": []string{"p", "q"},
			"m":     map[string]string{"k": "v"},
			"raw":   json.RawMessage(`{"inner": {"x": 5}}`),
			"value": expr.JSON([]byte(`{"v": [7, 8]}`)),
			"nil":   nil,
			"bytes": []byte("hi"),
			"u64":   uint64(math.MaxUint64),
			"zero":  0,
		}),
		"jobs": expr.Of(map[string]any{
			"process-message": map[string]any{"output": map[string]any{"result": "sent"}},
		}),
		"context":      expr.Of(map[string]any{"run_id": "run-1", "timestamp": int64(1700000000)}),
		"gateway:8090": expr.Of(map[string]any{"public_url": "https://abc.example.test", "public_address": "abc.example.test:443", "port": 8090}),
	}
}

func mustEval(t *testing.T, template string, r expr.Resolver) any {
	t.Helper()
	tmpl, err := expr.Compile(template)
	require.NoError(t, err, "compile %s", template)
	v, err := tmpl.Eval(r)
	require.NoError(t, err, "evaluate %s", template)
	return v
}

func TestEvalTable(t *testing.T) {
	tests := []struct {
		template string
		want     any
	}{
		// Whole-value templates keep the type.
		{"${body.task_id}", "t-42"},
		{"${body.n}", int64(0)},
		{"${body.f}", false},
		{"${body.nil}", nil},
		{"${body.missing}", nil},
		{"${body.obj}", map[string]any{"a": int64(1)}},
		{"${body.float}", 2.5},
		{"${body.exp}", int64(1000)},
		{"${body.neg}", int64(-7)},
		{"${body.output.url}", "https://cdn.example.test/a.png"},
		{"${body.output.width}", int64(640)},
		{"${body.unicode}", `héllo "quoted"`},
		// Large integers keep every digit.
		{"${body.big}", int64(1318183058574413864)},
		{"${body.huge}", json.Number("123456789012345678901234567890")},
		{"id=${body.big}", "id=1318183058574413864"},
		{"${body.huge} items", "123456789012345678901234567890 items"},
		// Paths.
		{"${body.items[0].id}", int64(1)},
		{"${body.items[1].tags[0]}", "z"},
		{"${body.items[-1].name}", "no id"},
		{"${body.items[-3].id}", int64(1)},
		{"${body.items[-4]}", nil},
		{"${body.items[3]}", nil},
		{"${body.items[*].id}", []any{int64(1), int64(2)}},
		{"${body.items[].id}", []any{int64(1), int64(2)}},
		{"${body.items[*].tags[-1]}", []any{"y", "z"}},
		{"${body.matrix[1][2]}", int64(5)},
		{"${body.matrix[*][0]}", []any{int64(1), int64(3)}},
		{"${body.matrix[*][*]}", []any{[]any{int64(1), int64(2)}, []any{int64(3), int64(4), int64(5)}}},
		{"${body.matrix[-1][-1]}", int64(5)},
		{"${body.nested.deep.list[1]}", int64(20)},
		{"${body.nested.deep.list.2}", int64(30)},
		{"${body.items.0.id}", int64(1)},
		{"${body.obj[*]}", nil},
		{"${body.task_id.x}", nil},
		{"${body.a-b}", "dash"},
		{"${body.process-message.output.result}", "ok"},
		{"${body.ключ}", "unicode key"},
		// Keys that are gjson syntax are escaped.
		{`${body["first.name"]}`, "Janet"},
		{`${body['first.name']}`, "Janet"},
		{`${body["a*b"]}`, "star"},
		{`${body["q?"]}`, "question"},
		{`${body["p|q"]}`, "pipe"},
		{`${body["#"]}`, "hash"},
		{`${body["@at"]}`, "at"},
		{`${body["key with space"]}`, "space"},
		{`${body["first*"]}`, nil},
		{`${body["items"][0]["id"]}`, int64(1)},
		// Whole sources.
		{"${context}", map[string]any{"run_id": "run-1", "timestamp": int64(1700000000)}},
		{"${context.run_id}", "run-1"},
		{"${result}", nil},
		{"${item.id}", nil},
		// Go sources.
		{"${input.name}", "Ada"},
		{"${input.count}", int64(3)},
		{"${input.price}", 0.1},
		{"${input.u64}", json.Number("18446744073709551615")},
		{"${input.list[1]}", "b"},
		{"${input.list[-1]}", "c"},
		{"${input.list.0}", "a"},
		{"${input.typed[1]}", "q"},
		{"${input.typed[*]}", []any{"p", "q"}},
		{"${input.m.k}", "v"},
		{"${input.raw.inner.x}", int64(5)},
		{"${input.value.v[-1]}", int64(8)},
		{"${input.value}", map[string]any{"v": []any{int64(7), int64(8)}}},
		{"${input.nil}", nil},
		{"${input.nil.x}", nil},
		{"${input.name.x}", nil},
		{"${jobs.process-message.output.result}", "sent"},
		{"${env.HOME}", "/root"},
		{"${env.MISSING}", nil},
		// Header and query take the first value, and header names ignore case.
		{"${header.X-Signature}", "sha256=abc"},
		{"${header.x-signature}", "sha256=abc"},
		{"${header.X-SIGNATURE}", "sha256=abc"},
		{`${header["x-signature"]}`, "sha256=abc"},
		{"${header.Accept}", "a/b"},
		{"${header.Missing}", nil},
		{"${query.task_id}", "q-1"},
		{"${query.page}", "3"},
		{"${query.none}", nil},
		// Gateways.
		{"${gateway:8090.public_url}/callback", "https://abc.example.test/callback"},
		{"http://${gateway:8090.public_address}/callback", "http://abc.example.test:443/callback"},
		{"${gateway:8090.port}", int64(8090)},
		{"${gateway:8091.public_url}", nil},
		// Text.
		{"", ""},
		{"plain text", "plain text"},
		{"id=${body.obj}", `id={"a":1}`},
		{"list=${body.items[0].tags}", `list=["x","y"]`},
		{"${body.task_id}/${body.status}", "t-42/done"},
		{" ${body.n}", " 0"},
		{"[${body.missing}]", "[]"},
		{"[${body.nil}]", "[]"},
		{"${body.f} ${body.float} ${body.exp}", "false 2.5 1000"},
		{"m=${input.m}", `m={"k":"v"}`},
		{"${input.list} ${input.count}", `["a","b","c"] 3`},
		{"${input.bytes}!", "hi!"},
		{"Processing complete: ${jobs.process-message.output.result}", "Processing complete: sent"},
		{"Bearer ${env.HOME}", "Bearer /root"},
		{"$5 and $$ and a$b", "$5 and $$ and a$b"},
		{`C:\path\${body.n}`, `C:\path\0`},
		// Injection safety: substituted values are never scanned again.
		{"Title: ${body.title}", "Title: ${env.API_KEY}"},
		{"${body.title}", "${env.API_KEY}"},
		{"${body.missing | ${body.title}}", "${env.API_KEY}"},
		// Escaping.
		{"$${body.n}", "${body.n}"},
		{"cost: $${price} is ${body.n}", "cost: ${price} is 0"},
		{"$$${body.n}", "$${body.n}"},
		{"${body.missing | $${x}}", "${x}"},
	}
	r := testSources()
	for _, tt := range tests {
		t.Run(tt.template, func(t *testing.T) {
			assert.Equal(t, tt.want, mustEval(t, tt.template, r))
		})
	}
}

func TestEvalEmptyEnvAndZeroBody(t *testing.T) {
	r := expr.Sources{
		"env":  expr.Of(envFields{}),
		"body": expr.JSON([]byte(`{"n":0,"s":"","obj":{"a":1}}`)),
	}
	assert.Equal(t, int64(8080), mustEval(t, "${env.PORT | 8080}", r))
	assert.Equal(t, "8080", mustEval(t, "port ${env.PORT | 8080}", r).(string)[5:])
	assert.Equal(t, int64(0), mustEval(t, "${body.n | 5}", r))
	assert.Equal(t, "", mustEval(t, "${body.s | x}", r))
	assert.Equal(t, `id={"a":1}`, mustEval(t, "id=${body.obj}", r))

	port, err := expr.MustCompile("${env.PORT | 8080}").EvalString(r)
	require.NoError(t, err)
	assert.Equal(t, "8080", port)
}

func TestEvalDefaults(t *testing.T) {
	tests := []struct {
		template string
		want     any
	}{
		{"${env.PORT | 8080}", int64(8080)},
		{"${env.PORT|8080}", int64(8080)},
		{"${env.RATIO | 0.7}", 0.7},
		{"${env.N | -3}", int64(-3)},
		{"${env.BIG | 99999999999999999999}", json.Number("99999999999999999999")},
		{"${env.ON | true}", true},
		{"${env.OFF | false}", false},
		{"${env.X | null}", nil},
		{"${env.X | []}", []any{}},
		{`${env.X | {"a": [1, "b"]}}`, map[string]any{"a": []any{int64(1), "b"}}},
		{`${env.X | "a|b"}`, "a|b"},
		{`${env.X | 'a|b'}`, "a|b"},
		{`${env.X | "8080"}`, "8080"},
		{`${env.X | "line\nbreak"}`, "line\nbreak"},
		{`${env.X | 'raw \n'}`, `raw \n`},
		{`${env.X | "${body.n}"}`, "${body.n}"},
		{"${env.X | John Doe}", "John Doe"},
		{"${env.X |   spaced out   }", "spaced out"},
		{"${env.X | http://h:8080/v1}", "http://h:8080/v1"},
		{"${env.X | a|b}", "a|b"},
		{"${env.X | ~/.ssh/id_rsa}", "~/.ssh/id_rsa"},
		{"${env.X | user@example.test}", "user@example.test"},
		{`${env.X | a\}b}`, "a}b"},
		{`${env.X | \@(not annotation)}`, "@(not annotation)"},
		{"${env.X | 12abc}", "12abc"},
		{"${env.X |}", ""},
		{"${env.X | }", ""},
		{"${env.X | {braces}}", "{braces}"},
		// Nested defaults.
		{`${env.X | ${env.Y | "fallback"}}`, "fallback"},
		{`${env.X | ${env.HOME | "fallback"}}`, "/root"},
		{"${env.X | ${env.Y | ${env.Z | 3}}}", int64(3)},
		{"${env.X | ${body.obj}}", map[string]any{"a": int64(1)}},
		{"${env.X | http://${gateway:8090.public_address}/cb}", "http://abc.example.test:443/cb"},
		{"${env.X | ${body.n}-${body.status}}", "0-done"},
		// A default applies only to missing or null values.
		{"${body.n | 5}", int64(0)},
		{"${body.s | x}", ""},
		{"${body.f | true}", false},
		{"${body.nil | 5}", int64(5)},
		{"${input.nil | 5}", int64(5)},
		{"${input.zero | 5}", int64(0)},
		{"${result | none}", "none"},
		{"${body.task_id | x}", "t-42"},
		// Defaults inside text.
		{"port=${env.PORT | 8080}", "port=8080"},
		{"${env.A | a} ${env.B | b}", "a b"},
	}
	r := testSources()
	for _, tt := range tests {
		t.Run(tt.template, func(t *testing.T) {
			assert.Equal(t, tt.want, mustEval(t, tt.template, r))
		})
	}
}

func TestEvalArithmetic(t *testing.T) {
	tests := []struct {
		template string
		want     any
	}{
		{"${body.sizes.original_size - body.sizes.compressed_size}", int64(600)},
		{"${body.times.processing_time_ms + body.times.queue_time_ms}", int64(150)},
		{"${1 + 2 * 3}", int64(7)},
		{"${(1 + 2) * 3}", int64(9)},
		{"${10 - 4 - 3}", int64(3)},
		{"${100 / 10 / 5}", int64(2)},
		{"${2 * 3 % 4}", int64(2)},
		{"${7 % 3}", int64(1)},
		{"${-7 % 3}", int64(-1)},
		{"${7.5 % 2}", 1.5},
		{"${11 / 2}", 5.5},
		{"${10 / 4 * 2}", int64(5)},
		{"${-body.neg}", int64(7)},
		{"${- -3}", int64(3)},
		{"${+3}", int64(3)},
		{"${-(2 + 3) * 2}", int64(-10)},
		{"${body.float * 2}", int64(5)},
		{"${body.float + 0.25}", 2.75},
		{"${0.1 + 0.2}", 0.30000000000000004},
		{"${body.numstr + 1}", int64(13)},
		{"${query.page * 2}", int64(6)},
		{"${input.count * input.price}", 0.30000000000000004},
		{"${env.NUM - 2}", int64(5)},
		{"${body.items[0].id + body.items[1].id}", int64(3)},
		{"${body.nested.deep.list[2]-1}", int64(29)},
		{"${body.items[0].id-1}", nil},
		{"${(body.n)-1}", int64(-1)},
		{"${body.neg -1}", int64(-8)},
		{"${body.neg- 1}", int64(-8)},
		{"${1e2 + 1}", int64(101)},
		{"${9223372036854775807 + 1}", 9.223372036854776e18},
		{"${-9223372036854775807 - 2}", int64(math.MinInt64)},
		{"${4611686018427387904 * 2}", 9.223372036854776e18},
		{"${9223372036854775807 - 1}", int64(9223372036854775806)},
		{"${body.big + 0}", int64(1318183058574413864)},
		{"${body.big - 1}", int64(1318183058574413863)},
		{"${body.huge * 1}", 1.2345678901234568e29},
		{"total: ${body.times.processing_time_ms + body.times.queue_time_ms} ms", "total: 150 ms"},
		{"${body.missing - 1 | 0}", int64(0)},
		{"${(body.missing + 1) * 2 | -1}", int64(-1)},
		{"${body.n + 1 as text}", "1"},
		{"${body.n + 5 | 9}", int64(5)},
	}
	r := testSources()
	for _, tt := range tests {
		t.Run(tt.template, func(t *testing.T) {
			assert.Equal(t, tt.want, mustEval(t, tt.template, r))
		})
	}
}

func TestEvalArithmeticErrors(t *testing.T) {
	tests := []struct {
		template string
		message  string
	}{
		{"${body.output.width / body.n}", "division by zero: body.n is 0"},
		{"${body.output.width % body.n}", "division by zero: body.n is 0"},
		{"${1 / 0.0}", "division by zero: 0.0 is 0"},
		{"${1 / (body.n * 2)}", "division by zero: body.n * 2 is 0"},
		{"${body.word + 1}", "body.word is a string, not a number"},
		{"${body.obj * 2}", "body.obj is an object, not a number"},
		{"${body.items - 1}", "body.items is an array, not a number"},
		{"${body.f + 1}", "body.f is a boolean, not a number"},
		{"${-body.word}", "body.word is a string, not a number"},
		{"${input.list + 1}", "input.list is an array, not a number"},
		{"${body.missing + 1}", "body.missing is missing or null"},
		{"${body.nil * 2}", "body.nil is missing or null"},
		{"${1e308 * 10}", "result of 1e308 * 10 is out of range"},
		{"x ${body.word * 2} y", "body.word is a string"},
	}
	r := testSources()
	for _, tt := range tests {
		t.Run(tt.template, func(t *testing.T) {
			tmpl, err := expr.Compile(tt.template)
			require.NoError(t, err)
			_, err = tmpl.Eval(r)
			require.Error(t, err)
			assert.ErrorIs(t, err, expr.ErrEval)
			assert.Contains(t, err.Error(), tt.message)
			var evalErr *expr.EvalError
			require.ErrorAs(t, err, &evalErr)
			assert.True(t, strings.HasPrefix(evalErr.Expr, "${"), "expression %q", evalErr.Expr)
			assert.Contains(t, tt.template, evalErr.Expr)
			_, err = tmpl.EvalString(r)
			assert.ErrorIs(t, err, expr.ErrEval)
		})
	}
}

func TestEvalErrorMessage(t *testing.T) {
	tmpl := expr.MustCompile("Saved ${body.sizes.original_size / body.n}%")
	_, err := tmpl.Eval(testSources())
	require.Error(t, err)
	assert.Equal(t, `expr: evaluate "${body.sizes.original_size / body.n}": division by zero: body.n is 0`, err.Error())
}

func TestEvalTypes(t *testing.T) {
	tests := []struct {
		template string
		want     any
	}{
		{"${body.n as text}", "0"},
		{"${body.obj as text}", `{"a":1}`},
		{"${body.big as string}", "1318183058574413864"},
		{"${input.count as text}", "3"},
		{"${input.list as text}", `["a","b","c"]`},
		{"${body.missing as text}", nil},
		{"${body.numstr as number}", int64(12)},
		{"${body.float as number}", 2.5},
		{"${body.n as number}", int64(0)},
		{"${env.NUM as number}", int64(7)},
		{"${body.f as number}", int64(0)},
		{"${body.huge as number}", json.Number("123456789012345678901234567890")},
		{"${body.float as integer}", int64(2)},
		{"${body.neg as integer}", int64(-7)},
		{"${body.numstr as integer}", int64(12)},
		{"${body.huge as integer}", json.Number("123456789012345678901234567890")},
		{"${-2.7 as integer}", int64(-2)},
		{"${env.PORT as integer | 8080}", int64(8080)},
		{"${env.PORT as integer | \"8081\"}", int64(8081)},
		{"${body.one as boolean}", true},
		{"${body.n as boolean}", false},
		{"${body.f as boolean}", false},
		{"${body.yes as boolean}", true},
		{"${body.s as boolean}", false},
		{"${body.numstr as boolean}", true},
		{"${env.X as boolean | TRUE}", true},
		{"${env.X as boolean | off}", false},
		{"${body.jsontext as json}", map[string]any{"k": []any{int64(1), 2.5, "v"}}},
		{"${body.obj as json}", map[string]any{"a": int64(1)}},
		{"${body.n as json}", int64(0)},
		{"${input.m as json}", map[string]string{"k": "v"}},
		{`${env.X as json | "[1, 2]"}`, []any{int64(1), int64(2)}},
		{"${body.task_id as base64}", "dC00Mg=="},
		{"${input.bytes as base64}", "aGk="},
		{"${body.users as object[]/id,name}", []any{
			map[string]any{"id": int64(1), "name": "John"},
			map[string]any{"id": int64(2), "name": "Jane"},
		}},
		{"${body.users as object[]/id,profile.email}", []any{
			map[string]any{"id": int64(1), "email": "john@example.test"},
			map[string]any{"id": int64(2), "email": "jane@example.test"},
		}},
		{"${body.users as object[]/id,missing}", []any{
			map[string]any{"id": int64(1), "missing": nil},
			map[string]any{"id": int64(2), "missing": nil},
		}},
		{"${body.items as object[]/tags[0]}", []any{
			map[string]any{"tags[0]": "x"},
			map[string]any{"tags[0]": "z"},
			map[string]any{"tags[0]": nil},
		}},
		{"${body.users as object[]}", []any{
			map[string]any{"id": int64(1), "name": "John", "profile": map[string]any{"email": "john@example.test"}},
			map[string]any{"id": int64(2), "name": "Jane", "profile": map[string]any{"email": "jane@example.test"}},
		}},
		{"${body.obj as object[]/a}", []any{}},
		{"${input.value.v as object[]}", []any{}},
		{"${body.missing as object[]/a}", nil},
		// Types that pass the value through.
		{"${body.output.url as image}", "https://cdn.example.test/a.png"},
		{"${body.output.url as image/png;url}", "https://cdn.example.test/a.png"},
		{"${body.b64 as audio/mp3;base64}", "aGk="},
		{"${body.obj as video/mp4}", map[string]any{"a": int64(1)}},
		{"${body.task_id as file}", "t-42"},
		{"${body.status as select/done,failed | done}", "done"},
		{"${env.T as slider/0,2,0.1 | 0.7}", 0.7},
		{"${body.items[0].tags as list}", []any{"x", "y"}},
		{"${body.word as markdown}", "abc"},
		{"${body.word as text;sse-text}", "abc"},
		// Annotations are parsed and ignored.
		{`${body.task_id @(description "Task id")}`, "t-42"},
		{`${env.L as integer | 10 @(description Maximum number of results)}`, int64(10)},
		{`${env.T as number | 0.7 @(description Controls randomness (0-2))}`, 0.7},
		{`${body.word @(a "(") @(b)}`, "abc"},
		{`${env.X | "q" @(description "x")}`, "q"},
	}
	r := testSources()
	for _, tt := range tests {
		t.Run(tt.template, func(t *testing.T) {
			assert.Equal(t, tt.want, mustEval(t, tt.template, r))
		})
	}
}

func TestEvalTypeErrors(t *testing.T) {
	tests := []struct {
		template string
		message  string
	}{
		{"${body.word as number}", "cannot convert a string to a number"},
		{"${body.obj as integer}", "cannot convert an object to an integer"},
		{"${1e300 as integer}", "out of the int64 range"},
		{"${body.word as boolean}", "cannot convert a string to a boolean"},
		{"${body.obj as boolean}", "cannot convert an object to a boolean"},
		{"${body.word as json}", "the string is not valid JSON"},
		{"${body.obj as base64}", "cannot encode an object as base64"},
		{"${input.count as base64}", "cannot encode a value of type int as base64"},
	}
	r := testSources()
	for _, tt := range tests {
		t.Run(tt.template, func(t *testing.T) {
			tmpl, err := expr.Compile(tt.template)
			require.NoError(t, err)
			_, err = tmpl.Eval(r)
			require.Error(t, err)
			assert.ErrorIs(t, err, expr.ErrEval)
			assert.Contains(t, err.Error(), tt.message)
			assert.Contains(t, err.Error(), tt.template)
		})
	}
}

func TestEvalString(t *testing.T) {
	tests := []struct {
		template string
		want     string
	}{
		{"${body.task_id}", "t-42"},
		{"${body.n}", "0"},
		{"${body.big}", "1318183058574413864"},
		{"${body.huge}", "123456789012345678901234567890"},
		{"${body.float}", "2.5"},
		{"${body.exp}", "1000"},
		{"${body.f}", "false"},
		{"${body.nil}", ""},
		{"${body.missing}", ""},
		{"${body.obj}", `{"a":1}`},
		{"${body.items[1]}", `{"id":2,"tags":["z"]}`},
		{"${body.output}", `{"url":"https://cdn.example.test/a.png","width":640,"height":480,"file_size":2048}`},
		{"${body.unicode}", `héllo "quoted"`},
		{"${input.m}", `{"k":"v"}`},
		{"${input.list}", `["a","b","c"]`},
		{"${input.count}", "3"},
		{"${input.price}", "0.1"},
		{"${header}", `{"Accept":["a/b","c/d"],"X-Signature":["sha256=abc"]}`},
		{"${env.PORT | 8080}", "8080"},
		{"${body.items[*].id}", "[1,2]"},
		{"${11 / 2}", "5.5"},
		{"plain", "plain"},
		{"$${x}", "${x}"},
		{"a ${body.n} b", "a 0 b"},
		{"Title: ${body.title}", "Title: ${env.API_KEY}"},
	}
	r := testSources()
	for _, tt := range tests {
		t.Run(tt.template, func(t *testing.T) {
			tmpl, err := expr.Compile(tt.template)
			require.NoError(t, err)
			got, err := tmpl.EvalString(r)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestEvalStringMatchesStringify checks that EvalString renders what
// Stringify renders of Eval, for values without key-order differences.
func TestEvalStringMatchesStringify(t *testing.T) {
	r := testSources()
	for _, template := range []string{
		"${body.task_id}", "${body.n}", "${body.big}", "${body.huge}", "${body.float}",
		"${body.nil}", "${body.obj}", "${body.items[0].tags}", "${input.count}",
		"${input.list}", "${body.numstr as integer}", "x=${body.obj} y=${input.m}",
	} {
		tmpl := expr.MustCompile(template)
		v, err := tmpl.Eval(r)
		require.NoError(t, err)
		s, err := tmpl.EvalString(r)
		require.NoError(t, err)
		assert.Equal(t, expr.Stringify(v), s, template)
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		template string
		kind     error
		pos      int
		problem  string
	}{
		{"${", expr.ErrSyntax, 0, `unterminated "${"`},
		{"abc ${", expr.ErrSyntax, 4, `unterminated "${"`},
		{"${body.x", expr.ErrSyntax, 0, `unterminated "${"`},
		{"${body.x | 5", expr.ErrSyntax, 0, `unterminated "${"`},
		{"${body.x | ${env.Y}", expr.ErrSyntax, 0, `unterminated "${"`},
		{"a ${body.x | ${env.Y | 1}", expr.ErrSyntax, 2, `unterminated "${"`},
		{`${body.x | "abc}`, expr.ErrSyntax, 0, `unterminated "${"`},
		{"${body.x as text", expr.ErrSyntax, 0, `unterminated "${"`},
		{"${body[0", expr.ErrSyntax, 0, `unterminated "${"`},
		{"${(body.x}", expr.ErrSyntax, 9, `expected ")"`},
		{"${body.x @(a}", expr.ErrSyntax, 9, `unterminated annotation`},
		{"${}", expr.ErrSyntax, 0, "empty expression"},
		{"${   }", expr.ErrSyntax, 0, "empty expression"},
		{"${bdy.x}", expr.ErrUnknownSource, 2, `unknown source "bdy"`},
		{"text ${ stdout }", expr.ErrUnknownSource, 8, `unknown source "stdout"`},
		{"${a-b}", expr.ErrUnknownSource, 2, `unknown source "a-b"`},
		{"${body.a - b}", expr.ErrUnknownSource, 11, `unknown source "b"`},
		{"${body.x | ${bad.y}}", expr.ErrUnknownSource, 13, `unknown source "bad"`},
		{"${Body.x}", expr.ErrUnknownSource, 2, `unknown source "Body"`},
		{"${gateway.public_url}", expr.ErrSyntax, 2, "gateway needs a port"},
		{"${gateway:abc.public_url}", expr.ErrSyntax, 10, `invalid gateway port "abc"`},
		{"${gateway:0.port}", expr.ErrSyntax, 10, "invalid gateway port"},
		{"${gateway:70000.port}", expr.ErrSyntax, 10, "invalid gateway port"},
		{"${body.}", expr.ErrSyntax, 7, `expected a key after "."`},
		{"${body..x}", expr.ErrSyntax, 7, `expected a key after "."`},
		{"${body.x y}", expr.ErrSyntax, 9, `unexpected 'y'`},
		{"${body.x:y}", expr.ErrSyntax, 8, `unexpected ':'`},
		{"${body[x]}", expr.ErrSyntax, 7, `unexpected 'x' in brackets`},
		{"${body[1x]}", expr.ErrSyntax, 8, `expected "]"`},
		{"${body[-]}", expr.ErrSyntax, 7, `invalid index "-"`},
		{`${body[""]}`, expr.ErrSyntax, 6, "empty key"},
		{`${body["\q"]}`, expr.ErrSyntax, 7, "invalid quoted string"},
		{"${body.x as}", expr.ErrSyntax, 9, `unexpected 'a'`},
		{"${body.x as }", expr.ErrSyntax, 12, `expected a type after "as"`},
		{"${body.x as money}", expr.ErrSyntax, 12, `unknown type "money"`},
		{"${body.x as object[]/a,,b}", expr.ErrSyntax, 23, "expected a field path"},
		{"${body.x as object[]/a.}", expr.ErrSyntax, 23, `expected a key after "."`},
		{"${body.x +}", expr.ErrSyntax, 10, `missing operand before "}"`},
		{"${* 2}", expr.ErrSyntax, 2, `unexpected '*'`},
		{"${1 2}", expr.ErrSyntax, 4, `unexpected '2'`},
		{"${12abc}", expr.ErrSyntax, 2, `invalid number "12abc"`},
		{"${1.2.3}", expr.ErrSyntax, 2, `invalid number "1.2.3"`},
		{"${01}", expr.ErrSyntax, 2, `invalid number "01"`},
		{"${body.x | 'a' b}", expr.ErrSyntax, 15, "after the quoted default"},
		{"${'a'}", expr.ErrSyntax, 2, `unexpected '\''`},
		{"${$body}", expr.ErrSyntax, 2, `unexpected '$'`},
		{"${body.x)}", expr.ErrSyntax, 8, `unexpected ')'`},
		{"${" + strings.Repeat("(", 100) + "1" + strings.Repeat(")", 100) + "}", expr.ErrSyntax, 65, "nested more than 64 levels"},
		{strings.Repeat("${env.X | ", 100) + "1" + strings.Repeat("}", 100), expr.ErrSyntax, 320, "nested more than 64 levels"},
	}
	for _, tt := range tests {
		t.Run(tt.template, func(t *testing.T) {
			_, err := expr.Compile(tt.template)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.kind)
			var compileErr *expr.CompileError
			require.ErrorAs(t, err, &compileErr)
			assert.Equal(t, tt.template, compileErr.Template)
			assert.Equal(t, tt.pos, compileErr.Pos, "position in %s", err)
			assert.Contains(t, compileErr.Problem, tt.problem)
			assert.True(t, strings.HasPrefix(err.Error(), fmt.Sprintf("expr: %q: position %d: ", tt.template, tt.pos)), err.Error())
		})
	}
}

func TestCompileErrorNamesTemplate(t *testing.T) {
	_, err := expr.Compile("${bdy.id}")
	require.Error(t, err)
	assert.Equal(t, `expr: "${bdy.id}": position 2: unknown source "bdy": use body, query, header, item, `+
		`input, response, result, output, jobs, env, context or gateway:PORT`, err.Error())
	assert.False(t, errors.Is(err, expr.ErrSyntax))
}

func TestCompileValue(t *testing.T) {
	tmpl, err := expr.CompileValue(map[string]any{
		"url":     "${body.output.url}",
		"width":   "${body.output.width}",
		"label":   "size ${body.output.width}x${body.output.height}",
		"quality": 85,
		"ratio":   0.5,
		"on":      true,
		"none":    nil,
		"literal": "plain",
		"list":    []any{"${context.run_id}", 1, "$${x}"},
		"nested":  map[string]any{"callback": "${gateway:8090.public_url}/callback"},
		"typed":   map[string]string{"k": "${env.HOME}"},
		"strings": []string{"${input.name}"},
	})
	require.NoError(t, err)
	assert.False(t, tmpl.Static())
	assert.Equal(t, []string{"body", "context", "gateway:8090", "input", "env"}, tmpl.Sources())

	got, err := tmpl.Eval(testSources())
	require.NoError(t, err)
	assert.Equal(t, map[string]any{
		"url":     "https://cdn.example.test/a.png",
		"width":   int64(640),
		"label":   "size 640x480",
		"quality": int64(85),
		"ratio":   0.5,
		"on":      true,
		"none":    nil,
		"literal": "plain",
		"list":    []any{"run-1", int64(1), "${x}"},
		"nested":  map[string]any{"callback": "https://abc.example.test/callback"},
		"typed":   map[string]any{"k": "/root"},
		"strings": []any{"Ada"},
	}, got)

	// Each evaluation returns a new map.
	again, err := tmpl.Eval(testSources())
	require.NoError(t, err)
	again.(map[string]any)["url"] = "changed"
	assert.Equal(t, "https://cdn.example.test/a.png", got.(map[string]any)["url"])
}

func TestCompileValueScalarsAndStatic(t *testing.T) {
	tests := []struct {
		value any
		want  any
	}{
		{"text", "text"},
		{"$${x}", "${x}"},
		{42, int64(42)},
		{uint8(7), int64(7)},
		{1.5, 1.5},
		{float32(0.25), 0.25},
		{true, true},
		{nil, nil},
		{json.Number("18446744073709551616"), json.Number("18446744073709551616")},
		{map[string]any{}, map[string]any{}},
		{[]any{}, []any{}},
		{map[any]any{"k": "v"}, map[string]any{"k": "v"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.value), func(t *testing.T) {
			tmpl, err := expr.CompileValue(tt.value)
			require.NoError(t, err)
			assert.True(t, tmpl.Static())
			assert.Empty(t, tmpl.Sources())
			got, err := tmpl.Eval(expr.Sources{})
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestCompileValueErrorsNameField(t *testing.T) {
	_, err := expr.CompileValue(map[string]any{
		"result": map[string]any{"items": []any{"ok", "${bdy.x}"}},
	})
	require.Error(t, err)
	assert.ErrorIs(t, err, expr.ErrUnknownSource)
	assert.Equal(t, `expr: "${bdy.x}" in field "result.items[1]": position 2: unknown source "bdy": use body, `+
		`query, header, item, input, response, result, output, jobs, env, context or gateway:PORT`, err.Error())

	_, err = expr.CompileValue(map[any]any{1: "x"})
	assert.ErrorIs(t, err, expr.ErrSyntax)

	_, err = expr.CompileValue(struct{ A int }{1})
	assert.ErrorIs(t, err, expr.ErrSyntax)
	assert.Contains(t, err.Error(), "unsupported value of type struct")

	_, err = expr.CompileValue(map[string]any{"ch": make(chan int)})
	assert.ErrorIs(t, err, expr.ErrSyntax)
	assert.Contains(t, err.Error(), `in field "ch"`)
}

func TestEvalErrorNamesField(t *testing.T) {
	tmpl, err := expr.CompileValue(map[string]any{
		"output": map[string]any{"savings": "${body.sizes.original_size / body.n}"},
	})
	require.NoError(t, err)
	_, err = tmpl.Eval(testSources())
	require.Error(t, err)
	assert.ErrorIs(t, err, expr.ErrEval)
	assert.Equal(t, `expr: evaluate "${body.sizes.original_size / body.n}" in field "output.savings": division by zero: body.n is 0`, err.Error())
}

func TestEvalErrorWrapsCause(t *testing.T) {
	var evalErr *expr.EvalError
	err := error(&expr.EvalError{Expr: "${x}", Problem: "p", Err: errCause})
	require.ErrorAs(t, err, &evalErr)
	assert.ErrorIs(t, err, expr.ErrEval)
	assert.ErrorIs(t, err, errCause)
	assert.Equal(t, `expr: evaluate "${x}": p: cause`, err.Error())
}

var errCause = errors.New("cause")

func TestTemplateMethods(t *testing.T) {
	tmpl := expr.MustCompile("${body.a} ${header.X} ${body.b | ${env.Y}} ${gateway:8090.port} ${gateway:08090.port}")
	assert.Equal(t, []string{"body", "header", "env", "gateway:8090"}, tmpl.Sources())
	assert.False(t, tmpl.Static())
	assert.Equal(t, "${body.a} ${header.X} ${body.b | ${env.Y}} ${gateway:8090.port} ${gateway:08090.port}", tmpl.String())

	sources := tmpl.Sources()
	sources[0] = "changed"
	assert.Equal(t, "body", tmpl.Sources()[0])

	static := expr.MustCompile("no $${expressions} here")
	assert.True(t, static.Static())
	assert.Empty(t, static.Sources())
	assert.Equal(t, "no $${expressions} here", static.String())

	value, err := expr.CompileValue(map[string]any{"b": 1, "a": "${input.x}"})
	require.NoError(t, err)
	assert.Equal(t, `{"a":"${input.x}","b":1}`, value.String())

	assert.Panics(t, func() { expr.MustCompile("${") })
}

func TestResolverFunc(t *testing.T) {
	var asked []string
	r := expr.ResolverFunc(func(source string) (expr.Value, bool) {
		asked = append(asked, source)
		if source == "input" {
			return expr.Of(map[string]any{"x": "y"}), true
		}
		return expr.Value{}, false
	})
	assert.Equal(t, "y|", mustEval(t, "${input.x}|${output.x}", r))
	assert.Equal(t, []string{"input", "output"}, asked)
}

func TestValueForms(t *testing.T) {
	r := expr.Sources{
		"body":   expr.Of(json.RawMessage(`{"a": {"b": 1}}`)),
		"input":  expr.Of(expr.JSON([]byte(`[1, 2]`))),
		"output": {},
		"result": expr.JSON(nil),
	}
	assert.Equal(t, int64(1), mustEval(t, "${body.a.b}", r))
	assert.Equal(t, int64(2), mustEval(t, "${input[-1]}", r))
	assert.Nil(t, mustEval(t, "${output}", r))
	assert.Nil(t, mustEval(t, "${output.x}", r))
	assert.Nil(t, mustEval(t, "${result}", r))
	assert.Nil(t, mustEval(t, "${result.x}", r))
}

func TestRawBodyReuse(t *testing.T) {
	raw := []byte(`{"s": "hello", "o": {"k": "value"}, "big": 123456789012345678901234567890}`)
	r := expr.Sources{"body": expr.JSON(raw)}
	s := mustEval(t, "${body.s}", r)
	o := mustEval(t, "${body.o}", r)
	big := mustEval(t, "${body.big}", r)
	text, err := expr.MustCompile("${body.s}").EvalString(r)
	require.NoError(t, err)

	for i := range raw {
		raw[i] = 'X'
	}
	assert.Equal(t, "hello", s)
	assert.Equal(t, map[string]any{"k": "value"}, o)
	assert.Equal(t, json.Number("123456789012345678901234567890"), big)
	assert.Equal(t, "hello", text)
}

func TestStringify(t *testing.T) {
	type point struct {
		X int `json:"x"`
	}
	tests := []struct {
		name  string
		value any
		want  string
	}{
		{"nil", nil, ""},
		{"string", "a b", "a b"},
		{"bytes", []byte("raw"), "raw"},
		{"true", true, "true"},
		{"int", 42, "42"},
		{"int8", int8(-8), "-8"},
		{"uint64 max", uint64(math.MaxUint64), "18446744073709551615"},
		{"int64 big", int64(1318183058574413864), "1318183058574413864"},
		{"float integral", 3.0, "3"},
		{"float", 2.5, "2.5"},
		{"float32", float32(0.1), "0.1"},
		{"float large", 1e21, "1e+21"},
		{"float small", 1e-7, "1e-7"},
		{"float below 1e21", 1e20, "100000000000000000000"},
		{"NaN", math.NaN(), "NaN"},
		{"json.Number", json.Number("123456789012345678901234567890"), "123456789012345678901234567890"},
		{"map", map[string]any{"b": 1, "a": []any{"x", nil, true}}, `{"a":["x",null,true],"b":1}`},
		{"map escapes", map[string]any{"k": "<a&b>\"\n\u2028\x01"}, `{"k":"<a&b>\"\n\u2028\u0001"}`},
		{"map invalid utf8", map[string]any{"k": "\xff"}, `{"k":"\ufffd"}`},
		{"map string", map[string]string{"k": "v"}, `{"k":"v"}`},
		{"header", http.Header{"A": {"1"}}, `{"A":["1"]}`},
		{"query", url.Values{"q": {"1", "2"}}, `{"q":["1","2"]}`},
		{"list", []any{1, "a", 2.5}, `[1,"a",2.5]`},
		{"strings", []string{"a", "b"}, `["a","b"]`},
		{"ints", []int{1, 2}, `[1,2]`},
		{"nested NaN", []any{math.Inf(1)}, `[null]`},
		{"nil map", map[string]any(nil), `{}`},
		{"nil typed map", map[string]string(nil), `null`},
		{"struct", point{X: 1}, `{"x":1}`},
		{"struct in map", map[string]any{"p": point{X: 2}}, `{"p":{"x":2}}`},
		{"json value", expr.JSON([]byte("{ \"b\" : 1 ,\n \"a\" : \"x y\" }")), `{"b":1,"a":"x y"}`},
		{"raw message", json.RawMessage(`[1, 2]`), `[1,2]`},
		{"go value", expr.Of([]any{1}), `[1]`},
		{"channel", make(chan int), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := expr.Stringify(tt.value)
			if tt.name == "channel" {
				assert.NotEmpty(t, got)
				return
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestStringifySelfReference(t *testing.T) {
	m := map[string]any{}
	m["self"] = m
	out := expr.Stringify(m)
	assert.Contains(t, out, `{"self":null}`)
	assert.True(t, strings.HasPrefix(out, `{"self":{"self":`), "starts with %q", out[:20])
}

func TestEvalConcurrent(t *testing.T) {
	tmpl, err := expr.CompileValue(map[string]any{
		"id":    "${body.task_id}",
		"total": "${body.times.processing_time_ms + body.times.queue_time_ms}",
		"text":  "id=${body.obj}",
	})
	require.NoError(t, err)
	want := map[string]any{"id": "t-42", "total": int64(150), "text": `id={"a":1}`}

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := testSources()
			for range 200 {
				got, err := tmpl.Eval(r)
				if err != nil {
					errs <- err
					return
				}
				if !assert.ObjectsAreEqual(want, got) {
					errs <- fmt.Errorf("got %v", got)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestEvalDeepJSON decodes deeply nested and malformed bodies. A decoder
// that rescans nested values per level takes minutes on these.
func TestEvalDeepJSON(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000)
	v := mustEval(t, "${body.a.a.a}", expr.Sources{"body": expr.JSON([]byte(deep))})
	depth := 0
	for m, ok := v.(map[string]any); ok; m, ok = m["a"].(map[string]any) {
		depth++
	}
	assert.Equal(t, 4997, depth)

	tooDeep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	v = mustEval(t, "${body}", expr.Sources{"body": expr.JSON([]byte(tooDeep))})
	assert.IsType(t, []any{}, v)

	unclosed := strings.Repeat(`{"a":[`, 20000)
	v = mustEval(t, "${body}", expr.Sources{"body": expr.JSON([]byte(unclosed))})
	assert.IsType(t, map[string]any{}, v)

	malformed := `{"a": {"b": 1, "c": [1, 2,}, "d": "x"}`
	v = mustEval(t, "${body.a}", expr.Sources{"body": expr.JSON([]byte(malformed))})
	assert.Equal(t, int64(1), v.(map[string]any)["b"])
}

func TestEvalDefaultNotShared(t *testing.T) {
	tmpl := expr.MustCompile(`${env.X | {"a": [1]}}`)
	first, err := tmpl.Eval(testSources())
	require.NoError(t, err)
	first.(map[string]any)["a"].([]any)[0] = "changed"
	first.(map[string]any)["b"] = true

	second, err := tmpl.Eval(testSources())
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"a": []any{int64(1)}}, second)
}

func TestEvalStructIsOpaque(t *testing.T) {
	type endpoint struct{ URL string }
	r := expr.Sources{"input": expr.Of(endpoint{URL: "u"})}
	assert.Equal(t, endpoint{URL: "u"}, mustEval(t, "${input}", r))
	assert.Nil(t, mustEval(t, "${input.URL}", r))
	assert.Equal(t, `{"URL":"u"}`, mustEval(t, "x ${input}", r).(string)[2:])
}

func TestZeroTemplate(t *testing.T) {
	var tmpl expr.Template
	v, err := tmpl.Eval(expr.Sources{})
	require.NoError(t, err)
	assert.Equal(t, "", v)
	s, err := tmpl.EvalString(expr.Sources{})
	require.NoError(t, err)
	assert.Equal(t, "", s)
	assert.True(t, tmpl.Static())
	assert.Empty(t, tmpl.Sources())
	assert.Equal(t, "", tmpl.String())
}
