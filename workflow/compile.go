package workflow

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tether-go/tether/expr"
)

// compiledWorkflow is a checked Workflow with its templates compiled.
type compiledWorkflow struct {
	id          string
	title       string
	description string
	input       *expr.Template // nil passes the run's input through
	output      *expr.Template // nil makes the default output the run's output
	jobs        []*compiledJob
	ends        []int // indexes of the jobs that no other job depends on
}

// compiledJob is a checked Job, or a recovery job in OnError.
type compiledJob struct {
	id          string
	componentID string
	component   Component
	input       *expr.Template // nil means ${input}
	output      *expr.Template // nil keeps the component's output
	retry       Retry
	// groups lists the job's dependencies as indexes into the workflow's
	// jobs: every group must have at least one completed job.
	groups  [][]int
	onError []*compiledJob
}

// compileTemplate compiles a template given as a string or as a value
// decoded from YAML; nil gives a nil template.
func compileTemplate(v any) (*expr.Template, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case string:
		return expr.Compile(t)
	default:
		return expr.CompileValue(t)
	}
}

func compileWorkflow(w *Workflow, components map[string]Component) (*compiledWorkflow, error) {
	name := fmt.Sprintf("workflow %q", w.ID)
	cw := &compiledWorkflow{id: w.ID, title: w.Title, description: w.Description}

	var err error
	if cw.input, err = compileTemplate(w.Input); err != nil {
		return nil, invalidf("%s: input: %w", name, err)
	}
	if cw.output, err = compileTemplate(w.Output); err != nil {
		return nil, invalidf("%s: output: %w", name, err)
	}

	jobs := w.Jobs
	fields := make([]string, len(jobs))
	for i := range jobs {
		fields[i] = fmt.Sprintf("jobs[%d]", i)
	}
	if len(jobs) == 0 {
		if w.Component == "" {
			return nil, invalidf("%s: jobs: missing; list jobs or name a component", name)
		}
		if _, ok := components[w.Component]; !ok {
			return nil, invalidf("%s: component: unknown component %q; add it before the workflow", name, w.Component)
		}
		jobs = []Job{{ID: w.Component, Component: w.Component}}
		fields = []string{"component"}
	}

	index := make(map[string]int, len(jobs))
	ids := make([]string, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ID
		if ids[i] == "" {
			ids[i] = fmt.Sprintf("job-%d", i)
		}
		if scanJobID(ids[i]) != ids[i] {
			return nil, invalidf(`%s: %s.id: %q is not a valid job id; use letters, digits, "_" and "-" between them`, name, fields[i], ids[i])
		}
		if other, ok := index[ids[i]]; ok {
			return nil, invalidf("%s: %s.id: duplicate job id %q (also %s)", name, fields[i], ids[i], fields[other])
		}
		index[ids[i]] = i
	}

	for i := range jobs {
		cj, err := compileJob(&jobs[i], ids[i], name+": "+fields[i], components, index)
		if err != nil {
			return nil, err
		}
		cw.jobs = append(cw.jobs, cj)
	}
	for _, ref := range jobRefs(w.Output) {
		if _, ok := index[ref]; !ok {
			return nil, invalidf("%s: output: unknown job %q in ${jobs.%s...}", name, ref, ref)
		}
	}

	if err := checkCycles(cw.jobs, name, fields); err != nil {
		return nil, err
	}
	cw.ends = endJobs(cw.jobs)
	return cw, nil
}

// compileJob checks and compiles one job. field is the prefix of its
// error messages, such as `workflow "x": jobs[1]`.
func compileJob(j *Job, id, field string, components map[string]Component, index map[string]int) (*compiledJob, error) {
	cj, err := compileStep(j, id, field, components)
	if err != nil {
		return nil, err
	}

	self := index[id]
	for k, dep := range j.DependsOn {
		if len(dep) == 0 {
			return nil, invalidf("%s.depends_on[%d]: empty group; list at least one job id", field, k)
		}
		group := make([]int, 0, len(dep))
		for _, ref := range dep {
			other, ok := index[ref]
			if !ok {
				return nil, invalidf("%s.depends_on: unknown job %q", field, ref)
			}
			if other == self {
				return nil, invalidf("%s.depends_on: job %q depends on itself", field, ref)
			}
			group = append(group, other)
		}
		cj.groups = append(cj.groups, group)
	}

	// A reference to ${jobs.X...} in any template of the job or of its
	// recovery jobs makes X a dependency of its own.
	refFields := []struct {
		name  string
		value any
	}{{"input", j.Input}, {"output", j.Output}}
	for k := range j.OnError {
		refFields = append(refFields,
			struct {
				name  string
				value any
			}{fmt.Sprintf("on_error[%d].input", k), j.OnError[k].Input},
			struct {
				name  string
				value any
			}{fmt.Sprintf("on_error[%d].output", k), j.OnError[k].Output})
	}
	for _, rf := range refFields {
		for _, ref := range jobRefs(rf.value) {
			other, ok := index[ref]
			if !ok {
				return nil, invalidf("%s.%s: unknown job %q in ${jobs.%s...}", field, rf.name, ref, ref)
			}
			if other == self {
				return nil, invalidf("%s.%s: job %q refers to its own output", field, rf.name, ref)
			}
			cj.groups = append(cj.groups, []int{other})
		}
	}

	for k := range j.OnError {
		rj := &j.OnError[k]
		rfield := fmt.Sprintf("%s.on_error[%d]", field, k)
		if len(rj.DependsOn) > 0 {
			return nil, invalidf("%s.depends_on: not allowed in a recovery job", rfield)
		}
		if len(rj.OnError) > 0 {
			return nil, invalidf("%s.on_error: not allowed in a recovery job", rfield)
		}
		rid := rj.ID
		if rid == "" {
			rid = fmt.Sprintf("%s.on_error[%d]", id, k)
		}
		rc, err := compileStep(rj, rid, rfield, components)
		if err != nil {
			return nil, err
		}
		cj.onError = append(cj.onError, rc)
	}
	return cj, nil
}

