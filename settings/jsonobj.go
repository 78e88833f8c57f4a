package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// member is one name/value pair of a JSON object, in document order.
type member struct {
	Key   string
	Value json.RawMessage
}

// decodeObject splits data, which must be exactly one JSON object, into its members in
// document order. Order matters (parameters are shown and processed in file order) and
// encoding/json maps lose it; duplicate names are rejected because encoding/json would
// silently keep the last one.
func decodeObject(data []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, syntaxProblem(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("must be a JSON object")
	}
	var out []member
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, syntaxProblem(err)
		}
		key, _ := tok.(string) // inside an object the decoder yields only string keys
		if seen[key] {
			return nil, fmt.Errorf("duplicate name %q", key)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, syntaxProblem(err)
		}
		out = append(out, member{Key: key, Value: raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, syntaxProblem(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("unexpected data after the JSON object")
	}
	return out, nil
}

// syntaxProblem turns a decoder error into a short message that names the byte offset and
// nothing of the decoder's internals.
func syntaxProblem(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d", se.Offset)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("invalid JSON: unexpected end of input")
	}
	return errors.New("invalid JSON")
}

// decodeValue decodes one JSON value keeping numbers as json.Number, so integers stay exact
// and integral and fractional literals can be told apart.
func decodeValue(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, syntaxProblem(err)
	}
	return v, nil
}

// isNull reports whether raw is the JSON literal null.
func isNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

// fileNumber turns a number literal of the catalogue file into int64 when it is written as an
// integer ("8") and float64 when written with a fraction or exponent ("1.0"), so a fixed
// cfg_scale of 1.0 stays a float and a fixed steps of 8 stays an integer.
func fileNumber(n json.Number) (any, error) {
	s := n.String()
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("%s is not a finite number", s)
	}
	return f, nil
}

// normalize replaces every json.Number inside v by int64 or float64 (see fileNumber).
func normalize(v any) any {
	switch t := v.(type) {
	case json.Number:
		if n, err := fileNumber(t); err == nil {
			return n
		}
		return t.String()
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = normalize(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = normalize(e)
		}
		return out
	default:
		return v
	}
}

// formatValue renders a (normalized or json.Number) value for messages: strings quoted,
// numbers as written.
func formatValue(v any) string {
	switch t := v.(type) {
	case string:
		return strconv.Quote(t)
	case json.Number:
		return t.String()
	case float64:
		return strconv.FormatFloat(t, 'g', -1, 64)
	default:
		b, err := json.Marshal(t)
		if err != nil {
			return fmt.Sprint(t)
		}
		return string(b)
	}
}

// joinPath appends key to a dotted JSON path.
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
