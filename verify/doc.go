// Package verify checks the signatures of webhook and callback requests,
// so that a listener acts only on requests sent by the party that holds
// the secret.
//
// A listener reads the whole body, passes the raw bytes to
// [Verifier.Verify] before it parses anything, and responds with 401
// when Verify returns an error. The bytes must be exactly those received:
// a body that was decoded and encoded again, even to the same JSON, no
// longer matches its signature.
//
// # Configuration
//
// A verify: block in a callback or trigger decodes into a [Config], and
// [New] turns it into a [Verifier]:
//
//	verify:
//	  type: stripe
//	  secret: ${env.STRIPE_WEBHOOK_SECRET}
//	  tolerance: 5m
//
// The caller expands ${env.X} before calling New. New rejects a missing
// secret, an unknown type and any field that the type does not read, and
// each error names the field, as in "verify.secret: required for type
// github".
//
// # Schemes
//
// Each type follows its provider's documentation:
//
//   - github: X-Hub-Signature-256 is "sha256=" and the hex HMAC-SHA256 of
//     the body.
//   - stripe: Stripe-Signature is "t=<time>,v1=<hex>", with one v1 item
//     per active secret. Each v1 is the HMAC-SHA256 of
//     time + "." + body.
//   - slack: X-Slack-Signature is "v0=" and the hex HMAC-SHA256 of
//     "v0:" + time + ":" + body, with the time in
//     X-Slack-Request-Timestamp.
//   - standard-webhooks: webhook-signature holds entries separated by
//     spaces, over id + "." + time + "." + body, with the id in
//     webhook-id and the time in webhook-timestamp. A "v1,<base64>"
//     entry is an HMAC-SHA256 under a secret, and a "v1a,<base64>"
//     entry an Ed25519 signature checked with public_key.
//   - discord: X-Signature-Ed25519 is the hex Ed25519 signature of
//     time + body, with the time in X-Signature-Timestamp.
//   - hmac: a configurable header holds an optional prefix and the hex or
//     base64 HMAC of a signed_content template (see Generic HMAC).
//
// Timestamps are Unix times in whole seconds. Every header is read once:
// a required header that is absent, empty or sent twice rejects the
// request. Items that a scheme does not know, such as Stripe's v0, are
// skipped. GitHub's older SHA-1 header,
// X-Hub-Signature, is not read.
//
// # Secrets and rotation
//
// secret holds one secret and secrets a list of further ones. A request
// passes when its signature matches any of them, so a secret can be
// rotated by adding the new one, switching the sender over, and then
// removing the old one. Stripe and Standard Webhooks also send one
// signature per active secret during a rotation. Any one of those
// signatures that matches is enough.
//
// For standard-webhooks a secret is base64, usually after the "whsec_"
// prefix, and the decoded bytes are the key. For the other HMAC types the
// secret's bytes are the key as written, including Stripe's "whsec_"
// prefix. A discord block has no secret but public_key, the application's
// Ed25519 public key as 64 hex digits. A standard-webhooks block may set
// public_key to "whpk_" and the base64 key, in place of or beside its
// secrets.
//
// A [Secret] prints as "[redacted]" with fmt, slog, JSON and YAML, so a
// Config can be logged whole. Error messages never contain a secret or
// the signature that the verifier computed.
//
// # Timestamp windows
//
// stripe, slack, standard-webhooks and discord reject a request whose
// timestamp lies further than tolerance from the current time, in the
// past or in the future. tolerance is a Go duration string such as "5m"
// or "90s", or a whole number of seconds such as 300. It defaults to
// [DefaultTolerance], five minutes. The window bounds how long a
// captured request can be replayed. It does not remove duplicates
// within the window, which is the job of an idempotency key.
//
// # Generic HMAC
//
// Type hmac covers senders with their own scheme:
//
//	verify:
//	  type: hmac
//	  secret: ${env.HOOK_SECRET}
//	  header: X-Signature          # required
//	  algorithm: sha256            # sha1, sha256 (default), sha384, sha512
//	  encoding: hex                # hex (default), base64, base64url
//	  prefix: "sha256="            # text before the digest, if any
//	  signed_content: "${header.X-Timestamp}.${body}"   # default "${body}"
//	  timestamp_header: X-Timestamp                     # optional window
//	  tolerance: 5m
//
// signed_content is literal text with two kinds of reference. ${body} is
// the raw body, byte for byte, and ${header.NAME} is the value of header
// NAME, which must then be present exactly once. Spaces inside the
// braces are ignored. Every "${" starts a reference, and there is no
// escape for a literal "${". The template must contain ${body}, because
// a signature that does not cover the body proves nothing about it. With
// timestamp_header set, that header must hold a Unix time in seconds
// within tolerance, and signed_content must contain it, because a window
// on an unsigned timestamp does not stop replays.
//
// # Errors
//
// Every rejection wraps [ErrUnverified] and one reason: [ErrMissingHeader],
// [ErrMalformedHeader], [ErrStale] or [ErrMismatch]. It is an [*Error],
// which also names the scheme and the header at fault. Its message
// gives the reason, as in "verify slack: timestamp in header X-Slack-Request-Timestamp
// is 7m0s old, outside the 5m0s window by 2m0s". Config errors are
// [*ConfigError] values that wrap [ErrInvalidConfig].
//
// # Testing
//
// Package verifytest sets the headers that each provider would send, so
// that tests of a listener can build requests that pass and then alter
// them.
//
// # Concurrency
//
// A Verifier built by New does not change after New returns and is safe
// for concurrent use. Signatures are compared in constant time with
// [crypto/hmac.Equal], and Ed25519 signatures are checked with
// [crypto/ed25519.Verify].
package verify
