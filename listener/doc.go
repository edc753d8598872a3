// Package listener receives HTTP requests from the outside world: the
// http-callback listener delivers asynchronous results to waiting
// workflows, and the http-trigger listener starts workflow runs from
// webhooks.
package listener
