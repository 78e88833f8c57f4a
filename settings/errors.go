package settings

import "strings"

// FieldError is one problem with one field of a request. Message is a complete sentence for
// people that names the field ("steps is fixed at 8 for anisora"); Field is the field's path
// ("steps", "arbitrary_frames[1].frame_index"), empty for the body as a whole.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists every problem found in a request. Validate returns no other error.
type ValidationError struct {
	Fields []FieldError `json:"fields"`
}

// Error lists the problems in order.
func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		msgs[i] = f.Message
	}
	return "invalid request: " + strings.Join(msgs, "; ")
}

// Has reports whether a problem was found for field; handy in tests and handlers.
func (e *ValidationError) Has(field string) bool {
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}
