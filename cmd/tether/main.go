// Command tether runs a tether project: listeners that take callbacks and
// webhooks, gateways that expose them, and the workflows they drive.
//
// Usage:
//
//	tether up       [-f FILE]                          run until SIGINT or SIGTERM
//	tether run      [WORKFLOW] [-f FILE] [--input JSON] run one workflow and print its output
//	tether validate [-f FILE]                          check a configuration
//
// FILE defaults to tether.yml, else model-compose.yml, in the current
// directory.
package main

import (
	"os"
)

func main() {
	os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
