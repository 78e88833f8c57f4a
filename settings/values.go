package settings

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxExactInt is the largest integer a float64 holds exactly (2^53); an integral number
// written with a fraction or exponent ("25.0", "1e2") is accepted as an int up to it.
const maxExactInt = 1 << 53

// check validates v (a value decoded with UseNumber) against the rules of a scalar parameter
// and returns it normalized: string, int64, float64, bool, or the matching enum option. The
// problem, when not empty, is a phrase that follows the parameter's name ("must be between 20
// and 60").
func (p *param) check(v any) (any, string) {
	switch p.kind {
	case kindString:
		s, ok := v.(string)
		if !ok {
			return nil, "must be a string"
		}
		if p.maxLength > 0 && utf8.RuneCountInString(s) > p.maxLength {
			return nil, "must be at most " + strconv.Itoa(p.maxLength) + " characters"
		}
		return s, ""
	case kindInt:
		n, ok := asInt(v)
		if !ok {
			return nil, "must be an integer"
		}
		if problem := p.checkRange(float64(n)); problem != "" {
			return nil, problem
		}
		if p.step > 0 {
			base := int64(0)
			if p.min != nil {
				base = int64(p.min.value)
			}
			if (n-base)%p.step != 0 {
				if base%p.step == 0 {
					return nil, "must be a multiple of " + strconv.FormatInt(p.step, 10)
				}
				return nil, "must be " + strconv.FormatInt(base, 10) + " plus a multiple of " + strconv.FormatInt(p.step, 10) +
					" (" + strconv.FormatInt(base, 10) + ", " + strconv.FormatInt(base+p.step, 10) + ", " + strconv.FormatInt(base+2*p.step, 10) + ", …)"
			}
		}
		return n, ""
	case kindFloat:
		f, ok := asFloat(v)
		if !ok {
			return nil, "must be a number"
		}
		if problem := p.checkRange(f); problem != "" {
			return nil, problem
		}
		return f, ""
	case kindBool:
		b, ok := v.(bool)
		if !ok {
			return nil, "must be true or false"
		}
		return b, ""
	case kindEnum:
		for _, opt := range p.options {
			if enumMatches(opt, v) {
				return opt, ""
			}
		}
		return nil, "must be one of " + p.optionList()
	default:
		return nil, "cannot be checked as a single value"
	}
}

// checkRange returns the problem when f is outside min..max.
func (p *param) checkRange(f float64) string {
	switch {
	case p.min != nil && p.max != nil && (f < p.min.value || f > p.max.value):
		return "must be between " + p.min.text + " and " + p.max.text
	case p.min != nil && f < p.min.value:
		return "must be at least " + p.min.text
	case p.max != nil && f > p.max.value:
		return "must be at most " + p.max.text
	}
	return ""
}

// optionList renders the enum options for messages: "Euler a", "DPM++ 2M Karras" or 8, 16, 24.
func (p *param) optionList() string {
	parts := make([]string, len(p.options))
	for i, o := range p.options {
		parts[i] = formatValue(o)
	}
	return strings.Join(parts, ", ")
}

// asInt accepts a JSON number with an integral value.
func asInt(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
		return i, true
	}
	f, err := strconv.ParseFloat(n.String(), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > maxExactInt {
		return 0, false
	}
	return int64(f), true
}

// asFloat accepts a finite JSON number.
func asFloat(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(n.String(), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// enumMatches compares a normalized option with a client value: strings by equality, numbers
// by numeric value (so 16 and 16.0 both select the option 16).
func enumMatches(opt, v any) bool {
	switch o := opt.(type) {
	case string:
		s, ok := v.(string)
		return ok && s == o
	case int64:
		f, ok := asFloat(v)
		return ok && f == float64(o)
	case float64:
		f, ok := asFloat(v)
		return ok && f == o
	}
	return false
}

// sameValue reports whether a client value equals a normalized fixed value.
func sameValue(fixed, v any) bool {
	switch f := fixed.(type) {
	case bool:
		b, ok := v.(bool)
		return ok && b == f
	default:
		return enumMatches(fixed, v)
	}
}
