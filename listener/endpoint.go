package listener

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/tether-go/tether/expr"
	"github.com/tether-go/tether/verify"
	"github.com/tidwall/gjson"
)

// endpointBase holds what callback and trigger endpoints share: body
// handling, signature checks, acknowledgement responses, the reply
// override and bulk item selection.
type endpointBase struct {
	core      *core
	field     string // "callbacks[0]", for errors and logs
	path      string
	verify    verify.Verifier
	responses []compiledResponse
	reply     *compiledReply
	bulk      bool
	item      *expr.Template
	itemPath  string // gjson path when item is a plain ${body...} path
	itemFast  bool
}

// simpleBodyPath matches ${body} and ${body.a.b}, which bulk mode reads
// with gjson instead of evaluating. Keys are limited to characters that
// mean the same in gjson paths and in expr.
var simpleBodyPath = regexp.MustCompile(`^\$\{\s*body((?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}$`)

func (e *endpointBase) init(c *core, field, fullPath string, bulk bool, item string, v verify.Verifier,
	responses []Response, rp *Reply) error {
	e.core, e.field, e.path, e.verify, e.bulk = c, field, fullPath, v, bulk
	var err error
	if e.responses, err = compileResponses(field, responses); err != nil {
		return err
	}
	if e.reply, err = compileReply(field+".reply", rp); err != nil {
		return err
	}
	item = strings.TrimSpace(item)
	if !bulk {
		if item != "" {
			return invalid(field+".item", "set, but bulk is false; set bulk: true or remove item")
		}
		return nil
	}
	if item == "" {
		item = "${body}"
	}
	if e.item, err = expr.Compile(item); err != nil {
		return &ConfigError{Field: field + ".item", Err: err}
	}
	if m := simpleBodyPath.FindStringSubmatch(item); m != nil {
		e.itemPath, e.itemFast = strings.TrimPrefix(m[1], "."), true
	}
	return nil
}

// prepare reads, verifies and decodes the body, and sends the first
// matching acknowledgement response. It returns nil when it has already
// written the reply. The body is read and verified before a concurrency
// slot is taken, so that slow senders do not hold slots. When prepare
// returns a request, the caller holds a slot and must call
// e.core.release.
func (e *endpointBase) prepare(w http.ResponseWriter, r *http.Request) (q *request) {
	max := e.core.limits.MaxBodyBytes
	data, rerr := readBody(w, r, max)
	if rerr != nil {
		e.core.observeRejected(e.path)
		writeError(w, rerr.status, rerr.msg)
		return nil
	}
	if e.verify != nil {
		if err := e.verify.Verify(r, data); err != nil {
			e.core.warn.log("listener: request rejected: not verified",
				"listener", e.core.kind, "endpoint", e.field, "path", e.path, "reason", err)
			e.core.observeSignatureFailed(e.path)
			e.core.observeRejected(e.path)
			writeError(w, http.StatusUnauthorized, "request not verified: signature or token rejected")
			return nil
		}
	}
	if !e.core.acquire(w, r) {
		return nil
	}
	defer func() {
		if q == nil {
			e.core.release()
		}
	}()
	b, rerr := decodeBody(r.Header, data, max)
	if rerr != nil {
		e.core.logger.Debug("listener: request rejected", "endpoint", e.field, "status", rerr.status, "reason", rerr.msg)
		e.core.observeRejected(e.path)
		writeError(w, rerr.status, rerr.msg)
		return nil
	}
	q = newRequest(r, b, e.core.sources)
	for i := range e.responses {
		cr := &e.responses[i]
		ok, err := cr.match(q)
		if err != nil {
			e.core.logger.Debug("listener: response condition failed",
				"endpoint", e.field, "response", i, "error", err)
			continue
		}
		if !ok {
			continue
		}
		out, err := cr.reply.render(q, &reply{status: cr.reply.status}, nil)
		if err != nil {
			e.evalFailed(w, fmt.Sprintf("responses[%d]", i), err)
			return nil
		}
		e.core.logger.Debug("listener: request acknowledged by response", "endpoint", e.field, "response", i)
		out.write(w)
		return nil
	}
	return q
}

