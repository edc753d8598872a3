package compose

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/tether-go/tether/expr"
	"github.com/tether-go/tether/gateway"
	"github.com/tether-go/tether/listener"
	"github.com/tether-go/tether/verify"
	"github.com/tether-go/tether/waiter"
	"github.com/tether-go/tether/workflow"
)

func (p *Project) buildGateways(ps *problems) {
	for i := range p.cfg.Gateways {
		gc := &p.cfg.Gateways[i]
		path := gc.pathOr(i)
		raw := map[string]any{}
		for k, v := range gc.Settings {
			raw[k] = v
		}
		raw["type"] = gc.Type
		if gc.Driver != "" {
			raw["driver"] = gc.Driver
		}
		if gc.Connection != nil {
			raw["connection"] = gc.Connection
		}
		if len(gc.Port) > 0 {
			ports := make([]any, len(gc.Port))
			for j, s := range gc.Port {
				ports[j] = s
			}
			raw["port"] = ports
		}
		expanded, err := p.expandValue(path, raw)
		if err != nil {
			addProblem(ps, path, err)
			continue
		}
		cfg, err := gateway.ParseConfig(expanded.(map[string]any))
		if err != nil {
			ps.add(path, "%v", err)
			p.gatewayFailed = true
			continue
		}
		// The gateway logs "gateway <driver>: <public URL> -> <port>"
		// itself whenever an endpoint becomes ready or changes.
		g, err := gateway.New(cfg, &gateway.Options{Logger: p.log, Registry: p.opts.Drivers, OnTunnel: p.tunnelObserver()})
		if err != nil {
			ps.add(path, "%v", err)
			p.gatewayFailed = true
			continue
		}
		for _, port := range g.Ports() {
			if other, dup := p.gwByPort[port]; dup && other != nil {
				ps.add(path+".port", "local port %d is already served by another gateway", port)
				continue
			}
			p.gwByPort[port] = g
		}
		p.gateways = append(p.gateways, g)
	}
}

func (g *Gateway) pathOr(i int) string {
	if g.path != "" {
		return g.path
	}
	return fmt.Sprintf("gateways[%d]", i)
}

func (c *Component) pathOr(i int) string {
	if c.path != "" {
		return c.path
	}
	return fmt.Sprintf("components[%d]", i)
}

func (w *Workflow) pathOr(i int) string {
	if w.path != "" {
		return w.path
	}
	return fmt.Sprintf("workflows[%d]", i)
}

func (l *Listener) pathOr(i int) string {
	if l.path != "" {
		return l.path
	}
	return fmt.Sprintf("listeners[%d]", i)
}

// componentID returns the id under which a component is registered.
func componentID(c Component) string {
	if c.ID != "" {
		return c.ID
	}
	return DefaultComponentID
}

func (p *Project) buildComponents(ps *problems) {
	ids := map[string]string{}
	for i := range p.cfg.Components {
		c := p.cfg.Components[i]
		path := c.pathOr(i)
		id := componentID(c)
		if prev, dup := ids[id]; dup {
			ps.add(path+".id", "duplicate component id %q (also used by %s)", id, prev)
			continue
		}
		ids[id] = path
		switch c.Type {
		case "http-client":
			cfg, err := p.httpClient(path, c)
			if err != nil {
				ps.add(path, "%v", err)
				continue
			}
			if err := p.engine.AddHTTPClient(id, cfg); err != nil {
				addEngineProblem(ps, path, err)
			}
		case "":
			// reported by the structure check
		default:
			ps.add(path+".type", "unsupported component type %q: YAML defines http-client components; write other components in Go and pass them in compose.Options.Components", c.Type)
		}
	}
	names := make([]string, 0, len(p.opts.Components))
	for id := range p.opts.Components {
		names = append(names, id)
	}
	sort.Strings(names)
	for _, id := range names {
		if prev, dup := ids[id]; dup {
			ps.add(prev, "component %q is defined in YAML and also passed in Options.Components; rename one of them", id)
			continue
		}
		if err := p.engine.AddComponent(id, p.opts.Components[id]); err != nil {
			ps.add("components."+id, "%s", trimPrefix(err))
		}
	}
}

func trimPrefix(err error) string {
	return strings.TrimPrefix(err.Error(), "workflow: ")
}

// fieldPrefix matches the start of the workflow engine's messages: a
// field path such as "jobs[1].depends_on" followed by ": ".
var fieldPrefix = regexp.MustCompile(`^([a-z_]+(\[[0-9]+\])?)(\.[a-z_]+(\[[0-9]+\])?)*: `)

