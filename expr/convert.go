package expr

import (
	"encoding/base64"
	"math"
	"reflect"
	"strings"

	"github.com/tidwall/gjson"
)

type convKind uint8

const (
	convPass convKind = iota // parsed, value unchanged
	convText
	convNumber
	convInteger
	convBoolean
	convJSON
	convObjects
	convBase64
)

// typeKinds maps each type name accepted after "as" to its conversion.
var typeKinds = map[string]convKind{
	"text":     convText,
	"string":   convText,
	"number":   convNumber,
	"integer":  convInteger,
	"boolean":  convBoolean,
	"json":     convJSON,
	"object[]": convObjects,
	"base64":   convBase64,
	"markdown": convPass,
	"list":     convPass,
	"image":    convPass,
	"audio":    convPass,
	"video":    convPass,
	"file":     convPass,
	"select":   convPass,
	"slider":   convPass,
}

const typeList = "text, string, number, integer, boolean, json, object[], base64, markdown, list, image, audio, video, file, select or slider"

// conversion is the "as type/subtype;format" part of an expression.
type conversion struct {
	kind    convKind
	name    string
	subtype string
	format  string
	// fields are the paths of "object[]/a,b.c".
	fields []projection
}

// projection is one field of "object[]/...": the path to read and the
// key to store it under (the path's last dotted part).
type projection struct {
	name string
	segs []segment
}

// apply converts v, which is neither missing nor null.
func (c *conversion) apply(v val) (val, error) {
	switch c.kind {
	case convText:
		return goVal(valString(v)), nil
	case convNumber:
		n, ok := valNumber(v, true)
		if !ok && isHugeNumber(v) {
			return val{}, problemf("cannot convert the value to a number: it is beyond the float64 range")
		}
		if !ok {
			return val{}, problemf("cannot convert %s to a number", describe(v))
		}
		return goVal(n.value()), nil
	case convInteger:
		return toInteger(v)
	case convBoolean:
		return toBoolean(v)
	case convJSON:
		return parseJSON(v)
	case convObjects:
		return goVal(c.project(v.toAny())), nil
	case convBase64:
		return toBase64(v)
	}
	return v, nil
}

func toInteger(v val) (val, error) {
	n, ok := valNumber(v, true)
	if !ok && isHugeNumber(v) {
		return val{}, problemf("cannot convert a number to an integer: out of the int64 range")
	}
	if !ok {
		return val{}, problemf("cannot convert %s to an integer", describe(v))
	}
	switch {
	case n.big != "" || n.isInt:
		return goVal(n.value()), nil
	case n.f >= minInt64Float && n.f < maxInt64Float:
		return goVal(int64(math.Trunc(n.f))), nil
	}
	return val{}, problemf("cannot convert %s to an integer: out of the int64 range", describe(v))
}

// toBoolean accepts booleans, numbers (non-zero is true) and the strings
// true, false, 1, 0, yes, no, on, off and "" in any case.
func toBoolean(v val) (val, error) {
	var s string
	switch {
	case v.kind == valJSON && v.res.Type == gjson.True:
		return goVal(true), nil
	case v.kind == valJSON && v.res.Type == gjson.False:
		return goVal(false), nil
	case v.kind == valJSON && v.res.Type == gjson.String:
		s = v.res.Str
	default:
		switch x := v.toAny().(type) {
		case bool:
			return goVal(x), nil
		case string:
			s = x
		default:
			n, ok := valNumber(v, false)
			if !ok {
				return val{}, problemf("cannot convert %s to a boolean", describe(v))
			}
			return goVal(!n.isZero()), nil
		}
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes", "on":
		return goVal(true), nil
	case "false", "0", "no", "off", "":
		return goVal(false), nil
	}
	if n, ok := numberOfText(strings.TrimSpace(s)); ok {
		return goVal(!n.isZero()), nil
	}
	return val{}, problemf("cannot convert a string to a boolean: use true, false, 1, 0, yes, no, on or off")
}

// parseJSON parses a string (or bytes) as JSON. Other values pass
// through.
func parseJSON(v val) (val, error) {
	var text string
	switch {
	case v.kind == valJSON && v.res.Type == gjson.String:
		text = v.res.Str
	case v.kind == valJSON:
		return v, nil
	default:
		switch x := v.v.(type) {
		case string:
			text = x
		case []byte:
			text = string(x)
		default:
			return v, nil
		}
	}
	if !gjson.Valid(text) {
		return val{}, problemf("the string is not valid JSON")
	}
	return goVal(jsonToGo(gjson.Parse(text))), nil
}

// project keeps the objects of a list and, when fields are given, builds
// each from those fields. A value that is not a list gives an empty list.
func (c *conversion) project(v any) []any {
	out := []any{}
	items, ok := v.([]any)
	if !ok {
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
			return out
		}
		items = make([]any, rv.Len())
		for i := range items {
			items[i] = rv.Index(i).Interface()
		}
	}
	for _, item := range items {
		if !isObject(item) {
			continue
		}
		if len(c.fields) == 0 {
			out = append(out, item)
			continue
		}
		object := make(map[string]any, len(c.fields))
		for _, field := range c.fields {
			object[field.name] = walkGo(item, field.segs, false).toAny()
		}
		out = append(out, object)
	}
	return out
}

func isObject(v any) bool {
	switch v.(type) {
	case map[string]any, Fields:
		return true
	case nil:
		return false
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Map && rv.Type().Key().Kind() == reflect.String
}

func toBase64(v val) (val, error) {
	if v.kind == valJSON {
		if v.res.Type != gjson.String {
			return val{}, problemf("cannot encode %s as base64: use a string or bytes", describe(v))
		}
		return goVal(base64.StdEncoding.EncodeToString([]byte(v.res.Str))), nil
	}
	switch x := v.v.(type) {
	case string:
		return goVal(base64.StdEncoding.EncodeToString([]byte(x))), nil
	case []byte:
		return goVal(base64.StdEncoding.EncodeToString(x)), nil
	}
	return val{}, problemf("cannot encode %s as base64: use a string or bytes", describe(v))
}
