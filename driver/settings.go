package driver

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Settings reads a driver's settings map and collects every problem it
// finds, so that a user sees all mistakes at once. Each getter marks its
// key as known. After the last read, [Settings.Err] reports type errors
// and the keys that no getter asked for.
//
// Values may have the types that YAML and JSON decoders produce: string,
// bool, int, int64, uint64, float64, []any and map[string]any. Numbers
// and booleans may also be strings, because values that come from
// environment variables are text.
//
// A Settings is not safe for concurrent use.
type Settings struct {
	path     string
	values   map[string]any
	used     map[string]bool
	children []*Settings
	errs     *[]error
}

// NewSettings returns a reader for m. A nil map has no settings.
func NewSettings(m map[string]any) *Settings {
	return &Settings{values: m, used: map[string]bool{}, errs: new([]error)}
}

func (s *Settings) field(key string) string {
	if s.path == "" {
		return key
	}
	return s.path + "." + key
}

func (s *Settings) lookup(key string) (any, bool) {
	s.used[key] = true
	v, ok := s.values[key]
	if !ok || v == nil {
		return nil, false
	}
	return v, true
}

// Fail records an error about key with the given reason. Drivers use it
// for checks that the getters cannot make, such as two settings that
// exclude each other.
func (s *Settings) Fail(key, value, reason string) {
	*s.errs = append(*s.errs, &ConfigError{Field: s.field(key), Value: value, Reason: reason})
}

// Has reports whether key is set to a non-nil value. It marks key as
// known.
func (s *Settings) Has(key string) bool {
	_, ok := s.lookup(key)
	return ok
}

// String returns the text value of key, or def when key is absent.
// Numbers and booleans are turned into text.
func (s *Settings) String(key, def string) string {
	v, ok := s.lookup(key)
	if !ok {
		return def
	}
	switch v := v.(type) {
	case string:
		return v
	case bool, int, int64, uint64, float64:
		return fmt.Sprint(v)
	}
	s.Fail(key, "", fmt.Sprintf("expected text, found %T", v))
	return def
}

// Secret is like [Settings.String] for a password, token or key. An
// error about it never contains the value.
func (s *Settings) Secret(key string) string {
	v, ok := s.lookup(key)
	if !ok {
		return ""
	}
	if str, ok := v.(string); ok {
		return str
	}
	s.Fail(key, "", fmt.Sprintf("expected text, found %T", v))
	return ""
}

// Path is like [Settings.String] for a file path, and expands a leading
// "~" or "~/" to the user's home directory.
func (s *Settings) Path(key, def string) string {
	p := s.String(key, def)
	expanded, err := ExpandHome(p)
	if err != nil {
		s.Fail(key, p, err.Error())
		return p
	}
	return expanded
}

// Int returns the integer value of key, or def when key is absent.
func (s *Settings) Int(key string, def int) int {
	v, ok := s.lookup(key)
	if !ok {
		return def
	}
	n, err := toInt(v)
	if err != nil {
		s.Fail(key, fmt.Sprint(v), err.Error())
		return def
	}
	return n
}

// Bool returns the boolean value of key, or def when key is absent.
// Strings accepted are those of [strconv.ParseBool].
func (s *Settings) Bool(key string, def bool) bool {
	v, ok := s.lookup(key)
	if !ok {
		return def
	}
	switch v := v.(type) {
	case bool:
		return v
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err == nil {
			return b
		}
	}
	s.Fail(key, fmt.Sprint(v), "expected true or false")
	return def
}

// Duration returns the duration value of key, or def when key is absent.
// A number is a count of milliseconds; a string is either such a number
// or a Go duration such as "1.5s" or "5m".
func (s *Settings) Duration(key string, def time.Duration) time.Duration {
	v, ok := s.lookup(key)
	if !ok {
		return def
	}
	d, err := toDuration(v)
	if err != nil {
		s.Fail(key, fmt.Sprint(v), err.Error())
		return def
	}
	return d
}

