// Package listener receives HTTP requests from the outside world. The
// http-callback listener ([CallbackListener]) turns an asynchronous API's
// callback into a [waiter.Outcome] for the workflow that waits on it. The
// http-trigger listener ([TriggerListener]) starts a workflow run for each
// webhook and replies at once with the run's id.
//
// # Mounting or serving
//
// Both listeners are [net/http.Handler]s. A host can mount one on its own
// mux under any prefix, stripping the prefix first:
//
//	l, err := listener.NewTrigger(cfg, starter, nil)
//	mux.Handle("/hooks/", http.StripPrefix("/hooks", l))
//
// or let it run its own server on Host:Port (default 0.0.0.0:8090 for
// callbacks and 0.0.0.0:8091 for triggers) with Start, or on a
// [net.Listener] the host brings, such as a tunnel, with StartOn. The own
// server sets the read, header and idle timeouts of [Limits], so slow
// clients cannot hold connections open. Shutdown closes the socket,
// replies 503 with Retry-After to requests that still arrive on open
// connections, and waits for in-flight requests. It works the same way
// for a mounted listener.
//
// # Endpoints and routing
//
// Each [Callback] or [Trigger] is one path below the config's BasePath and
// one method (POST by default). A path matches with or without a trailing
// slash, and nothing is ever redirected. An unknown path gets 404, and a
// known path with another method gets 405 with an Allow header.
//
// # Templates
//
// IdentifyBy, Status, Result, Item, Input, IdempotencyKey and the bodies
// and headers of replies are templates of package expr, compiled once by
// the constructor; a mistake is a [*ConfigError] naming the field, such
// as "callbacks[1].identify_by". Templates see these sources:
//
//	body    the parsed request body (see below)
//	query   the URL query parameters, ${query.task_id}
//	header  the request headers, any case, ${header.X-GitHub-Delivery}
//	item    the current element in bulk mode
//	output  in a Reply, the reply the listener would send otherwise
//
// Other sources, such as env and gateway:PORT, come from
// [Options.Sources]. Text that arrives in a request is data: a body such
// as {"x":"${env.SECRET}"} gives the string "${env.SECRET}", never the
// secret.
//
// # Bodies
//
// The body is read once, up to Limits.MaxBodyBytes (10 MiB by default),
// and decoded by its Content-Type:
//
//   - application/json, text/json and any +json type, with or without
//     parameters (even malformed ones such as "; utf-8"): JSON, looked up
//     without decoding the whole document. A text/plain body that is a
//     JSON object or array, and a body without Content-Type that is any
//     valid JSON, are read as JSON too.
//   - application/x-www-form-urlencoded and multipart/form-data: a map
//     of fields, one value as a string and several as a list. A form
//     whose payload field holds JSON, as GitHub and Slack send, is that
//     JSON, so ${body.ref} works alike for form and JSON deliveries.
//     Multipart files appear as {filename, content_type, size}.
//   - text/*: a string.
//   - An empty body is null. A UTF-8 byte order mark is removed.
//
// Content-Encoding gzip is decoded, with the decoded size held to the
// same limit (413 beyond it); other encodings get 415, as do other media
// types. A body that does not parse as its type, or is not valid UTF-8,
// gets 400 with a message naming the type. Error replies are JSON,
// {"error": "..."}, and never repeat the request's body, query or
// headers.
//
// # Callbacks
//
// A callback is delivered under the id from IdentifyBy, or
// [DefaultCallbackID] without one. The id must be a string or a number,
// and an integer keeps every digit. An object, array or boolean gets 400.
// Status, SuccessWhen and FailWhen
// classify it: a status in FailWhen delivers a failure carrying the whole
// body, a status in SuccessWhen (or any status, when SuccessWhen is
// empty) delivers Result, and a status in neither list is acknowledged
// and changes nothing. The reply says what happened:
//
//	{"id":"task-1","status":"delivered"}   a wait received it
//	{"id":"task-1","status":"stored"}      kept until someone waits
//	{"id":"task-1","status":"duplicate"}   already delivered; dropped
//	{"id":"task-1","status":"ignored"}     status in neither list
//
// In bulk mode the reply is a list with one entry per item, and an item
// without an id gets {"error": ...} in its entry. When the waiter is full
// (waiter.ErrFull) or fails, the reply is 503 with Retry-After; a sender
// that retries gets "duplicate" for the items that were delivered.
//
// # Triggers
//
// A trigger starts the workflow through the host's [Starter] and replies
// {"task_id":"...","status":"..."}, or a list in bulk mode, where an item
// that cannot start gets {"error": ...} and the others still start. The
// run is not awaited, so the reply comes well within the few seconds
// that providers allow.
//
// An IdempotencyKey, such as ${header.X-GitHub-Delivery}, makes a repeated
// delivery within IdempotencyWindow (24 hours by default, at least 10
// minutes) start nothing: it gets the first reply again, with the header
// Idempotent-Replayed: true. Concurrent repeats wait for the first.
// Only replies with a 2xx status are remembered, so a retry after a
// failure starts the run.
//
// # Verification, responses and presets
//
// An endpoint's Verify (a verify.Verifier) checks each request on the
// body bytes as they arrived, before anything else; a rejection is 401
// and is logged as a warning. Responses then let an endpoint answer some
// requests without starting or resuming anything, such as a provider's
// URL check; the first whose When matches is sent. Reply replaces the
// reply sent after processing. [Presets] bundle these for common
// providers: slack-events, discord-interactions, github, stripe and
// standard-webhooks.
//
// # Limits
//
// MaxConcurrentCount bounds the requests processed at once. A request
// takes its slot once its body has been read and verified, so slow
// senders hold no slot, and one that finds no free slot within
// Limits.QueueTimeout gets 503 with Retry-After. A bulk request with more than Limits.MaxBulkItems items
// (1,000 by default) gets 413, and none of its items is delivered or
// started. No input from a client is answered with a 5xx status other
// than 503.
package listener