// addEngineProblem reports an error of the workflow engine under the YAML
// path of the section it came from, moving the field the engine names
// (`workflow "x": jobs[0].component: ...`) into the path.
func addEngineProblem(ps *problems, base string, err error) {
	msg := trimPrefix(err)
	for _, kind := range []string{"workflow ", "component "} {
		if rest, ok := strings.CutPrefix(msg, kind+`"`); ok {
			if i := strings.Index(rest, `": `); i >= 0 {
				msg = rest[i+3:]
			}
		}
	}
	if m := fieldPrefix.FindString(msg); m != "" {
		base = joinPath(base, strings.TrimSuffix(m, ": "))
		msg = msg[len(m):]
	}
	msg = strings.Replace(msg, "; add it before the workflow", "; define it under components, or register it in Go with compose.Options.Components", 1)
	ps.add(base, "%s", msg)
}

func (p *Project) httpClient(path string, c Component) (*workflow.HTTPClient, error) {
	if c.BaseURL == "" && c.Endpoint == "" {
		return nil, fmt.Errorf("base_url or endpoint is required: the address of the API this component calls")
	}
	cfg := &workflow.HTTPClient{
		BaseURL:  c.BaseURL,
		Path:     c.Path,
		Endpoint: c.Endpoint,
		Method:   strings.ToUpper(c.Method),
		Headers:  c.Headers,
		Params:   c.Params,
		Body:     c.Body,
		Output:   c.Output,
		Timeout:  p.dur(path+".timeout", c.Timeout),
	}
	if cc := c.Completion; cc != nil {
		cfg.Completion = &workflow.Completion{
			Type:        workflow.CompletionType(cc.Type),
			Timeout:     p.dur(path+".completion.timeout", cc.Timeout),
			WaitFor:     cc.WaitFor,
			Path:        cc.Path,
			Endpoint:    cc.Endpoint,
			Method:      strings.ToUpper(cc.Method),
			Interval:    p.dur(path+".completion.interval", cc.Interval),
			Status:      cc.Status,
			SuccessWhen: cc.SuccessWhen,
			FailWhen:    cc.FailWhen,
			Result:      cc.Result,
		}
		if cc.Type == "callback" && cc.WaitFor == "" {
			return nil, fmt.Errorf("completion.wait_for is required for a callback: the id the callback carries, such as ${context.run_id}")
		}
	}
	return cfg, nil
}

func (p *Project) idOf(w Workflow) string {
	if w.ID != "" {
		return w.ID
	}
	return DefaultWorkflowID
}

func (p *Project) buildWorkflows(ps *problems) {
	seen := map[string]string{}
	for i := range p.cfg.Workflows {
		w := p.cfg.Workflows[i]
		path := w.pathOr(i)
		id := p.idOf(w)
		if w.ID == "" && len(p.cfg.Workflows) > 1 {
			ps.add(path+".id", "required when there are several workflows")
			continue
		}
		if prev, dup := seen[id]; dup {
			ps.add(path+".id", "duplicate workflow id %q (also used by %s)", id, prev)
			continue
		}
		seen[id] = path
		def := &workflow.Workflow{
			ID:          id,
			Title:       w.Title,
			Description: w.Description,
			Input:       w.Input,
			Output:      w.Output,
		}
		if len(w.Jobs) == 0 {
			def.Component = w.Component
			if def.Component == "" {
				c, err := p.onlyComponent()
				if err != nil {
					ps.add(path+".jobs", "%v", err)
					continue
				}
				def.Component = c
			}
		} else {
			jobs, ok := p.jobs(ps, path+".jobs", w.Jobs)
			if !ok {
				continue
			}
			def.Jobs = jobs
		}
		if err := p.engine.AddWorkflow(def); err != nil {
			addEngineProblem(ps, path, err)
		}
	}
}

// onlyComponent returns the id of the project's single component, which
// jobs and workflows without a component use.
func (p *Project) onlyComponent() (string, error) {
	n := len(p.cfg.Components) + len(p.opts.Components)
	switch {
	case n == 1 && len(p.cfg.Components) == 1:
		return componentID(p.cfg.Components[0]), nil
	case n == 1:
		for id := range p.opts.Components {
			return id, nil
		}
	case n == 0:
		return "", errors.New("required: define jobs, or a component for the workflow to run")
	}
	return "", errors.New("required: there are several components, so name one in each job's component field")
}

