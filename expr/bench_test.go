package expr_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/tether-go/tether/expr"
)

// benchBody returns a callback body of about 2 KB whose "output" object
// comes last, so that every lookup scans most of the document.
func benchBody() []byte {
	var logs []string
	for i := range 21 {
		logs = append(logs, fmt.Sprintf(`{"step": %d, "message": "stage %d finished without warnings", "ms": %d}`, i, i, 100+i))
	}
	body := fmt.Sprintf(`{
  "task_id": "4f9c2a7e-8d1b-4c3e-9a6f-2b7d5e8c1a90",
  "status": "completed",
  "created_at": "2026-12-04T15:50:00Z",
  "model": {"name": "image-gen", "version": "2.1.0", "parameters": {"steps": 30, "guidance": 7.5, "seed": 1318183058574413864}},
  "logs": [%s],
  "output": {"url": "https://cdn.example.test/results/4f9c2a7e/image.png", "width": 1024, "height": 768, "file_size": 348211}
}`, strings.Join(logs, ",\n    "))
	return []byte(body)
}

// BenchmarkGJSONGetBytes is the baseline: one direct gjson lookup.
func BenchmarkGJSONGetBytes(b *testing.B) {
	body := benchBody()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var s string
	for b.Loop() {
		s = gjson.GetBytes(body, "output.url").String()
	}
	if s == "" {
		b.Fatal("empty result")
	}
}

// BenchmarkEval evaluates a compiled ${body.output.url} to an any.
func BenchmarkEval(b *testing.B) {
	body := benchBody()
	tmpl := expr.MustCompile("${body.output.url}")
	r := expr.Sources{"body": expr.JSON(body)}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var v any
	for b.Loop() {
		v, _ = tmpl.Eval(r)
	}
	if v != "https://cdn.example.test/results/4f9c2a7e/image.png" {
		b.Fatalf("got %v", v)
	}
}

// BenchmarkEvalString evaluates a compiled ${body.output.url} to a
// string.
func BenchmarkEvalString(b *testing.B) {
	body := benchBody()
	tmpl := expr.MustCompile("${body.output.url}")
	r := expr.Sources{"body": expr.JSON(body)}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var s string
	for b.Loop() {
		s, _ = tmpl.EvalString(r)
	}
	if s != "https://cdn.example.test/results/4f9c2a7e/image.png" {
		b.Fatalf("got %v", s)
	}
}

// BenchmarkEvalMapping evaluates a 4-field result mapping.
func BenchmarkEvalMapping(b *testing.B) {
	body := benchBody()
	tmpl, err := expr.CompileValue(map[string]any{
		"url":    "${body.output.url}",
		"width":  "${body.output.width}",
		"height": "${body.output.height}",
		"size":   "${body.output.file_size}",
	})
	if err != nil {
		b.Fatal(err)
	}
	r := expr.Sources{"body": expr.JSON(body)}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var v any
	for b.Loop() {
		v, _ = tmpl.Eval(r)
	}
	if len(v.(map[string]any)) != 4 {
		b.Fatalf("got %v", v)
	}
}

// BenchmarkGJSONMapping is the baseline for BenchmarkEvalMapping: four
// direct lookups stored in a map.
func BenchmarkGJSONMapping(b *testing.B) {
	body := benchBody()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var m map[string]any
	for b.Loop() {
		m = map[string]any{
			"url":    gjson.GetBytes(body, "output.url").String(),
			"width":  gjson.GetBytes(body, "output.width").Int(),
			"height": gjson.GetBytes(body, "output.height").Int(),
			"size":   gjson.GetBytes(body, "output.file_size").Int(),
		}
	}
	if len(m) != 4 {
		b.Fatalf("got %v", m)
	}
}

// BenchmarkEvalText interpolates two values into text.
func BenchmarkEvalText(b *testing.B) {
	body := benchBody()
	tmpl := expr.MustCompile("task ${body.task_id} is ${body.status}")
	r := expr.Sources{"body": expr.JSON(body)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tmpl.EvalString(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompile compiles a typical template, which happens once at
// load time.
func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := expr.Compile("${gateway:8090.public_url}/callback?id=${context.run_id | none}"); err != nil {
			b.Fatal(err)
		}
	}
}
