package expr

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Bounds of the float64 values that convert to int64 without overflow:
// -2^63 is exact, and 2^63 is the first value past the maximum.
const (
	minInt64Float = -9223372036854775808.0
	maxInt64Float = 9223372036854775808.0
)

// isIntegerText reports whether s is a JSON integer: an optional minus
// sign and decimal digits, without a fraction or exponent.
func isIntegerText(s string) bool {
	if s != "" && s[0] == '-' {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isNumberText reports whether s is a number in JSON syntax.
func isNumberText(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == start || (s[start] == '0' && i-start > 1) {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		frac := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == frac {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == exp {
			return false
		}
	}
	return i == len(s)
}

// numberFromText converts number text in JSON syntax to int64 when it is
// integral and fits, to json.Number (every digit kept) for an integer
// beyond int64 or a float beyond float64, and to float64 otherwise. The
// result never refers to text's memory.
func numberFromText(text string) any {
	if isIntegerText(text) {
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return n
		}
		return json.Number(strings.Clone(text))
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return json.Number(strings.Clone(text))
	}
	return normalizeFloat(f)
}

// normalizeFloat returns f as int64 when it is integral and fits, and as
// float64 otherwise.
func normalizeFloat(f float64) any {
	if f == math.Trunc(f) && f >= minInt64Float && f < maxInt64Float {
		return int64(f)
	}
	return f
}

// normalizeScalar converts Go numbers to the forms evaluation produces
// (int64, float64 or json.Number) and returns other values unchanged.
func normalizeScalar(v any) any {
	switch n := v.(type) {
	case int:
		return int64(n)
	case int8:
		return int64(n)
	case int16:
		return int64(n)
	case int32:
		return int64(n)
	case uint:
		return normalizeUint(uint64(n))
	case uint8:
		return int64(n)
	case uint16:
		return int64(n)
	case uint32:
		return int64(n)
	case uint64:
		return normalizeUint(n)
	case uintptr:
		return normalizeUint(uint64(n))
	case float32:
		// Going through the shortest decimal form keeps 0.1 as 0.1
		// instead of 0.10000000149011612.
		f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(n), 'g', -1, 32), 64)
		return normalizeFloat(f)
	case float64:
		return normalizeFloat(n)
	case json.Number:
		if isNumberText(string(n)) {
			return numberFromText(string(n))
		}
	}
	return v
}

func normalizeUint(n uint64) any {
	if n <= math.MaxInt64 {
		return int64(n)
	}
	return json.Number(strconv.FormatUint(n, 10))
}

// number is an arithmetic operand: an exact int64, or a float64.
type number struct {
	i     int64
	f     float64
	isInt bool
	// big holds the digits of an integer beyond int64, whose f is only
	// an approximation.
	big string
}

func intNumber(i int64) number     { return number{i: i, f: float64(i), isInt: true} }
func floatNumber(f float64) number { return number{f: f} }

// numberOfText parses a number in JSON syntax.
func numberOfText(text string) (number, bool) {
	if !isNumberText(text) {
		return number{}, false
	}
	if isIntegerText(text) {
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return intNumber(n), true
		}
		f, _ := strconv.ParseFloat(text, 64)
		return number{f: f, big: text}, true
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return number{}, false
	}
	return floatNumber(f), true
}

// value returns n in the forms evaluation produces.
func (n number) value() any {
	switch {
	case n.big != "":
		return json.Number(strings.Clone(n.big))
	case n.isInt:
		return n.i
	}
	return normalizeFloat(n.f)
}

func (n number) isZero() bool {
	if n.isInt {
		return n.i == 0
	}
	return n.f == 0
}

// appendFloat appends f the way encoding/json writes a float64: in
// decimal, switching to exponent form below 1e-6 and from 1e21. NaN and
// the infinities, which JSON cannot hold, are written as strconv does.
func appendFloat(dst []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// Shorten e-09 to e-9, as encoding/json does.
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}
