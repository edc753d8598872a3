package verify

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is the length of a timestamp window. In YAML and JSON it is
// written either as a Go duration string such as "5m" or "90s", or as a
// whole number of seconds such as 300 or "300". Seconds, not
// milliseconds, because every provider states its window in seconds.
type Duration time.Duration

// maxSeconds is the largest whole number of seconds that fits a
// time.Duration.
const maxSeconds = math.MaxInt64 / int64(time.Second)

// String returns the duration in Go syntax, such as "5m0s".
func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML decodes a duration string or a number of seconds. The
// function form of the method works with go.yaml.in/yaml/v3 and with
// other YAML libraries that follow the older yaml.v2 interface.
func (d *Duration) UnmarshalYAML(unmarshal func(any) error) error {
	var v any
	if err := unmarshal(&v); err != nil {
		return err
	}
	parsed, err := parseDuration(v)
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}

// MarshalYAML returns the duration as a Go duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalJSON decodes a duration string or a number of seconds.
func (d *Duration) UnmarshalJSON(data []byte) error {
	decoder := json.NewDecoder(strings.NewReader(string(data)))
	decoder.UseNumber()
	var v any
	if err := decoder.Decode(&v); err != nil {
		return fmt.Errorf("decode tolerance: %w", err)
	}
	if n, ok := v.(json.Number); ok {
		v = n.String()
	}
	parsed, err := parseDuration(v)
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}

// MarshalJSON returns the duration as a quoted Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// parseDuration turns a decoded YAML or JSON scalar into a Duration. A
// string of digits counts as seconds, like a bare number.
func parseDuration(v any) (Duration, error) {
	switch v := v.(type) {
	case nil:
		return 0, nil
	case int:
		return secondsToDuration(int64(v), fmt.Sprint(v))
	case int64:
		return secondsToDuration(v, fmt.Sprint(v))
	case uint64:
		if v > uint64(maxSeconds) {
			return 0, invalidDuration(fmt.Sprint(v), "too large")
		}
		return secondsToDuration(int64(v), fmt.Sprint(v))
	case string:
		return parseDurationString(v)
	}
	return 0, invalidDuration(fmt.Sprint(v), "")
}

func parseDurationString(s string) (Duration, error) {
	text := strings.TrimSpace(s)
	if text == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		return secondsToDuration(n, s)
	}
	parsed, err := time.ParseDuration(text)
	if err != nil {
		return 0, invalidDuration(s, "")
	}
	if parsed < 0 {
		return 0, invalidDuration(s, "negative")
	}
	return Duration(parsed), nil
}

func secondsToDuration(n int64, text string) (Duration, error) {
	switch {
	case n < 0:
		return 0, invalidDuration(text, "negative")
	case n > maxSeconds:
		return 0, invalidDuration(text, "too large")
	}
	return Duration(time.Duration(n) * time.Second), nil
}

func invalidDuration(text, problem string) error {
	if problem != "" {
		problem += ", "
	}
	return &ConfigError{
		Field: "tolerance",
		Message: fmt.Sprintf("invalid duration %q: %suse a Go duration such as \"5m\" "+
			"or a whole number of seconds such as 300", text, problem),
	}
}
