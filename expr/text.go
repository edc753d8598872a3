package expr

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// maxRenderDepth bounds the nesting that Stringify follows, so that a Go
// value that contains itself cannot recurse forever. Deeper values are
// written as null.
const maxRenderDepth = 1000

// Stringify renders a value as text: strings as they are, numbers in
// decimal without loss, nil as the empty string, and objects and arrays
// as compact JSON.
//
// In detail: []byte is written as its bytes, bool as true or false,
// integers and json.Number as their digits, and floats as encoding/json
// writes them (exponent form below 1e-6 and from 1e21). Maps are written
// with sorted keys and strings in them without HTML escaping. A [Value]
// from [JSON] is written as its document with white space removed, so it
// keeps its key order and number digits. Types that encoding/json
// handles, such as structs, are marshaled by it, and anything else is
// formatted with fmt.
//
// Stringify is safe for concurrent use.
func Stringify(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return string(appendText(nil, v))
}

// valString renders v as Stringify does, copying only what it must.
func valString(v val) string {
	switch {
	case v.kind == valJSON && v.res.Type == gjson.String:
		return ownedString(v.res)
	case v.kind == valGo:
		if s, ok := v.v.(string); ok {
			return s
		}
	}
	return string(appendVal(nil, v))
}

// appendVal appends the text form of v.
func appendVal(dst []byte, v val) []byte {
	switch v.kind {
	case valGo:
		return appendText(dst, v.v)
	case valJSON:
		return appendJSONText(dst, v.res)
	}
	return dst
}

// appendJSONText appends the text form of a gjson result: a string's
// content, a number, true or false, nothing for null, and an object or
// array as its raw JSON with white space removed.
func appendJSONText(dst []byte, res gjson.Result) []byte {
	switch res.Type {
	case gjson.String:
		return append(dst, res.Str...)
	case gjson.Number:
		return appendNumberText(dst, res)
	case gjson.True:
		return append(dst, "true"...)
	case gjson.False:
		return append(dst, "false"...)
	case gjson.JSON:
		return appendCompact(dst, res.Raw)
	}
	return dst
}

// appendNumberText appends a JSON number: an integer with every digit,
// any other number in the normalized form of numberFromText.
func appendNumberText(dst []byte, res gjson.Result) []byte {
	switch {
	case res.Raw == "":
		return appendText(dst, normalizeFloat(res.Num))
	case isIntegerText(res.Raw):
		return append(dst, res.Raw...)
	}
	return appendText(dst, numberFromText(res.Raw))
}

// appendCompact appends JSON text without the white space between
// tokens.
func appendCompact(dst []byte, raw string) []byte {
	inString := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case inString:
			dst = append(dst, c)
			if c == '\\' && i+1 < len(raw) {
				i++
				dst = append(dst, raw[i])
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
			dst = append(dst, c)
		case isSpace(c):
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// appendText appends the text form of a Go value, as Stringify.
func appendText(dst []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return dst
	case string:
		return append(dst, x...)
	case []byte:
		return append(dst, x...)
	case bool:
		return strconv.AppendBool(dst, x)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case int:
		return strconv.AppendInt(dst, int64(x), 10)
	case float64:
		return appendFloat(dst, x)
	case json.Number:
		return append(dst, x...)
	case Value:
		if x.json {
			return appendCompact(dst, rawString(x.raw))
		}
		return appendText(dst, x.data)
	case json.RawMessage:
		return appendCompact(dst, rawString(x))
	}
	switch n := normalizeScalar(v).(type) {
	case int64, float64, json.Number:
		return appendText(dst, n)
	}
	return appendJSON(dst, v, 0)
}

// appendJSON appends v as compact JSON.
func appendJSON(dst []byte, v any, depth int) []byte {
	if depth > maxRenderDepth {
		return append(dst, "null"...)
	}
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...)
	case string:
		return appendJSONString(dst, x)
	case []byte:
		return appendJSONString(dst, string(x))
	case bool:
		return strconv.AppendBool(dst, x)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return append(dst, "null"...)
		}
		return appendFloat(dst, x)
	case json.Number:
		if isNumberText(string(x)) {
			return append(dst, x...)
		}
		return appendJSONString(dst, string(x))
	case Value:
		if x.json {
			return appendCompact(dst, rawString(x.raw))
		}
		return appendJSON(dst, x.data, depth+1)
	case json.RawMessage:
		return appendCompact(dst, rawString(x))
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			dst = appendJSON(dst, x[k], depth+1)
		}
		return append(dst, '}')
	case []any:
		dst = append(dst, '[')
		for i, item := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSON(dst, item, depth+1)
		}
		return append(dst, ']')
	}
	switch n := normalizeScalar(v).(type) {
	case int64, float64, json.Number:
		return appendJSON(dst, n, depth)
	}
	return appendReflectJSON(dst, v, depth)
}

// appendReflectJSON appends maps with string keys and slices of other
// types, and hands the rest to encoding/json, falling back to fmt.
func appendReflectJSON(dst []byte, v any, depth int) []byte {
	rv := reflect.ValueOf(v)
	_, marshaler := v.(json.Marshaler)
	switch {
	case marshaler:
	case rv.Kind() == reflect.Map && rv.Type().Key().Kind() == reflect.String:
		if rv.IsNil() {
			return append(dst, "null"...)
		}
		keys := make([]string, 0, rv.Len())
		values := make(map[string]reflect.Value, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			k := iter.Key().String()
			keys = append(keys, k)
			values[k] = iter.Value()
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			dst = appendJSON(dst, values[k].Interface(), depth+1)
		}
		return append(dst, '}')
	case rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return append(dst, "null"...)
		}
		dst = append(dst, '[')
		for i := 0; i < rv.Len(); i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSON(dst, rv.Index(i).Interface(), depth+1)
		}
		return append(dst, ']')
	}
	b, err := json.Marshal(v)
	if err != nil {
		return appendJSONString(dst, fmt.Sprint(v))
	}
	return appendCompact(dst, string(b))
}

// appendJSONString appends s as a JSON string. Unlike encoding/json it
// leaves <, > and & as they are, and it writes invalid UTF-8 as U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			// Valid JSON, but line terminators in JavaScript.
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
