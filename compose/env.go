package compose

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/tether-go/tether/expr"
)

// pathError is a mistake in the value at a YAML path, found while the
// project is built.
type pathError struct {
	path string
	msg  string
}

func (e *pathError) Error() string { return e.path + ": " + e.msg }

func pathErrorf(path, format string, args ...any) error {
	return &pathError{path: path, msg: fmt.Sprintf(format, args...)}
}

// addProblem reports err under the path it names, or under path.
func addProblem(ps *problems, path string, err error) {
	var pe *pathError
	if errors.As(err, &pe) {
		ps.add(pe.path, "%s", pe.msg)
		return
	}
	ps.add(path, "%v", err)
}

// envFields exposes environment variables as the "env" source.
type envFields func(string) (string, bool)

func (f envFields) Field(name string) (any, bool) {
	v, ok := f(name)
	if !ok {
		return nil, false
	}
	return v, true
}

func (p *Project) lookupEnv(name string) (string, bool) {
	if p.opts.LookupEnv != nil {
		return p.opts.LookupEnv(name)
	}
	return os.LookupEnv(name)
}

// expandValue evaluates the ${env.*} templates of a value that must be
// known when the project is built (ports, hosts, gateway settings,
// secrets), keeping the value's type: "${env.PORT | 22}" gives 22.
func (p *Project) expandValue(path string, v any) (any, error) {
	switch v := v.(type) {
	case string:
		if !strings.Contains(v, "${") {
			return v, nil
		}
		t, err := expr.Compile(v)
		if err != nil {
			return nil, pathErrorf(path, "%v", err)
		}
		for _, src := range t.Sources() {
			if src != "env" {
				return nil, pathErrorf(path, "only ${env.*} can be used here, not ${%s...}, because the value is needed when the project starts", src)
			}
		}
		out, err := t.Eval(expr.Sources{"env": expr.Of(envFields(p.lookupEnv))})
		if err != nil {
			return nil, pathErrorf(path, "%v", err)
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, item := range v {
			x, err := p.expandValue(joinPath(path, k), item)
			if err != nil {
				return nil, err
			}
			out[k] = x
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, item := range v {
			x, err := p.expandValue(fmt.Sprintf("%s[%d]", path, i), item)
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	}
	return v, nil
}

// expandString expands a string field to text.
func (p *Project) expandString(path, s string) (string, error) {
	v, err := p.expandValue(path, s)
	if err != nil {
		return "", err
	}
	return expr.Stringify(v), nil
}

// expandPort expands a port field; empty means def. Ports range from 1
// to 65535.
func (p *Project) expandPort(path string, s IntString, def int) (int, error) {
	n, err := p.expandInt(path, s, def)
	if err != nil {
		return 0, err
	}
	if n < 1 || n > 65535 {
		return 0, pathErrorf(path, "%d is outside 1-65535", n)
	}
	return n, nil
}

// expandInt expands an integer field; empty means def.
func (p *Project) expandInt(path string, s IntString, def int) (int, error) {
	text, err := p.expandString(path, string(s))
	if err != nil {
		return 0, err
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return def, nil
	}
	n, err := strconv.Atoi(text)
	if err != nil {
		return 0, pathErrorf(path, "invalid number %q", text)
	}
	return n, nil
}