// Strings returns the list value of key, or nil when key is absent. A
// single string is a list of one.
func (s *Settings) Strings(key string) []string {
	v, ok := s.lookup(key)
	if !ok {
		return nil
	}
	switch v := v.(type) {
	case string:
		return []string{v}
	case []string:
		return slices.Clone(v)
	case []any:
		out := make([]string, 0, len(v))
		for i, item := range v {
			str, ok := item.(string)
			if !ok {
				s.Fail(fmt.Sprintf("%s[%d]", key, i), fmt.Sprint(item), "expected text")
				continue
			}
			out = append(out, str)
		}
		return out
	}
	s.Fail(key, fmt.Sprint(v), "expected a list of text")
	return nil
}

// Map returns a reader for the nested map under key. An absent key gives
// an empty reader; a value that is not a map is recorded as an error.
func (s *Settings) Map(key string) *Settings {
	child := &Settings{path: s.field(key), used: map[string]bool{}, errs: s.errs}
	s.children = append(s.children, child)

	v, ok := s.lookup(key)
	if !ok {
		return child
	}
	switch m := v.(type) {
	case map[string]any:
		child.values = m
	case map[any]any:
		child.values = make(map[string]any, len(m))
		for k, val := range m {
			child.values[fmt.Sprint(k)] = val
		}
	default:
		s.Fail(key, "", fmt.Sprintf("expected a map, found %T", v))
	}
	return child
}

// Err returns every problem found so far, joined, plus one error for
// each key that no getter asked for. Each is a *[ConfigError]. Err
// returns nil when there is none.
func (s *Settings) Err() error {
	errs := slices.Clone(*s.errs)
	errs = append(errs, s.unknown()...)
	return errors.Join(errs...)
}

func (s *Settings) unknown() []error {
	var errs []error
	keys := make([]string, 0, len(s.values))
	for key := range s.values {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	for _, key := range keys {
		if !s.used[key] {
			errs = append(errs, &ConfigError{Field: s.field(key), Reason: "unknown setting; check its spelling"})
		}
	}
	for _, child := range s.children {
		errs = append(errs, child.unknown()...)
	}
	return errs
}

func toInt(v any) (int, error) {
	switch v := v.(type) {
	case int:
		return v, nil
	case int64:
		return int(v), nil
	case uint64:
		if v > math.MaxInt32 {
			return 0, errors.New("number out of range")
		}
		return int(v), nil
	case float64:
		if v != math.Trunc(v) || math.Abs(v) > math.MaxInt32 {
			return 0, errors.New("expected an integer")
		}
		return int(v), nil
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return 0, errors.New("expected an integer")
		}
		return n, nil
	}
	return 0, fmt.Errorf("expected an integer, found %T", v)
}

func toDuration(v any) (time.Duration, error) {
	if str, ok := v.(string); ok {
		str = strings.TrimSpace(str)
		if d, err := time.ParseDuration(str); err == nil {
			if d < 0 {
				return 0, errors.New("expected a duration that is not negative")
			}
			return d, nil
		}
		v = str
	}
	ms, err := toInt(v)
	if err != nil {
		return 0, errors.New(`expected milliseconds or a duration such as "5s"`)
	}
	if ms < 0 {
		return 0, errors.New("expected a duration that is not negative")
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// ExpandHome replaces a leading "~" or "~/" in path with the user's home
// directory. Other paths are returned unchanged.
func ExpandHome(path string) (string, error) {
	if path != "~" && !strings.HasPrefix(path, "~/") {
		return path, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return path, fmt.Errorf("expand ~ in path: %w", err)
	}
	return filepath.Join(home, strings.TrimPrefix(path, "~")), nil
}

// Keys returns the sorted keys of the map and marks them all as known.
// Use it for maps whose keys are data, such as a map from port to URL.
func (s *Settings) Keys() []string {
	keys := make([]string, 0, len(s.values))
	for key := range s.values {
		s.used[key] = true
		keys = append(keys, key)
	}
	slices.Sort(keys)
	return keys
}
