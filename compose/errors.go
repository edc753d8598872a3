package compose

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidConfig is wrapped by every error that [Parse], [Load] and
// [New] return for a configuration mistake.
var ErrInvalidConfig = errors.New("compose: invalid configuration")

// Problem is one configuration mistake, located by its YAML path (such
// as "listener.callbacks[1].path") and, when known, its file and line.
type Problem struct {
	File string
	Line int
	Path string
	Msg  string
}

func (p *Problem) Error() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	} else if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Unwrap returns [ErrInvalidConfig].
func (p *Problem) Unwrap() error { return ErrInvalidConfig }

// Problems is the list of mistakes found in one configuration. Its
// Error method puts one problem on each line.
type Problems []*Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems, so that errors.Is and errors.As see each
// of them.
func (ps Problems) Unwrap() []error {
	out := make([]error, len(ps))
	for i, p := range ps {
		out[i] = p
	}
	return out
}

// problems collects mistakes while a configuration is checked.
type problems struct {
	file  string
	lines map[string]int
	list  Problems
}

func (ps *problems) add(path, format string, args ...any) {
	ps.list = append(ps.list, &Problem{
		File: ps.file,
		Line: ps.line(path),
		Path: path,
		Msg:  fmt.Sprintf(format, args...),
	})
}

// line returns the line of path, or of its nearest parent that has one.
func (ps *problems) line(path string) int {
	for path != "" {
		if l, ok := ps.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	return ps.list
}