// compileStep checks and compiles the fields that jobs and recovery jobs
// share: component, input, output and retry.
func compileStep(j *Job, id, field string, components map[string]Component) (*compiledJob, error) {
	if j.Component == "" {
		return nil, invalidf("%s.component: missing; name a component", field)
	}
	c, ok := components[j.Component]
	if !ok {
		return nil, invalidf("%s.component: unknown component %q; add it before the workflow", field, j.Component)
	}
	if j.Retry.MaxRetryCount < 0 {
		return nil, invalidf("%s.retry.max_retry_count: %d is negative", field, j.Retry.MaxRetryCount)
	}
	if j.Retry.Delay < 0 {
		return nil, invalidf("%s.retry.delay: %s is negative", field, j.Retry.Delay)
	}

	cj := &compiledJob{id: id, componentID: j.Component, component: c, retry: j.Retry}
	var err error
	if cj.input, err = compileTemplate(j.Input); err != nil {
		return nil, invalidf("%s.input: %w", field, err)
	}
	if cj.output, err = compileTemplate(j.Output); err != nil {
		return nil, invalidf("%s.output: %w", field, err)
	}
	return cj, nil
}

// checkCycles reports jobs that can never start because their
// dependencies, explicit or through ${jobs.ID} references, form a cycle.
// A job can start once every one of its groups has a job that can start,
// so an OR group with one member outside the cycle breaks it.
func checkCycles(jobs []*compiledJob, name string, fields []string) error {
	ready := make([]bool, len(jobs))
	for changed := true; changed; {
		changed = false
		for i, j := range jobs {
			if !ready[i] && groupsMet(j.groups, ready) {
				ready[i] = true
				changed = true
			}
		}
	}
	start := slices.Index(ready, false)
	if start < 0 {
		return nil
	}

	// Every job that cannot start has a group whose jobs cannot start
	// either. Following such groups from job to job must come back to a
	// job already seen, and that closes a cycle.
	seen := make(map[int]int) // job index -> position in path
	var path []int
	for i := start; ; {
		if pos, ok := seen[i]; ok {
			path = append(path[pos:], i)
			break
		}
		seen[i] = len(path)
		path = append(path, i)
		i = blockedGroup(jobs[i].groups, ready)[0]
	}
	names := make([]string, len(path))
	for k, i := range path {
		names[k] = jobs[i].id
	}
	return invalidf("%s: %s.depends_on: dependency cycle %s; a ${jobs.ID} reference also counts as a dependency",
		name, fields[path[0]], strings.Join(names, " -> "))
}

func groupsMet(groups [][]int, done []bool) bool {
	return blockedGroup(groups, done) == nil
}

// blockedGroup returns the first group without a done job, or nil.
func blockedGroup(groups [][]int, done []bool) []int {
	for _, g := range groups {
		if !slices.ContainsFunc(g, func(i int) bool { return done[i] }) {
			return g
		}
	}
	return nil
}

// endJobs returns the indexes of the jobs that no other job depends on.
func endJobs(jobs []*compiledJob) []int {
	needed := make([]bool, len(jobs))
	for _, j := range jobs {
		for _, g := range j.groups {
			for _, i := range g {
				needed[i] = true
			}
		}
	}
	var ends []int
	for i := range jobs {
		if !needed[i] {
			ends = append(ends, i)
		}
	}
	return ends
}

// jobRefs returns the job ids that a template value refers to as
// ${jobs.ID...}, in order of first appearance. It looks into every
// string of maps and lists, and only inside ${...} (not after the escape
// $${). A job id is made of letters, digits and "_", with single "-"
// between them, as in the template language's paths.
//
// NOTE: a bare ${jobs} or a bracketed ${jobs["id"]} adds no dependency.
func jobRefs(v any) []string {
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case string:
			for _, ref := range jobRefsInText(t) {
				if !slices.Contains(refs, ref) {
					refs = append(refs, ref)
				}
			}
		case map[string]any:
			for _, k := range sortedKeys(t) {
				walk(t[k])
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(v)
	return refs
}

func jobRefsInText(s string) []string {
	var refs []string
	depth := 0
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			depth++
			i += 2
		case s[i] == '}' && depth > 0:
			depth--
			i++
		case depth > 0 && strings.HasPrefix(s[i:], "jobs.") && (i == 0 || !isPathChar(s[i-1])):
			id := scanJobID(s[i+len("jobs."):])
			if id != "" {
				refs = append(refs, id)
			}
			i += len("jobs.") + len(id)
		default:
			i++
		}
	}
	return refs
}

// scanJobID returns the job id at the start of s.
func scanJobID(s string) string {
	end := 0
	for end < len(s) {
		c := s[end]
		if isIdentChar(c) {
			end++
			continue
		}
		// A "-" belongs to the id only between identifier characters.
		if c == '-' && end > 0 && end+1 < len(s) && isIdentChar(s[end+1]) {
			end++
			continue
		}
		break
	}
	return s[:end]
}

func isIdentChar(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isPathChar(c byte) bool {
	return isIdentChar(c) || c == '.' || c == '-' || c == ':'
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
