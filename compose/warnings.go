package compose

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
)

// unsetEnvRef matches ${env.NAME} without a default.
var unsetEnvRef = regexp.MustCompile(`\$\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}`)

// Warnings returns what in the project's configuration is valid but
// probably a mistake; see [Config.Warnings].
func (p *Project) Warnings() []string { return p.cfg.Warnings(p.lookupEnv) }

// Warnings returns what is valid but probably a mistake, one line each:
// a ${env.NAME} without a default whose variable is not set, which
// renders as nothing when the project runs. lookupEnv reads the
// environment; nil means os.LookupEnv. tether validate prints them.
func (c *Config) Warnings(lookupEnv func(string) (string, bool)) []string {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}

	seen := map[string]bool{}
	var out []string
	check := func(path, s string) {
		// "$${" is a literal "${", not a reference.
		s = strings.ReplaceAll(s, "$${", "")
		for _, m := range unsetEnvRef.FindAllStringSubmatch(s, -1) {
			name := m[1]
			if _, ok := lookupEnv(name); ok || seen[path+name] {
				continue
			}
			seen[path+name] = true
			out = append(out, fmt.Sprintf("%s: ${env.%s} is not set and has no default; set it, or write ${env.%s | default}", path, name, name))
		}
	}

	for i := range c.Listeners {
		walkStrings(reflect.ValueOf(c.Listeners[i]), c.Listeners[i].pathOr(i), check)
	}
	for i := range c.Gateways {
		walkStrings(reflect.ValueOf(c.Gateways[i]), c.Gateways[i].pathOr(i), check)
	}
	for i := range c.Components {
		walkStrings(reflect.ValueOf(c.Components[i]), c.Components[i].pathOr(i), check)
	}
	for i := range c.Workflows {
		walkStrings(reflect.ValueOf(c.Workflows[i]), c.Workflows[i].pathOr(i), check)
	}
	walkStrings(reflect.ValueOf(c.Controller), "controller", check)
	walkStrings(reflect.ValueOf(c.State), "state", check)

	sort.Strings(out)
	return out
}

// walkStrings calls f with the YAML path of every string in v: struct
// fields by their yaml names, map values by key, list items by index.
func walkStrings(v reflect.Value, path string, f func(path, s string)) {
	switch v.Kind() {
	case reflect.String:
		f(path, v.String())
	case reflect.Interface, reflect.Pointer:
		if !v.IsNil() {
			walkStrings(v.Elem(), path, f)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < v.NumField(); i++ {
			field := t.Field(i)
			if !field.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(field.Tag.Get("yaml"), ",")
			switch {
			case opts == "inline":
				walkStrings(v.Field(i), path, f)
			case name == "" || name == "-":
				walkStrings(v.Field(i), joinPath(path, strings.ToLower(field.Name)), f)
			default:
				walkStrings(v.Field(i), joinPath(path, name), f)
			}
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			walkStrings(v.MapIndex(k), joinPath(path, fmt.Sprint(k.Interface())), f)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			walkStrings(v.Index(i), fmt.Sprintf("%s[%d]", path, i), f)
		}
	}
}
