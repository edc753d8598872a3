package compose

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/go-playground/validator/v10"
)

var (
	validateOnce sync.Once
	validate     *validator.Validate
)

func structValidator() *validator.Validate {
	validateOnce.Do(func() {
		validate = validator.New(validator.WithRequiredStructEnabled())
		validate.RegisterTagNameFunc(func(f reflect.StructField) string {
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if opts == "inline" {
				return "-inline-"
			}
			if name == "" || name == "-" {
				return f.Name
			}
			return name
		})
	})
	return validate
}

// validateStructure runs the validator tags of every section and the
// checks that need no other section.
func validateStructure(cfg *Config, ps *problems) {
	for _, l := range cfg.Listeners {
		checkStruct(ps, l.path, l)
		checkRuntime(ps, l.path, l.Runtime)
		checkListener(ps, l)
	}
	for _, g := range cfg.Gateways {
		checkStruct(ps, g.path, g)
		checkRuntime(ps, g.path, g.Runtime)
	}
	for _, c := range cfg.Components {
		checkStruct(ps, c.path, c)
		checkRuntime(ps, c.path, c.Runtime)
	}
	for _, w := range cfg.Workflows {
		checkStruct(ps, w.path, w)
	}
	checkRuntime(ps, "controller", cfg.Controller.Runtime)
	checkStruct(ps, "state", cfg.State)
}

func checkRuntime(ps *problems, path, runtime string) {
	switch runtime {
	case "", "native":
	case "docker":
		ps.add(path+".runtime", "docker is not supported: tether runs every listener, gateway and component in its own process; remove the field or set it to native")
	default:
		ps.add(path+".runtime", "unknown runtime %q: the only supported runtime is native", runtime)
	}
}

// checkStruct applies the validator tags of v and reports each failure
// under prefix.
func checkStruct(ps *problems, prefix string, v any) {
	err := structValidator().Struct(v)
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return
	}
	for _, fe := range verrs {
		path := fieldPath(prefix, fe.Namespace())
		msg := describe(fe)
		sec := section(prefix)
		if strings.Contains(path, ".completion.") {
			sec = "completion"
		}
		if hint := requiredHints[fe.Field()+"@"+sec]; hint != "" && fe.Tag() == "required" {
			msg += ": " + hint
		}
		ps.add(path, "%s", msg)
	}
}

// fieldPath turns the validator's namespace ("Listener.callbacks[1].path")
// into the YAML path below prefix.
func fieldPath(prefix, namespace string) string {
	_, rest, ok := strings.Cut(namespace, ".")
	if !ok {
		return prefix
	}
	rest = strings.ReplaceAll(rest, "-inline-.", "")
	return joinPath(prefix, rest)
}

// requiredHints tell what to write in a required field, keyed by
// field@section.
var requiredHints = map[string]string{
	"type@listener":   "set http-callback (to receive results for waiting workflows) or http-trigger (to start workflows)",
	"type@gateway":    "set http-tunnel (with driver ngrok, cloudflare, local or static) or ssh-tunnel",
	"type@component":  "set http-client, the component type that YAML defines",
	"type@completion": "set callback or polling",
	"id@job":          "name the job, such as generate",
}

// section returns the kind of section a YAML path points into.
func section(path string) string {
	first, _, _ := strings.Cut(path, ".")
	first, _, _ = strings.Cut(first, "[")
	switch first {
	case "listener", "listeners":
		return "listener"
	case "gateway", "gateways":
		return "gateway"
	case "component", "components":
		return "component"
	}
	return first
}

func describe(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return "required"
	case "oneof":
		return fmt.Sprintf("invalid value %q: use one of %s", fmt.Sprint(fe.Value()), strings.ReplaceAll(fe.Param(), " ", ", "))
	case "gte":
		return fmt.Sprintf("invalid value %v: must be at least %s", fe.Value(), fe.Param())
	}
	return fmt.Sprintf("invalid value %v (%s %s)", fe.Value(), fe.Tag(), fe.Param())
}

var methods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

// endpoints returns a listener's routes with their YAML paths: the
// callbacks or triggers list, or the single route at the top level.
func (l Listener) endpoints() ([]Endpoint, []string) {
	list, key := l.Callbacks, "callbacks"
	if l.Type == "http-trigger" {
		list, key = l.Triggers, "triggers"
	}
	if len(list) == 0 {
		return []Endpoint{l.Endpoint}, []string{l.path}
	}
	paths := make([]string, len(list))
	for i := range list {
		paths[i] = fmt.Sprintf("%s.%s[%d]", l.path, key, i)
	}
	return list, paths
}

func checkListener(ps *problems, l Listener) {
	switch l.Type {
	case "http-callback":
		if len(l.Triggers) > 0 {
			ps.add(l.path+".triggers", "an http-callback listener takes callbacks, not triggers: rename the key or set type: http-trigger")
		}
	case "http-trigger":
		if len(l.Callbacks) > 0 {
			ps.add(l.path+".callbacks", "an http-trigger listener takes triggers, not callbacks: rename the key or set type: http-callback")
		}
	default:
		return
	}
	eps, paths := l.endpoints()
	if len(eps) > 1 && l.Endpoint.Path != "" {
		ps.add(l.path+".path", "set either a top-level path or a list of routes, not both")
	}
	for i, ep := range eps {
		checkEndpoint(ps, l.Type, paths[i], ep)
	}
}

func checkEndpoint(ps *problems, kind, path string, ep Endpoint) {
	if ep.Path == "" {
		ps.add(path+".path", "required: the route of this endpoint, such as /callback")
	} else if !strings.HasPrefix(ep.Path, "/") {
		ps.add(path+".path", "invalid path %q: must start with /", ep.Path)
	}
	if ep.Method != "" && !contains(methods, strings.ToUpper(ep.Method)) {
		ps.add(path+".method", "invalid method %q: use one of %s", ep.Method, strings.Join(methods, ", "))
	}
	if ep.Bulk && ep.Item == "" {
		ps.add(path+".item", "required when bulk is true: the array to iterate, such as ${body.results}")
	}
	if kind == "http-callback" {
		if ep.Workflow != "" {
			ps.add(path+".workflow", "a callback does not start a workflow: use an http-trigger listener, or remove the field")
		}
		if ep.IdempotencyKey != "" {
			ps.add(path+".idempotency_key", "only trigger routes take an idempotency key; callbacks drop duplicates by id already")
		}
		return
	}
	if ep.Workflow == "" {
		ps.add(path+".workflow", "required: the id of the workflow this trigger starts")
	}
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"identify_by", ep.IdentifyBy != ""},
		{"status", ep.Status != ""},
		{"success_when", ep.SuccessWhen != nil},
		{"fail_when", ep.FailWhen != nil},
		{"result", ep.Result != nil},
	} {
		if f.set {
			ps.add(path+"."+f.name, "a trigger does not take %s: it belongs to http-callback routes", f.name)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
