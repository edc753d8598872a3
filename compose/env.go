package compose

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/tether-go/tether/expr"
)

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
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for _, src := range t.Sources() {
			if src != "env" {
				return nil, fmt.Errorf("%s: only ${env.*} can be used here, not ${%s...}, because the value is needed when the project starts", path, src)
			}
		}
		out, err := t.Eval(expr.Sources{"env": expr.Of(envFields(p.lookupEnv))})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
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
		return 0, fmt.Errorf("%s: invalid number %q", path, text)
	}
	return n, nil
}