func (p *Project) jobs(ps *problems, path string, in []Job) ([]workflow.Job, bool) {
	ok := true
	out := make([]workflow.Job, 0, len(in))
	for i, j := range in {
		jp := fmt.Sprintf("%s[%d]", path, i)
		job := workflow.Job{
			ID:        j.ID,
			Component: j.Component,
			Input:     j.Input,
			Output:    j.Output,
		}
		if job.Component == "" {
			c, err := p.onlyComponent()
			if err != nil {
				ps.add(jp+".component", "%v", err)
				ok = false
				continue
			}
			job.Component = c
		}
		for k, d := range j.DependsOn {
			dep, err := dependency(d)
			if err != nil {
				ps.add(fmt.Sprintf("%s.depends_on[%d]", jp, k), "%v", err)
				ok = false
				continue
			}
			job.DependsOn = append(job.DependsOn, dep)
		}
		if j.Retry != nil {
			job.Retry = workflow.Retry{MaxRetryCount: j.Retry.MaxRetryCount, Delay: p.dur(jp+".retry.delay", j.Retry.Delay)}
		}
		if len(j.OnError) > 0 {
			rec, good := p.jobs(ps, jp+".on_error", j.OnError)
			ok = ok && good
			job.OnError = rec
		}
		out = append(out, job)
	}
	return out, ok
}

// dependency reads one depends_on entry: a job id, or a list of job ids
// of which any one is enough.
func dependency(v any) (workflow.Dependency, error) {
	switch v := v.(type) {
	case string:
		return workflow.Dependency{v}, nil
	case []any:
		out := make(workflow.Dependency, 0, len(v))
		for _, item := range v {
			s, ok := item.(string)
			if !ok {
				return nil, fmt.Errorf("invalid entry %v: an OR group lists job ids", item)
			}
			out = append(out, s)
		}
		if len(out) == 0 {
			return nil, errors.New("empty OR group: list at least one job id")
		}
		return out, nil
	}
	return nil, fmt.Errorf("invalid entry %v: write a job id, or a list of job ids of which any one is enough", v)
}

func (p *Project) buildListeners(ps *problems) {
	workflows := map[string]bool{}
	for _, info := range p.engine.Workflows() {
		workflows[info.ID] = true
	}
	lopts := &listener.Options{Logger: p.log, Sources: expr.ResolverFunc(p.resolve), Clock: p.opts.Clock, Observer: p.listenerObserver()}
	for i := range p.cfg.Listeners {
		lc := p.cfg.Listeners[i]
		path := lc.pathOr(i)
		host, err := p.expandString(path+".host", lc.Host)
		if err != nil {
			addProblem(ps, path+".host", err)
			continue
		}
		def := listener.DefaultCallbackPort
		if lc.Type == "http-trigger" {
			def = listener.DefaultTriggerPort
		}
		port, err := p.expandPort(path+".port", lc.Port, def)
		if err != nil {
			addProblem(ps, path+".port", err)
			continue
		}
		lp := path + ".limits"
		limits := listener.Limits{
			MaxBodyBytes:       int64(lc.Limits.MaxBodyBytes),
			MaxHeaderBytes:     int(lc.Limits.MaxHeaderBytes),
			ReadHeaderTimeout:  p.dur(lp+".read_header_timeout", lc.Limits.ReadHeaderTimeout),
			ReadTimeout:        p.dur(lp+".read_timeout", lc.Limits.ReadTimeout),
			WriteTimeout:       p.dur(lp+".write_timeout", lc.Limits.WriteTimeout),
			IdleTimeout:        p.dur(lp+".idle_timeout", lc.Limits.IdleTimeout),
			QueueTimeout:       p.dur(lp+".queue_timeout", lc.Limits.QueueTimeout),
			RetryAfter:         p.dur(lp+".retry_after", lc.Limits.RetryAfter),
			IdempotencyMaxKeys: lc.Limits.IdempotencyMaxKeys,
			MaxBulkItems:       lc.Limits.MaxBulkItems,
		}
		eps, paths := lc.endpoints()
		var l listener.Listener
		switch lc.Type {
		case "http-callback":
			cfg := listener.CallbackConfig{Host: host, Port: port, BasePath: lc.BasePath, MaxConcurrentCount: lc.MaxConcurrentCount, Limits: limits}
			for k, ep := range eps {
				cb, err := p.callback(paths[k], ep)
				if err != nil {
					addLines(ps, paths[k], err)
					continue
				}
				cfg.Callbacks = append(cfg.Callbacks, cb)
			}
			if len(cfg.Callbacks) != len(eps) {
				continue
			}
			l, err = listener.NewCallback(cfg, p.waiter, lopts)
		case "http-trigger":
			cfg := listener.TriggerConfig{Host: host, Port: port, BasePath: lc.BasePath, MaxConcurrentCount: lc.MaxConcurrentCount, Limits: limits}
			for k, ep := range eps {
				if ep.Workflow != "" && !workflows[ep.Workflow] {
					ps.add(paths[k]+".workflow", "unknown workflow %q; defined workflows: %s", ep.Workflow, strings.Join(sortedIDs(workflows), ", "))
					continue
				}
				tr, err := p.trigger(paths[k], ep)
				if err != nil {
					addLines(ps, paths[k], err)
					continue
				}
				cfg.Triggers = append(cfg.Triggers, tr)
			}
			if len(cfg.Triggers) != len(eps) {
				continue
			}
			l, err = listener.NewTrigger(cfg, listener.StarterFunc(p.startRun), lopts)
		default:
			continue
		}
		if err != nil {
			addListenerProblem(ps, path, lc, err)
			continue
		}
		routes := make([]string, len(eps))
		for k, ep := range eps {
			method := strings.ToUpper(ep.Method)
			if method == "" {
				method = http.MethodPost
			}
			routes[k] = method + " " + strings.TrimSuffix(lc.BasePath, "/") + ep.Path
		}
		p.listeners = append(p.listeners, &projectListener{path: path, kind: lc.Type, port: port, routes: routes, l: l})
	}
}