// finish sends def, or the endpoint's Reply rendered over it, and
// returns what it sent. The work is already done at this point, so a
// Reply that fails to render falls back to def instead of an error.
func (e *endpointBase) finish(w http.ResponseWriter, q *request, def *reply, defValue any) *reply {
	out := def
	if e.reply != nil {
		rendered, err := e.reply.render(q, def, defValue)
		if err != nil {
			e.core.logger.Warn("listener: reply template failed; sent the default reply",
				"endpoint", e.field, "error", err)
		} else {
			out = rendered
		}
	}
	out.write(w)
	return out
}

// items returns one resolver per bulk item. More than MaxBulkItems
// items is a 413 error, found before any item is processed.
func (e *endpointBase) items(q *request) ([]*request, *requestError) {
	max := e.core.limits.MaxBulkItems
	if raw, ok := q.rawBody(); ok && e.itemFast {
		res := gjson.ParseBytes(raw)
		if e.itemPath != "" {
			res = gjson.GetBytes(raw, e.itemPath)
		}
		if !res.IsArray() {
			return nil, badRequest("bulk item %s is not an array", e.item.String())
		}
		var out []*request
		over := false
		res.ForEach(func(_, v gjson.Result) bool {
			if len(out) == max {
				over = true
				return false
			}
			out = append(out, q.withItem(expr.JSON(subslice(raw, v))))
			return true
		})
		if over {
			return nil, e.tooManyItems(max)
		}
		return out, nil
	}
	v, err := e.item.Eval(q)
	if err != nil {
		return nil, badRequest("evaluate bulk item %s: %s", e.item.String(), evalReason(err))
	}
	list, ok := v.([]any)
	if !ok {
		return nil, badRequest("bulk item %s is not an array", e.item.String())
	}
	if len(list) > max {
		return nil, e.tooManyItems(max)
	}
	out := make([]*request, len(list))
	for i, elem := range list {
		out[i] = q.withItem(expr.Of(elem))
	}
	return out, nil
}

// tooManyItems logs a bulk request over MaxBulkItems and returns its
// 413 error.
func (e *endpointBase) tooManyItems(max int) *requestError {
	e.core.warn.log("listener: bulk request rejected: too many items",
		"listener", e.core.kind, "endpoint", e.field, "path", e.path, "max_bulk_items", max)
	return &requestError{
		status: http.StatusRequestEntityTooLarge,
		msg:    fmt.Sprintf("bulk request has more items than the limit of %d (limits.max_bulk_items); send fewer items per request", max),
	}
}

// subslice returns v's raw text as a slice of raw when gjson reported
// its position, and as a copy otherwise.
func subslice(raw []byte, v gjson.Result) []byte {
	end := v.Index + len(v.Raw)
	if v.Index > 0 && end <= len(raw) && string(raw[v.Index:end]) == v.Raw {
		return raw[v.Index:end:end]
	}
	return []byte(v.Raw)
}

func (q *request) rawBody() ([]byte, bool) {
	return q.raw, q.raw != nil
}

// evalFailed replies 400 for a template that failed on this request's
// data.
func (e *endpointBase) evalFailed(w http.ResponseWriter, template string, err error) {
	e.core.logger.Debug("listener: template evaluation failed", "endpoint", e.field, "template", template, "error", err)
	writeError(w, http.StatusBadRequest, fmt.Sprintf("evaluate %s: %s", template, evalReason(err)))
}

// evalReason describes an evaluation error without the values involved,
// since those come from the request.
func evalReason(err error) string {
	if errors.Is(err, expr.ErrEval) {
		return "expression failed on the request data"
	}
	return "template could not be evaluated"
}
