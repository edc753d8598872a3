package compose

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// DefaultFiles are the file names [FindFile] looks for, in order.
var DefaultFiles = []string{"tether.yml", "tether.yaml", "model-compose.yml", "model-compose.yaml"}

// FindFile returns the first of [DefaultFiles] that exists in the current
// directory.
func FindFile() (string, error) {
	for _, name := range DefaultFiles {
		if _, err := os.Stat(name); err == nil {
			return name, nil
		}
	}
	return "", fmt.Errorf("compose: no configuration file found: create tether.yml or pass -f FILE (looked for %s)", strings.Join(DefaultFiles, ", "))
}

// Load reads and parses a YAML file. See [Parse].
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("compose: read configuration: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes a YAML configuration and checks its structure: unknown
// keys, value types and required fields. The name is used in error
// messages. Problems are returned together as [Problems]; each wraps
// [ErrInvalidConfig]. Parse does not check references between sections
// or compile templates: [New] does.
func Parse(data []byte, name string) (*Config, error) {
	ps := &problems{file: name, lines: map[string]int{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		ps.list = append(ps.list, &Problem{File: name, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")})
		return nil, ps.err()
	}

	cfg := &Config{}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		ps.add("", "the file is empty: define at least a workflow, a listener or a gateway")
		return nil, ps.err()
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		ps.list = append(ps.list, &Problem{File: name, Line: root.Line, Msg: "the top level must be a mapping with keys such as listener, gateway, components and workflow"})
		return nil, ps.err()
	}
	if checkSize(root, ps) {
		return nil, ps.err()
	}

	d := &decoder{ps: ps, columns: map[string]int{}}
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i], root.Content[i+1]
		ps.lines[key.Value] = key.Line
		d.section(cfg, key.Value, val)
	}
	if err := ps.err(); err != nil {
		return nil, err
	}

	validateStructure(cfg, ps)
	if err := ps.err(); err != nil {
		return nil, err
	}
	cfg.file, cfg.lines = name, ps.lines
	return cfg, nil
}

// maxMappingKeys bounds the keys of one YAML mapping. The YAML decoder
// checks a mapping's keys for duplicates pair by pair, in time quadratic
// in their number, so larger mappings are rejected before decoding.
const maxMappingKeys = 10_000

// checkSize reports mappings with more than maxMappingKeys keys, walking
// the tree once. It returns true when it found any.
func checkSize(n *yaml.Node, ps *problems) bool {
	found := false
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if n == nil || depth > 10_000 {
			return
		}
		if n.Kind == yaml.MappingNode && len(n.Content)/2 > maxMappingKeys {
			ps.list = append(ps.list, &Problem{File: ps.file, Line: n.Line,
				Msg: fmt.Sprintf("a mapping with %d keys: at most %d keys per mapping are accepted", len(n.Content)/2, maxMappingKeys)})
			found = true
			return
		}
		for _, c := range n.Content {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return found
}

var topKeys = []string{"listener", "listeners", "gateway", "gateways", "component", "components", "workflow", "workflows", "controller", "state"}

type decoder struct {
	ps *problems
	// columns records the column of each key, by YAML path, so that a
	// value error on a line with several keys ({a: 1, b: x}) is reported
	// under the right one.
	columns map[string]int
}

func (d *decoder) section(cfg *Config, key string, n *yaml.Node) {
	switch key {
	case "listener":
		decodeBlock(d, n, key, &cfg.Listeners)
	case "listeners":
		d.eachItem(n, key, func(c *yaml.Node, path string) { decodeBlock(d, c, path, &cfg.Listeners) })
	case "gateway":
		decodeBlock(d, n, key, &cfg.Gateways)
	case "gateways":
		d.eachItem(n, key, func(c *yaml.Node, path string) { decodeBlock(d, c, path, &cfg.Gateways) })
	case "component":
		decodeBlock(d, n, key, &cfg.Components)
	case "components":
		d.components(cfg, n)
	case "workflow":
		decodeBlock(d, n, key, &cfg.Workflows)
	case "workflows":
		d.workflows(cfg, n)
	case "controller":
		if d.decode(n, "controller", &cfg.Controller) {
			cfg.Controller.set = true
		}
	case "state":
		d.decode(n, "state", &cfg.State)
	default:
		d.ps.add(key, "unknown top-level key; the known keys are %s", strings.Join(topKeys, ", "))
	}
}

// decodeBlock decodes the block n at path and appends it to list,
// recording path for later messages.
func decodeBlock[T any, P interface {
	*T
	setPath(string)
}](d *decoder, n *yaml.Node, path string, list *[]T) {
	var v T
	if d.decode(n, path, &v) {
		P(&v).setPath(path)
		*list = append(*list, v)
	}
}

func (d *decoder) eachItem(n *yaml.Node, path string, f func(*yaml.Node, string)) {
	if n.Kind != yaml.SequenceNode {
		d.ps.add(path, "must be a list")
		return
	}
	for i, c := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		d.ps.lines[p] = c.Line
		f(c, p)
	}
}

// eachBlock calls f for each block of a section that may be written as a
// mapping from id to block (id is then the key) or as a list (id is "").
func (d *decoder) eachBlock(n *yaml.Node, section string, f func(c *yaml.Node, path, id string)) {
	if n.Kind != yaml.MappingNode {
		d.eachItem(n, section, func(c *yaml.Node, path string) { f(c, path, "") })
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		id := n.Content[i].Value
		path := section + "." + id
		d.ps.lines[path] = n.Content[i].Line
		f(n.Content[i+1], path, id)
	}
}

// components accepts a mapping from id to component (the usual form) or
// a list of components with an id field.
func (d *decoder) components(cfg *Config, n *yaml.Node) {
	d.eachBlock(n, "components", func(node *yaml.Node, path, id string) {
		var c Component
		if !d.decode(node, path, &c) {
			return
		}
		if id != "" {
			if c.ID != "" && c.ID != id {
				d.ps.add(path+".id", "id %q differs from its key %q: remove the id field or make them equal", c.ID, id)
			}
			c.ID = id
		}
		c.path = path
		cfg.Components = append(cfg.Components, c)
	})
}

// workflows accepts a list of workflows or a mapping from id to
// workflow.
func (d *decoder) workflows(cfg *Config, n *yaml.Node) {
	d.eachBlock(n, "workflows", func(node *yaml.Node, path, id string) {
		var w Workflow
		if !d.decode(node, path, &w) {
			return
		}
		if w.ID == "" {
			w.ID = id
		}
		w.path = path
		cfg.Workflows = append(cfg.Workflows, w)
	})
}

// decode checks n's keys against out's type, then decodes it. It
// reports false when anything was wrong.
func (d *decoder) decode(n *yaml.Node, path string, out any) bool {
	if n.Kind != yaml.MappingNode {
		d.ps.lines[path] = n.Line
		d.ps.add(path, "must be a mapping of fields")
		return false
	}
	before := len(d.ps.list)
	d.checkKeys(n, reflect.TypeOf(out).Elem(), path)
	if len(d.ps.list) > before {
		return false
	}
	if err := n.Decode(out); err != nil {
		d.decodeError(path, err)
		return false
	}
	return true
}

func (d *decoder) decodeError(path string, err error) {
	var fe *fieldError
	if errors.As(err, &fe) {
		d.ps.list = append(d.ps.list, &Problem{File: d.ps.file, Line: fe.line, Path: d.pathAt(path, fe.line, fe.column), Msg: fe.msg})
		return
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		for _, msg := range te.Errors {
			d.ps.list = append(d.ps.list, &Problem{File: d.ps.file, Path: path, Msg: friendlyTypeError(msg)})
		}
		return
	}
	d.ps.add(path, "%v", err)
}

// pathAt finds the path below prefix whose key is on line, nearest
// before column: the key whose value is at that position.
func (d *decoder) pathAt(prefix string, line, column int) string {
	best, bestColumn := prefix, -1
	for p, l := range d.ps.lines {
		if l != line || !strings.HasPrefix(p, prefix) {
			continue
		}
		c := d.columns[p]
		if c <= column && (c > bestColumn || c == bestColumn && len(p) > len(best)) {
			best, bestColumn = p, c
		}
	}
	return best
}

// friendlyTypeError rewrites yaml's "line 3: cannot unmarshal !!str `x`
// into int" into plain words.
func friendlyTypeError(msg string) string {
	r := strings.NewReplacer("!!str", "text", "!!int", "number", "!!float", "number", "!!bool", "boolean", "!!map", "mapping", "!!seq", "list", "cannot unmarshal", "cannot use", " into ", " as ")
	return r.Replace(msg)
}

// checkKeys reports keys of the mapping n that the struct type t does not
// define, recursing into nested structs, and records each key's line.
func (d *decoder) checkKeys(n *yaml.Node, t reflect.Type, path string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields, open := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			p := joinPath(path, key.Value)
			d.ps.lines[p] = key.Line
			d.columns[p] = key.Column
			ft, ok := fields[key.Value]
			if !ok {
				if !open {
					d.ps.add(p, "unknown field; the known fields are %s", strings.Join(sortedKeys(fields), ", "))
				}
				continue
			}
			d.checkKeys(val, ft, p)
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			d.ps.lines[p] = c.Line
			d.checkKeys(c, t.Elem(), p)
		}
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// yamlFields maps the YAML keys of struct t to their types. open reports
// an inline map that takes any other key.
func yamlFields(t reflect.Type) (fields map[string]reflect.Type, open bool) {
	fields = map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "" || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if opts == "inline" {
			if f.Type.Kind() == reflect.Map {
				open = true
				continue
			}
			inner, innerOpen := yamlFields(f.Type)
			for k, v := range inner {
				fields[k] = v
			}
			open = open || innerOpen
			continue
		}
		fields[name] = f.Type
	}
	return fields, open
}

func sortedKeys(m map[string]reflect.Type) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