func sortedIDs(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	if len(out) == 0 {
		return []string{"(none)"}
	}
	return out
}

func (p *Project) startRun(ctx context.Context, workflowID string, input any) (listener.RunInfo, error) {
	run, err := p.engine.Start(ctx, workflowID, input)
	if err != nil {
		return listener.RunInfo{}, err
	}
	return listener.RunInfo{ID: run.ID, Status: string(run.State)}, nil
}

func (p *Project) verifier(path string, cfg *verify.Config) (interface {
	Verify(r *http.Request, body []byte) error
}, error) {
	if cfg == nil {
		return nil, nil
	}
	// Only the secrets and the key come from the environment; the other
	// fields (signed_content in particular) are the verifier's own
	// templates over the raw request.
	c := *cfg
	secret, err := p.expandString(path+".verify.secret", string(c.Secret))
	if err != nil {
		return nil, err
	}
	c.Secret = verify.Secret(secret)
	c.Secrets = slices.Clone(c.Secrets)
	for i, s := range c.Secrets {
		v, err := p.expandString(fmt.Sprintf("%s.verify.secrets[%d]", path, i), string(s))
		if err != nil {
			return nil, err
		}
		c.Secrets[i] = verify.Secret(v)
	}
	if c.PublicKey, err = p.expandString(path+".verify.public_key", c.PublicKey); err != nil {
		return nil, err
	}
	v, err := verify.New(c, &verify.Options{Clock: p.opts.Clock})
	if err != nil {
		return nil, err
	}
	return v, nil
}

func (p *Project) callback(path string, ep Endpoint) (listener.Callback, error) {
	v, err := p.verifier(path, ep.Verify)
	if err != nil {
		return listener.Callback{}, err
	}
	cb := listener.Callback{
		Path:        ep.Path,
		Method:      strings.ToUpper(ep.Method),
		IdentifyBy:  ep.IdentifyBy,
		Status:      ep.Status,
		SuccessWhen: ep.SuccessWhen,
		FailWhen:    ep.FailWhen,
		Result:      ep.Result,
		Bulk:        ep.Bulk,
		Item:        ep.Item,
		Preset:      ep.Preset,
		Responses:   responses(ep.Responses),
		Reply:       reply(ep.Reply),
	}
	if v != nil {
		cb.Verify = v
	}
	return cb, nil
}

func (p *Project) trigger(path string, ep Endpoint) (listener.Trigger, error) {
	v, err := p.verifier(path, ep.Verify)
	if err != nil {
		return listener.Trigger{}, err
	}
	tr := listener.Trigger{
		Path:              ep.Path,
		Method:            strings.ToUpper(ep.Method),
		Workflow:          ep.Workflow,
		Input:             ep.Input,
		Bulk:              ep.Bulk,
		Item:              ep.Item,
		Preset:            ep.Preset,
		IdempotencyKey:    ep.IdempotencyKey,
		IdempotencyWindow: p.dur(path+".idempotency_window", ep.IdempotencyWindow),
		Responses:         responses(ep.Responses),
		Reply:             reply(ep.Reply),
	}
	if v != nil {
		tr.Verify = v
	}
	return tr, nil
}

