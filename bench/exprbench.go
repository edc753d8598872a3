package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/tether-go/tether/expr"
)

// exprBody returns a callback body of about 2 KB whose "output" object
// comes last, so that every lookup scans most of the document.
func exprBody() []byte {
	var logs []string
	for i := range 21 {
		logs = append(logs, fmt.Sprintf(`{"step": %d, "message": "stage %d finished without warnings", "ms": %d}`, i, i, 100+i))
	}
	return fmt.Appendf(nil, `{"task_id": "4f9c2a7e-8d1b-4c3e-9a6f-2b7d5e8c1a90", "status": "completed",
  "model": {"name": "image-gen", "version": "2.1.0", "parameters": {"steps": 30, "guidance": 7.5}},
  "logs": [%s],
  "output": {"url": "https://cdn.example.test/results/4f9c2a7e/image.png", "width": 1024, "height": 768, "file_size": 348211}}`,
		strings.Join(logs, ",\n    "))
}

// exprMapping is the result mapping that scenario 5 evaluates.
var exprMapping = map[string]any{
	"url":    "${body.output.url}",
	"width":  "${body.output.width}",
	"height": "${body.output.height}",
	"size":   "${body.output.file_size}",
}

// benchmarkTemplate measures a compiled template's Eval on body.
func benchmarkTemplate(tmpl *expr.Template, body []byte) testing.BenchmarkResult {
	r := expr.Sources{"body": expr.JSON(body)}
	return testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tmpl.Eval(r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchmarkGJSON measures the same lookups written by hand with gjson.
func benchmarkGJSON(body []byte, mapping bool) testing.BenchmarkResult {
	return testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !mapping {
				_ = gjson.GetBytes(body, "output.url").String()
				continue
			}
			_ = map[string]any{
				"url":    gjson.GetBytes(body, "output.url").String(),
				"width":  gjson.GetBytes(body, "output.width").Int(),
				"height": gjson.GetBytes(body, "output.height").Int(),
				"size":   gjson.GetBytes(body, "output.file_size").Int(),
			}
		}
	})
}

// runExpr is scenario 5: compiled templates against direct gjson lookups
// on a 2 KB body, in this process.
func runExpr(cfg config, t *table) error {
	body := exprBody()
	single, err := expr.Compile("${body.output.url}")
	if err != nil {
		return err
	}
	mapping, err := expr.CompileValue(exprMapping)
	if err != nil {
		return err
	}

	type measured struct {
		nsPerOp []float64
		allocs  int64
	}
	cases := []struct {
		label         string
		tether, gjson func() testing.BenchmarkResult
		results       [2]measured
	}{
		{label: "${body.output.url}",
			tether: func() testing.BenchmarkResult { return benchmarkTemplate(single, body) },
			gjson:  func() testing.BenchmarkResult { return benchmarkGJSON(body, false) }},
		{label: "4-field result mapping",
			tether: func() testing.BenchmarkResult { return benchmarkTemplate(mapping, body) },
			gjson:  func() testing.BenchmarkResult { return benchmarkGJSON(body, true) }},
	}

	// The rounds run every benchmark in turn, so that a change in the
	// machine's load affects each of them alike, and the fastest round
	// is reported, because load from other processes only adds time.
	for range cfg.rounds {
		for i := range cases {
			c := &cases[i]
			for j, bench := range []func() testing.BenchmarkResult{c.tether, c.gjson} {
				r := bench()
				c.results[j].nsPerOp = append(c.results[j].nsPerOp, float64(r.T.Nanoseconds())/float64(r.N))
				c.results[j].allocs = r.AllocsPerOp()
			}
		}
	}

	for _, c := range cases {
		te, gj := c.results[0], c.results[1]
		t.compare("5 expr", c.label+": time", "ns", slices.Min(te.nsPerOp), slices.Min(gj.nsPerOp), noTarget, 0)
		t.compare("5 expr", c.label+": allocations", "allocs", float64(te.allocs), float64(gj.allocs), noTarget, 0)
	}
	t.note("expr: the floor column is the same lookups written by hand with gjson.GetBytes on the same %s-byte body; fastest of %s",
		groupDigits(float64(len(body))), countRounds(cfg.rounds))
	return nil
}
