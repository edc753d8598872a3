package expr

import (
	"encoding/json"
	"net/http"
	"net/textproto"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

type segKind uint8

const (
	segKey   segKind = iota // .name or ["name"]
	segIndex                // [n] or [-n]
	segAll                  // [*] or []
)

// segment is one step of a path.
type segment struct {
	kind  segKind
	key   string
	index int
	// gpath is the gjson path for this segment and the following ones
	// up to the next [*] or negative index, with keys escaped, and run
	// is the number of segments it covers. Both are zero when this
	// segment cannot be looked up by gjson.
	gpath string
	run   int
}

// maxRun bounds the segments that one gjson path covers. Every segment
// keeps the path from itself to the end of its run, so without a bound a
// path of n keys would keep n*n/2 components.
const maxRun = 32

// finishSegments fills gpath and run, so that a lookup in raw JSON takes
// one gjson call per run of up to maxRun keys and non-negative indexes.
func finishSegments(segs []segment) {
	for i := len(segs) - 1; i >= 0; i-- {
		seg := &segs[i]
		var component string
		switch {
		case seg.kind == segKey:
			component = gjson.Escape(seg.key)
		case seg.kind == segIndex && seg.index >= 0:
			component = strconv.Itoa(seg.index)
		default:
			seg.gpath, seg.run = "", 0
			continue
		}
		seg.gpath, seg.run = component, 1
		if i+1 < len(segs) && segs[i+1].run > 0 && segs[i+1].run < maxRun {
			seg.gpath += "." + segs[i+1].gpath
			seg.run += segs[i+1].run
		}
	}
}

type valKind uint8

const (
	valMissing valKind = iota
	valGo              // v holds a Go value
	valJSON            // res holds a gjson result
)

// val is an intermediate result. Values found in raw JSON stay gjson
// results until the caller needs a Go value or text, so that text can
// be written without decoding.
type val struct {
	kind valKind
	res  gjson.Result
	v    any
}

func goVal(v any) val { return val{kind: valGo, v: v} }

// isNull reports whether v is missing or null, the cases in which a
// default applies.
func (v val) isNull() bool {
	switch v.kind {
	case valGo:
		return v.v == nil
	case valJSON:
		return v.res.Type == gjson.Null
	}
	return true
}

// toAny returns v as a Go value in the forms described on Template.Eval.
func (v val) toAny() any {
	switch v.kind {
	case valGo:
		return goToAny(v.v)
	case valJSON:
		return jsonToGo(v.res)
	}
	return nil
}

// goToAny normalizes a Go value found in a source: numbers become int64,
// float64 or json.Number, and nested Values and json.RawMessages are
// decoded. Maps and slices are returned as they are.
func goToAny(v any) any {
	switch x := v.(type) {
	case Value:
		return lookupValue(x, nil, false).toAny()
	case json.RawMessage:
		return lookupValue(JSON(x), nil, false).toAny()
	}
	return normalizeScalar(v)
}

// jsonToGo decodes a gjson result into nil, bool, string, a number (see
// numberFromText), map[string]any or []any. No part of the result refers
// to the memory of the JSON document.
func jsonToGo(res gjson.Result) any {
	switch res.Type {
	case gjson.False:
		return false
	case gjson.True:
		return true
	case gjson.Number:
		if res.Raw == "" {
			return normalizeFloat(res.Num)
		}
		return numberFromText(res.Raw)
	case gjson.String:
		return ownedString(res)
	case gjson.JSON:
		return decodeComposite(res)
	}
	return nil
}

// decodeComposite decodes an object or array. encoding/json does it in
// time linear in the size of the text, while walking the result with
// gjson rescans each nested value once per level above it, which is
// quadratic for deeply nested input. Text that encoding/json rejects
// (malformed, or nested beyond its limit of 10000 levels) is walked with
// gjson down to maxWalkDepth levels.
//
// NOTE: for an object with a duplicate key, a path lookup finds the first
// value (gjson) while decoding keeps the last (encoding/json).
func decodeComposite(res gjson.Result) any {
	dec := json.NewDecoder(strings.NewReader(res.Raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err == nil {
		return normalizeDecoded(v)
	}
	return walkComposite(res, 0)
}

// maxWalkDepth bounds the nesting that walkComposite decodes. Deeper
// values become nil.
const maxWalkDepth = 32

func walkComposite(res gjson.Result, depth int) any {
	if depth >= maxWalkDepth {
		return nil
	}
	if res.IsArray() {
		list := []any{}
		res.ForEach(func(_, item gjson.Result) bool {
			list = append(list, walkItem(item, depth))
			return true
		})
		return list
	}
	object := map[string]any{}
	res.ForEach(func(key, item gjson.Result) bool {
		object[ownedString(key)] = walkItem(item, depth)
		return true
	})
	return object
}

func walkItem(item gjson.Result, depth int) any {
	if item.Type == gjson.JSON {
		return walkComposite(item, depth+1)
	}
	return jsonToGo(item)
}

// normalizeDecoded replaces the json.Numbers that encoding/json produced
// with the number forms of numberFromText, in place.
func normalizeDecoded(v any) any {
	switch x := v.(type) {
	case json.Number:
		return numberFromText(string(x))
	case map[string]any:
		for k, item := range x {
			x[k] = normalizeDecoded(item)
		}
	case []any:
		for i, item := range x {
			x[i] = normalizeDecoded(item)
		}
	}
	return v
}

// ownedString returns the string of a gjson result in memory of its own.
// gjson unescapes a string with backslashes into a new string, and
// otherwise returns a substring of the document, which is copied here.
func ownedString(res gjson.Result) string {
	if strings.IndexByte(res.Raw, '\\') >= 0 {
		return res.Str
	}
	return strings.Clone(res.Str)
}

// lookupValue follows segs into v. When foldFirst is set, the first key
// is matched case-insensitively in Go maps.
func lookupValue(v Value, segs []segment, foldFirst bool) val {
	if !v.json {
		return walkGo(v.data, segs, foldFirst)
	}
	doc := rawString(v.raw)
	if len(segs) > 0 && segs[0].run > 0 {
		res := gjson.Get(doc, segs[0].gpath)
		return walkJSON(res, segs[segs[0].run:])
	}
	return walkJSON(gjson.Parse(doc), segs)
}

// walkJSON follows segs from res.
func walkJSON(res gjson.Result, segs []segment) val {
	for i := 0; i < len(segs); {
		if !res.Exists() {
			return val{}
		}
		seg := segs[i]
		switch {
		case seg.run > 0:
			res = res.Get(seg.gpath)
			i += seg.run
		case seg.kind == segIndex:
			res = jsonIndexFromEnd(res, -seg.index)
			i++
		default:
			if !res.IsArray() {
				return val{}
			}
			list := []any{}
			rest := segs[i+1:]
			res.ForEach(func(_, item gjson.Result) bool {
				if found := walkJSON(item, rest); found.kind != valMissing {
					list = append(list, found.toAny())
				}
				return true
			})
			return goVal(list)
		}
	}
	if !res.Exists() {
		return val{}
	}
	return val{kind: valJSON, res: res}
}

// jsonIndexFromEnd returns the element n places from the end of an
// array (n = 1 is the last), or an empty result.
func jsonIndexFromEnd(res gjson.Result, n int) gjson.Result {
	if !res.IsArray() {
		return gjson.Result{}
	}
	count := 0
	res.ForEach(func(_, _ gjson.Result) bool {
		count++
		return true
	})
	want := count - n
	if want < 0 {
		return gjson.Result{}
	}
	var found gjson.Result
	i := 0
	res.ForEach(func(_, item gjson.Result) bool {
		if i == want {
			found = item
			return false
		}
		i++
		return true
	})
	return found
}

// walkGo follows segs through Go values. A Value or json.RawMessage met
// on the way continues the lookup in it.
func walkGo(data any, segs []segment, foldFirst bool) val {
	for i := 0; ; i++ {
		switch x := data.(type) {
		case Value:
			return lookupValue(x, segs[i:], foldFirst && i == 0)
		case json.RawMessage:
			return lookupValue(JSON(x), segs[i:], false)
		}
		if i == len(segs) {
			return goVal(data)
		}
		var ok bool
		switch seg := segs[i]; seg.kind {
		case segKey:
			data, ok = goKey(data, seg.key, foldFirst && i == 0)
		case segIndex:
			data, ok = goIndex(data, seg.index)
		default:
			return goAll(data, segs[i+1:])
		}
		if !ok {
			return val{}
		}
	}
}

// goAll applies rest to every element of a slice, leaving out elements
// where the path is missing.
func goAll(data any, rest []segment) val {
	var items []any
	switch x := data.(type) {
	case []any:
		items = x
	default:
		rv := reflect.ValueOf(data)
		if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
			return val{}
		}
		items = make([]any, rv.Len())
		for i := range items {
			items[i] = rv.Index(i).Interface()
		}
	}
	list := []any{}
	for _, item := range items {
		if found := walkGo(item, rest, false); found.kind != valMissing {
			list = append(list, found.toAny())
		}
	}
	return goVal(list)
}

// goKey looks key up in a Go value. For an http.Header or url.Values it
// returns the first value. A key of digits also indexes a slice, as in
// gjson. When fold is set, a map key that differs only in case matches.
func goKey(data any, key string, fold bool) (any, bool) {
	switch m := data.(type) {
	case Fields:
		return m.Field(key)
	case map[string]any:
		if v, ok := m[key]; ok || !fold {
			return v, ok
		}
		for k, v := range m {
			if strings.EqualFold(k, key) {
				return v, true
			}
		}
		return nil, false
	case http.Header:
		values, ok := m[key]
		if !ok {
			values, ok = m[textproto.CanonicalMIMEHeaderKey(key)]
		}
		if !ok {
			for k, v := range m {
				if strings.EqualFold(k, key) {
					values, ok = v, true
					break
				}
			}
		}
		if !ok || len(values) == 0 {
			return nil, false
		}
		return values[0], true
	case url.Values:
		values := m[key]
		if len(values) == 0 {
			return nil, false
		}
		return values[0], true
	case map[string]string:
		if v, ok := m[key]; ok || !fold {
			return v, ok
		}
		for k, v := range m {
			if strings.EqualFold(k, key) {
				return v, true
			}
		}
		return nil, false
	case []any, nil:
		return goIndexText(data, key)
	}
	rv := reflect.ValueOf(data)
	switch rv.Kind() {
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return nil, false
		}
		kv := reflect.ValueOf(key).Convert(rv.Type().Key())
		if v := rv.MapIndex(kv); v.IsValid() {
			return v.Interface(), true
		}
		if fold {
			iter := rv.MapRange()
			for iter.Next() {
				if strings.EqualFold(iter.Key().String(), key) {
					return iter.Value().Interface(), true
				}
			}
		}
		return nil, false
	case reflect.Slice, reflect.Array:
		return goIndexText(data, key)
	}
	return nil, false
}

// goIndexText indexes a slice with a key made of digits.
func goIndexText(data any, key string) (any, bool) {
	if !isIntegerText(key) || key[0] == '-' {
		return nil, false
	}
	n, err := strconv.Atoi(key)
	if err != nil {
		return nil, false
	}
	return goIndex(data, n)
}

// goIndex returns element n of a slice, counting from the end when n is
// negative. On a map it looks up the key with n's digits, as gjson does.
func goIndex(data any, n int) (any, bool) {
	if list, ok := data.([]any); ok {
		if n < 0 {
			n += len(list)
		}
		if n < 0 || n >= len(list) {
			return nil, false
		}
		return list[n], true
	}
	rv := reflect.ValueOf(data)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if n < 0 {
			n += rv.Len()
		}
		if n < 0 || n >= rv.Len() {
			return nil, false
		}
		return rv.Index(n).Interface(), true
	case reflect.Map:
		if n < 0 {
			return nil, false
		}
		return goKey(data, strconv.Itoa(n), false)
	}
	if _, ok := data.(Fields); ok && n >= 0 {
		return goKey(data, strconv.Itoa(n), false)
	}
	return nil, false
}