func responses(in []Response) []listener.Response {
	if in == nil {
		return nil
	}
	out := make([]listener.Response, len(in))
	for i, r := range in {
		out[i] = listener.Response{When: r.When, Equals: r.Equals, Status: r.Status, Body: r.Body, Headers: r.Headers}
	}
	return out
}

func reply(r *Reply) *listener.Reply {
	if r == nil {
		return nil
	}
	return &listener.Reply{Status: r.Status, Body: r.Body, Headers: r.Headers}
}

// checkGatewayRefs rejects templates that read ${gateway:PORT...} for a
// port that no gateway serves.
func (p *Project) checkGatewayRefs(ps *problems) {
	if p.gatewayFailed {
		return // the gateway's own problem is reported; its ports are unknown
	}
	check := func(path string, v any) {
		t, err := expr.CompileValue(v)
		if err != nil {
			return // reported where the template is compiled for use
		}
		for _, src := range t.Sources() {
			port, ok := strings.CutPrefix(src, "gateway:")
			if !ok {
				continue
			}
			n, err := strconv.Atoi(port)
			if err != nil || p.gwByPort[n] == nil {
				ps.add(path, "${%s...} refers to port %s, which no gateway serves; add it to a gateway's port list", src, port)
			}
		}
	}
	for i, c := range p.cfg.Components {
		check(c.pathOr(i), map[string]any{
			"base_url": c.BaseURL, "path": c.Path, "endpoint": c.Endpoint,
			"headers": c.Headers, "params": c.Params, "body": c.Body, "output": c.Output,
		})
	}
	for i, w := range p.cfg.Workflows {
		for k, j := range w.Jobs {
			check(fmt.Sprintf("%s.jobs[%d]", w.pathOr(i), k), map[string]any{"input": j.Input, "output": j.Output})
		}
		check(w.pathOr(i), map[string]any{"input": w.Input, "output": w.Output})
	}
	for i, l := range p.cfg.Listeners {
		eps, paths := l.endpoints()
		_ = i
		for k, ep := range eps {
			check(paths[k], map[string]any{"result": ep.Result, "input": ep.Input})
		}
	}
}

func (p *Project) openState() error {
	switch p.cfg.State.Type {
	case "", "memory":
		if p.opts.Waiter != nil {
			p.waiter = p.opts.Waiter
			return nil
		}
		p.waiter = waiter.NewMemory(&waiter.MemoryOptions{Clock: p.opts.Clock, Logger: p.log, Retention: p.dur("state.retention", p.cfg.State.Retention)})
		p.ownsWaiter = true
		return nil
	}
	// openSharedState keeps a waiter and a store that the host passed.
	return openSharedState(p)
}

func (p *Project) closeState() {
	if p.ownsWaiter && p.waiter != nil {
		_ = p.waiter.Close()
	}
	for _, c := range p.closers {
		_ = c()
	}
}

// addLines reports an error that may join several problems, one line
// each, under path. A verify.ConfigError is reported under the path of
// its field.
func addLines(ps *problems, path string, err error) {
	var list []error
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		list = joined.Unwrap()
	} else {
		list = []error{err}
	}
	rest := list[:0]
	for _, e := range list {
		var ve *verify.ConfigError
		var pe *pathError
		switch {
		case errors.As(e, &ve):
			ps.add(path+".verify."+ve.Field, "%s", ve.Message)
		case errors.As(e, &pe):
			ps.add(pe.path, "%s", pe.msg)
		default:
			rest = append(rest, e)
		}
	}
	if len(rest) == 0 {
		return
	}
	err = errors.Join(rest...)
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			ps.add(path, "%s", line)
		}
	}
}

// addListenerProblem reports an error of the listener package under the
// YAML path of the field it names. A single route written at the top
// level is "callbacks[0]" to the listener package but "listener" in the
// YAML.
func addListenerProblem(ps *problems, path string, lc Listener, err error) {
	var ce *listener.ConfigError
	if !errors.As(err, &ce) {
		addLines(ps, path, err)
		return
	}
	field := ce.Field
	if len(lc.Callbacks) == 0 && len(lc.Triggers) == 0 {
		for _, single := range []string{"callbacks[0]", "triggers[0]"} {
			if rest, ok := strings.CutPrefix(field, single); ok {
				field = strings.TrimPrefix(rest, ".")
			}
		}
	}
	ps.add(joinPath(path, field), "%v", ce.Err)
}
