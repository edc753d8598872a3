package compose

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a YAML duration: a number is milliseconds (timeout: 300000),
// a string is a Go duration ("5m", "1m30s", "250ms"), and a ${env.*}
// template such as "${env.WAIT | 5m}" is expanded by [New].
type Duration struct {
	// Value is the duration, when it was written as a number or a
	// duration string.
	Value time.Duration
	// Template is the ${env.*} template it was written as, if any.
	Template string
}

// Dur returns a Duration of d, for configurations built in Go.
func Dur(d time.Duration) Duration { return Duration{Value: d} }

// UnmarshalYAML decodes a number of milliseconds, a duration string or a
// template.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if strings.Contains(n.Value, "${") {
		*d = Duration{Template: n.Value}
		return nil
	}
	v, err := parseDuration(n.Value)
	if err != nil {
		return &fieldError{line: n.Line, column: n.Column, msg: err.Error()}
	}
	*d = Duration{Value: v}
	return nil
}

func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if ms, err := strconv.ParseFloat(s, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		switch {
		case math.IsNaN(ms):
			return 0, fmt.Errorf("invalid duration %s: write milliseconds as a number (300000) or a duration such as \"5m\"", s)
		case ms < 0:
			return 0, fmt.Errorf("invalid duration %s: must not be negative", s)
		case ms*float64(time.Millisecond) >= math.MaxInt64:
			return 0, fmt.Errorf("invalid duration %s: too large; the maximum is about 292 years", s)
		}
		return time.Duration(ms * float64(time.Millisecond)), nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: write milliseconds as a number (300000) or a duration such as \"5m\"", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("invalid duration %q: must not be negative", s)
	}
	return v, nil
}

// IntString is an integer that YAML may give as a number or as a
// template over ${env.*}, such as "${env.PORT | 8090}". The template is
// expanded when the project is built.
type IntString string

// UnmarshalYAML accepts a scalar.
func (v *IntString) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &fieldError{line: n.Line, column: n.Column, msg: "must be a number or a ${env.*} template"}
	}
	*v = IntString(n.Value)
	return nil
}

// ByteSize is a size in bytes: a number, or a string with a unit (KB,
// KiB, MB, MiB, GB, GiB).
type ByteSize int64

// UnmarshalYAML decodes a byte count.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	v, err := parseByteSize(n.Value)
	if err != nil {
		return &fieldError{line: n.Line, column: n.Column, msg: err.Error()}
	}
	*b = ByteSize(v)
	return nil
}

func parseByteSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		scale  int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
		{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000},
		{"B", 1},
	}
	scale := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s = strings.TrimSpace(strings.TrimSuffix(s, u.suffix))
			scale = u.scale
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q: write a number of bytes or a size such as \"10MiB\"", s)
	}
	if n > math.MaxInt64/scale {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	return n * scale, nil
}

// PortList is a gateway's port field: one port form or a list of them.
// Each form is kept as written ("8090", "9834:8090") and parsed by the
// gateway package.
type PortList []string

// UnmarshalYAML accepts a scalar or a sequence of scalars.
func (p *PortList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*p = PortList{n.Value}
		return nil
	case yaml.SequenceNode:
		out := make(PortList, 0, len(n.Content))
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return &fieldError{line: c.Line, column: c.Column, msg: "each port must be a number or a string such as \"9834:8090\""}
			}
			out = append(out, c.Value)
		}
		*p = out
		return nil
	}
	return &fieldError{line: n.Line, column: n.Column, msg: "must be a port, a string such as \"9834:8090\", or a list of them"}
}

// fieldError is a decoding error raised by the custom types above; the
// loader adds the YAML path.
type fieldError struct {
	line, column int
	msg          string
}

func (e *fieldError) Error() string { return e.msg }
