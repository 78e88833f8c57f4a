package client

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// RequestSpec is a generation as a command line states it.
type RequestSpec struct {
	Model, Mode, Prompt string
	// Params are "name=value" pairs; a value that parses as a JSON number or boolean is sent
	// as one, anything else as a string ("sampler=Euler a").
	Params []string
	// Images are "field=path" pairs: the file is sent as a data URI in field, with the MIME type
	// sniffed from its content (png, jpeg or webp).
	Images []string
}

// imageMIMEs are the reference image types the API accepts.
var imageMIMEs = map[string]bool{"image/png": true, "image/jpeg": true, "image/webp": true}

// Body builds the JSON body of POST /generate.
func (s RequestSpec) Body() (map[string]any, error) {
	if s.Model == "" {
		return nil, fmt.Errorf("--model is required (GET /models lists the models)")
	}
	body := map[string]any{"model": s.Model}
	if s.Mode != "" {
		body["mode"] = s.Mode
	}
	if s.Prompt != "" {
		body["prompt"] = s.Prompt
	}
	for _, p := range s.Params {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--param %q: want name=value", p)
		}
		if _, dup := body[k]; dup {
			return nil, fmt.Errorf("--param %q: %s is set twice", p, k)
		}
		body[k] = ParamValue(v)
	}
	for _, img := range s.Images {
		field, path, ok := strings.Cut(img, "=")
		if !ok || field == "" || path == "" {
			return nil, fmt.Errorf("--image %q: want field=path, such as reference_image=cat.png", img)
		}
		if _, dup := body[field]; dup {
			return nil, fmt.Errorf("--image %q: %s is set twice", img, field)
		}
		uri, err := DataURI(path)
		if err != nil {
			return nil, fmt.Errorf("--image %s: %w", field, err)
		}
		body[field] = uri
	}
	return body, nil
}

// ParamValue reads a command-line value: a JSON number (kept exactly as written) or boolean
// when it parses as one, else the string itself.
func ParamValue(v string) any {
	switch v {
	case "true":
		return true
	case "false":
		return false
	}
	dec := json.NewDecoder(strings.NewReader(v))
	dec.UseNumber()
	var n any
	if err := dec.Decode(&n); err == nil && !dec.More() {
		if num, ok := n.(json.Number); ok && strings.TrimSpace(v) == v {
			return num
		}
	}
	return v
}

// DataURI reads an image file as a data URI with its sniffed MIME type.
func DataURI(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	mime := http.DetectContentType(data)
	if !imageMIMEs[mime] {
		return "", fmt.Errorf("%s is %s, not a png, jpeg or webp image", path, mime)
	}
	var b bytes.Buffer
	b.Grow(len(mime) + 13 + base64.StdEncoding.EncodedLen(len(data)))
	b.WriteString("data:" + mime + ";base64,")
	enc := base64.NewEncoder(base64.StdEncoding, &b)
	_, _ = enc.Write(data)
	_ = enc.Close()
	return b.String(), nil
}
