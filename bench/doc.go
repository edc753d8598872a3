// Command bench measures tether against a bare net/http baseline, the
// floor, in the same run, and prints a Markdown table with both figures,
// their ratio and the target for each, marked met or MISSED.
//
// Usage, from the module root:
//
//	go run ./bench                             # every scenario
//	go run ./bench -quick                      # smaller counts, one round
//	go run ./bench -scenario intake,delivery   # some scenarios
//	go run ./bench -profile /tmp/prof          # servers write CPU and heap profiles
//
// The scenarios:
//
//   - intake: callbacks per second and latency.
//   - delivery: 10,000 waiting goroutines woken by one callback each.
//   - scale: memory and resume time of 100,000 waiting workflow runs.
//   - triggers: workflow runs started per second by webhooks.
//   - expr: compiled templates against direct gjson lookups.
//   - ssh: tether's SSH gateway against OpenSSH's ssh -R on a loopback sshd.
//
// Each server runs in a child process, this binary started again with
// -child, so that it has its own RSS and, on Linux, its own CPU: the
// intake, delivery and trigger servers are pinned to CPU 0 and the load
// generator to CPU 1. Every server listens on 127.0.0.1, and every load
// run stops after a fixed number of requests or a time limit.
//
// BENCHMARKS.md at the module root records a full run and explains each
// scenario and the missed targets.
package main
