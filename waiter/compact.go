package waiter

import "encoding/json"

// compact renders v as JSON for an error message, truncated to keep
// messages readable.
func compact(v any) string {
	const limit = 512
	b, err := json.Marshal(v)
	if err != nil {
		return "<payload not printable>"
	}
	if len(b) > limit {
		return string(b[:limit]) + "..."
	}
	return string(b)
}
