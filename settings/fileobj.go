package settings

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// problems collects every defect of a catalogue file, each prefixed with its JSON path, so one
// load reports them all.
type problems struct {
	list []error
}

// add records a problem at path.
func (p *problems) add(path, format string, args ...any) {
	p.list = append(p.list, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
}

// err returns the collected problems joined, or nil.
func (p *problems) err() error {
	return errors.Join(p.list...)
}

// fileObject is a JSON object of the catalogue file being read. Its getters record a problem
// naming the full path when a value is missing or of the wrong kind, and return a zero value.
type fileObject struct {
	path    string
	members []member
	byKey   map[string]json.RawMessage
	errs    *problems
}

// readObject reads raw as an object at path; it records a problem and returns nil if raw is
// not an object.
func readObject(path string, raw json.RawMessage, errs *problems) *fileObject {
	members, err := decodeObject(raw)
	if err != nil {
		errs.add(path, "%v", err)
		return nil
	}
	o := &fileObject{path: path, members: members, byKey: make(map[string]json.RawMessage, len(members)), errs: errs}
	for _, m := range members {
		o.byKey[m.Key] = m.Value
	}
	return o
}

// at returns the path of key inside the object.
func (o *fileObject) at(key string) string { return joinPath(o.path, key) }

// has reports whether key is present and not null.
func (o *fileObject) has(key string) bool {
	raw, ok := o.byKey[key]
	return ok && !isNull(raw)
}

// missing records that a required key is absent.
func (o *fileObject) missing(key string) {
	o.errs.add(o.at(key), "is required")
}

// onlyKeys records a problem for every key not in allowed (to catch typos in keys the Go
// code interprets).
func (o *fileObject) onlyKeys(allowed ...string) {
	for _, m := range o.members {
		if !slices.Contains(allowed, m.Key) {
			o.errs.add(o.at(m.Key), "unknown key; allowed keys: %s", strings.Join(allowed, ", "))
		}
	}
}

// str returns the string at key; a missing key is a problem when required.
func (o *fileObject) str(key string, required bool) string {
	if !o.has(key) {
		if required {
			o.missing(key)
		}
		return ""
	}
	var s string
	if err := json.Unmarshal(o.byKey[key], &s); err != nil {
		o.errs.add(o.at(key), "%s is not a string", o.byKey[key])
		return ""
	}
	if required && strings.TrimSpace(s) == "" {
		o.errs.add(o.at(key), "must not be empty")
	}
	return s
}

// boolean returns the boolean at key, false when absent.
func (o *fileObject) boolean(key string) bool {
	if !o.has(key) {
		return false
	}
	var b bool
	if err := json.Unmarshal(o.byKey[key], &b); err != nil {
		o.errs.add(o.at(key), "%s is not a boolean", o.byKey[key])
	}
	return b
}

// number returns the number at key as written in the file; ok is false when it is absent or
// not a number.
func (o *fileObject) number(key string, required bool) (json.Number, bool) {
	if !o.has(key) {
		if required {
			o.missing(key)
		}
		return "", false
	}
	v, err := decodeValue(o.byKey[key])
	n, isNum := v.(json.Number)
	if err != nil || !isNum {
		o.errs.add(o.at(key), "%s is not a number", o.byKey[key])
		return "", false
	}
	if _, err := fileNumber(n); err != nil {
		o.errs.add(o.at(key), "%v", err)
		return "", false
	}
	return n, true
}

// integer returns the integer at key; ok is false when absent or not an integer.
func (o *fileObject) integer(key string, required bool) (int64, bool) {
	n, ok := o.number(key, required)
	if !ok {
		return 0, false
	}
	v, _ := fileNumber(n)
	i, isInt := v.(int64)
	if !isInt {
		o.errs.add(o.at(key), "%s is not an integer", n)
		return 0, false
	}
	return i, true
}

// float returns the number at key as float64; ok is false when absent or not a number.
func (o *fileObject) float(key string, required bool) (float64, bool) {
	n, ok := o.number(key, required)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

// duration returns the required, positive Go duration string at key.
func (o *fileObject) duration(key string) time.Duration {
	if !o.has(key) {
		o.missing(key)
		return 0
	}
	var s string
	if err := json.Unmarshal(o.byKey[key], &s); err != nil {
		o.errs.add(o.at(key), "%s is not a duration string such as \"30s\"", o.byKey[key])
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		o.errs.add(o.at(key), "%q is not a duration", s)
		return 0
	}
	if d <= 0 {
		o.errs.add(o.at(key), "%q must be positive", s)
		return 0
	}
	return d
}

// stringList returns the array of non-empty strings at key.
func (o *fileObject) stringList(key string, required bool) []string {
	if !o.has(key) {
		if required {
			o.missing(key)
		}
		return nil
	}
	var list []string
	if err := json.Unmarshal(o.byKey[key], &list); err != nil {
		o.errs.add(o.at(key), "%s is not an array of strings", o.byKey[key])
		return nil
	}
	for i, s := range list {
		if strings.TrimSpace(s) == "" {
			o.errs.add(fmt.Sprintf("%s[%d]", o.at(key), i), "must not be empty")
		}
	}
	return list
}

// object returns the object at key, or nil (with a problem when required or not an object).
func (o *fileObject) object(key string, required bool) *fileObject {
	if !o.has(key) {
		if required {
			o.missing(key)
		}
		return nil
	}
	return readObject(o.at(key), o.byKey[key], o.errs)
}

// array returns the elements of the array at key, or nil (with a problem when required or
// not an array).
func (o *fileObject) array(key string, required bool) []json.RawMessage {
	if !o.has(key) {
		if required {
			o.missing(key)
		}
		return nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(o.byKey[key], &list); err != nil {
		o.errs.add(o.at(key), "is not an array")
		return nil
	}
	return list
}
