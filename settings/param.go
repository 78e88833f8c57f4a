package settings

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Parameter types a catalogue may declare.
const (
	kindString    = "string"
	kindInt       = "int"
	kindFloat     = "float"
	kindEnum      = "enum"
	kindBool      = "bool"
	kindImage     = "image_upload"
	kindKeyframes = "keyframe_array"
)

var paramKinds = []string{kindString, kindInt, kindFloat, kindEnum, kindBool, kindImage, kindKeyframes}

// Where a parameter is declared.
const (
	sourceCommon = "common" // the top-level "common" section
	sourceModel  = "model"  // a model's "parameters"
	sourceFixed  = "fixed"  // a model's "fixed_parameters"
	sourceItem   = "item"   // a keyframe_array's "item_schema"
)

// modelTypes are the model types, one per catalogue section.
var modelTypes = []string{"image", "video"}

// bound is a min or max as a number and as written in the file (for messages: "1.0").
type bound struct {
	value float64
	text  string
}

// param is one parameter a request may carry, with every rule the file declares for it.
// Keys the Go code does not interpret (label, help, advanced, placeholder, warning, ...) stay
// in spec and reach clients through PublicModels.
type param struct {
	name   string
	source string
	kind   string
	spec   json.RawMessage

	def    any // normalized default (or fixed value); nil when hasDef is false
	hasDef bool

	required   bool  // "required": the effective value must be present (a string not blank)
	requiredIf *expr // "required_if": like required, in the modes where it is true
	visibleIf  *expr // "visible_if": the parameter exists only when true
	appliesTo  []string

	min, max    *bound
	step        int64 // int only; 0 = none
	maxLength   int   // string only, in characters; 0 = none
	options     []any // enum only, normalized
	randomValue *int64

	accepts       []string // image_upload: accepted MIME types
	maxBytes      int64    // image_upload: decoded size limit
	strengthParam string   // image_upload: parameter holding this image's strength

	minItems int             // keyframe_array
	item     *keyframeSchema // keyframe_array

	locked    bool   // fixed only: the client may not change the value
	valueText string // fixed only: the value as written ("8", "1.0")
}

// keyframeSchema is the item_schema of a keyframe_array.
type keyframeSchema struct {
	frameIndex, image, strength *param
	// frameLimit names the parameter a frame index must stay below ("less_than_param" on
	// frame_index, e.g. num_frames); "" when none.
	frameLimit string
}

// visibleIn reports whether the parameter exists in mode.
func (p *param) visibleIn(mode string) bool {
	return p.visibleIf == nil || p.visibleIf.evalMode(mode)
}

// requiredIn reports whether the client must send the parameter in mode.
func (p *param) requiredIn(mode string) bool {
	return p.requiredIf != nil && p.requiredIf.evalMode(mode)
}

// parseParam reads one parameter declaration. modes are the modes conditions may name; nil
// means conditions are not allowed (common and item parameters).
func parseParam(o *fileObject, name, source string, modes []string) *param {
	p := &param{name: name, source: source, spec: specOf(o)}
	p.kind = o.str("type", true)
	if p.kind == "" {
		return nil
	}
	if !slices.Contains(paramKinds, p.kind) {
		o.errs.add(o.at("type"), "unknown type %q; known types: %s", p.kind, strings.Join(paramKinds, ", "))
		return nil
	}
	p.required = o.boolean("required")
	if o.has("applies_to") {
		if source != sourceCommon {
			o.errs.add(o.at("applies_to"), "only common parameters may declare applies_to")
		}
		p.appliesTo = o.stringList("applies_to", true)
		for i, t := range p.appliesTo {
			if !slices.Contains(modelTypes, t) {
				o.errs.add(fmt.Sprintf("%s[%d]", o.at("applies_to"), i), "%q is not a model type (%s)", t, strings.Join(modelTypes, ", "))
			}
		}
	}
	p.requiredIf = parseCondition(o, "required_if", modes)
	p.visibleIf = parseCondition(o, "visible_if", modes)

	switch p.kind {
	case kindInt, kindFloat:
		parseNumberRules(o, p)
	case kindString:
		if n, ok := o.integer("maxLength", false); ok {
			if n < 1 {
				o.errs.add(o.at("maxLength"), "must be at least 1")
			}
			p.maxLength = int(n)
		}
	case kindEnum:
		parseOptions(o, p)
	case kindImage:
		parseImageRules(o, p)
	case kindKeyframes:
		if n, ok := o.integer("min_items", false); ok {
			if n < 0 {
				o.errs.add(o.at("min_items"), "must not be negative")
			}
			p.minItems = int(n)
		}
		if item := o.object("item_schema", true); item != nil {
			p.item = parseKeyframeSchema(item)
		}
	}
	parseDefault(o, p)
	return p
}

// specOf returns the declaration as written, for PublicModels.
func specOf(o *fileObject) json.RawMessage {
	raw, err := json.Marshal(membersValue(o.members))
	if err != nil {
		return json.RawMessage("{}")
	}
	return raw
}

// membersValue turns members into a map for re-encoding (encoding/json sorts the keys, which
// keeps the public output deterministic).
func membersValue(members []member) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(members))
	for _, m := range members {
		out[m.Key] = m.Value
	}
	return out
}

// parseCondition reads the required_if / visible_if condition at key; every value it compares
// with must be one of modes.
func parseCondition(o *fileObject, key string, modes []string) *expr {
	if !o.has(key) {
		return nil
	}
	src := o.str(key, true)
	if src == "" {
		return nil
	}
	if modes == nil {
		o.errs.add(o.at(key), "conditions are allowed only on a model's parameters")
		return nil
	}
	e, err := parseExpr(src)
	if err != nil {
		o.errs.add(o.at(key), "%q does not parse: %v", src, err)
		return nil
	}
	for _, lit := range e.literals() {
		if !slices.Contains(modes, lit) {
			o.errs.add(o.at(key), "%q compares mode with %q, which is not a mode of this model (%s)", src, lit, strings.Join(modes, ", "))
		}
	}
	return e
}

// parseNumberRules reads min, max, step and random_value of an int or float parameter.
func parseNumberRules(o *fileObject, p *param) {
	for _, key := range []string{"min", "max"} {
		n, ok := o.number(key, false)
		if !ok {
			continue
		}
		f, _ := n.Float64()
		if p.kind == kindInt {
			if _, err := n.Int64(); err != nil {
				o.errs.add(o.at(key), "%s is not an integer", n)
				continue
			}
		}
		b := &bound{value: f, text: n.String()}
		if key == "min" {
			p.min = b
		} else {
			p.max = b
		}
	}
	if p.min != nil && p.max != nil && p.min.value > p.max.value {
		o.errs.add(o.path, "min %s is greater than max %s", p.min.text, p.max.text)
	}
	if p.kind == kindInt {
		if step, ok := o.integer("step", false); ok {
			if step < 1 {
				o.errs.add(o.at("step"), "must be at least 1")
			} else {
				p.step = step
			}
		}
		if rv, ok := o.integer("random_value", false); ok {
			p.randomValue = &rv
			if p.max == nil || p.max.value < 0 {
				o.errs.add(o.at("random_value"), "needs a max of at least 0 (random values are drawn from 0..max)")
			}
		}
	} else if o.has("random_value") {
		o.errs.add(o.at("random_value"), "only int parameters may declare random_value")
	}
}

// parseOptions reads the options of an enum: strings or numbers, unique.
func parseOptions(o *fileObject, p *param) {
	raws := o.array("options", true)
	if raws != nil && len(raws) == 0 {
		o.errs.add(o.at("options"), "must not be empty")
	}
	seen := make(map[string]bool)
	for i, raw := range raws {
		path := fmt.Sprintf("%s[%d]", o.at("options"), i)
		v, err := decodeValue(raw)
		if err != nil {
			o.errs.add(path, "%v", err)
			continue
		}
		switch v.(type) {
		case string, json.Number:
		default:
			o.errs.add(path, "%s is not a string or a number", raw)
			continue
		}
		nv := normalize(v)
		key := formatValue(nv)
		if seen[key] {
			o.errs.add(path, "duplicate option %s", key)
		}
		seen[key] = true
		p.options = append(p.options, nv)
	}
}

// parseImageRules reads accepts, max_bytes and strength_param of an image_upload parameter.
func parseImageRules(o *fileObject, p *param) {
	p.accepts = o.stringList("accepts", true)
	for i, mime := range p.accepts {
		if formatByMIME(mime) == nil {
			o.errs.add(fmt.Sprintf("%s[%d]", o.at("accepts"), i), "%q is not a supported image type (%s)", mime, strings.Join(supportedMIMEs(), ", "))
		}
	}
	if n, ok := o.integer("max_bytes", true); ok {
		if n < 1 {
			o.errs.add(o.at("max_bytes"), "must be positive")
		}
		p.maxBytes = n
	}
	p.strengthParam = o.str("strength_param", false)
}

// parseKeyframeSchema reads the item_schema of a keyframe_array: a required int frame_index,
// a required image_upload image and an optional float strength with a default.
func parseKeyframeSchema(item *fileObject) *keyframeSchema {
	item.onlyKeys("frame_index", "image", "strength")
	s := &keyframeSchema{}
	fields := []struct {
		name, kind string
		target     **param
		required   bool
	}{
		{"frame_index", kindInt, &s.frameIndex, true},
		{"image", kindImage, &s.image, true},
		{"strength", kindFloat, &s.strength, false},
	}
	ok := true
	for _, f := range fields {
		sub := item.object(f.name, f.required)
		if sub == nil {
			ok = ok && !f.required
			continue
		}
		p := parseParam(sub, f.name, sourceItem, nil)
		if p == nil {
			ok = false
			continue
		}
		if f.name == "frame_index" {
			s.frameLimit = sub.str("less_than_param", false)
		}
		if p.kind != f.kind {
			item.errs.add(sub.at("type"), "must be %q", f.kind)
			ok = false
			continue
		}
		if f.required && p.hasDef {
			item.errs.add(sub.at("default"), "a keyframe's %s is required, so it has no default", f.name)
		}
		if !f.required && !p.hasDef {
			sub.missing("default")
		}
		*f.target = p
	}
	if !ok {
		return nil
	}
	return s
}

// parseDefault reads and checks the default of p against p's own rules.
func parseDefault(o *fileObject, p *param) {
	if !o.has("default") {
		return
	}
	raw := o.byKey["default"]
	switch p.kind {
	case kindImage:
		o.errs.add(o.at("default"), "image_upload parameters have no default")
		return
	case kindKeyframes:
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil || len(list) != 0 {
			o.errs.add(o.at("default"), "the default of a keyframe_array can only be []")
		}
		return
	}
	v, err := decodeValue(raw)
	if err != nil {
		o.errs.add(o.at("default"), "%v", err)
		return
	}
	nv, problem := p.check(v)
	if problem != "" {
		o.errs.add(o.at("default"), "%s: %s %s", raw, p.name, problem)
		return
	}
	p.def, p.hasDef = nv, true
}

// parseFixed reads one fixed_parameters entry: a value, whether it is locked, and, for an
// unlocked number, the min and max a client's override must respect.
func parseFixed(o *fileObject, name string) *param {
	p := &param{name: name, source: sourceFixed, spec: specOf(o)}
	if !o.has("value") {
		o.missing("value")
		return nil
	}
	if !o.has("locked") {
		o.missing("locked")
	}
	p.locked = o.boolean("locked")
	raw := o.byKey["value"]
	p.valueText = string(bytes.TrimSpace(raw))
	v, err := decodeValue(raw)
	if err != nil {
		o.errs.add(o.at("value"), "%v", err)
		return nil
	}
	switch normalize(v).(type) {
	case int64:
		p.kind = kindInt
	case float64:
		p.kind = kindFloat
	case string:
		p.kind = kindString
	case bool:
		p.kind = kindBool
	default:
		o.errs.add(o.at("value"), "%s is not a number, a string or a boolean", raw)
		return nil
	}
	if p.kind == kindInt || p.kind == kindFloat {
		parseNumberRules(o, p)
		if !p.locked && (p.min == nil || p.max == nil) {
			o.errs.add(o.path, "an unlocked fixed number needs min and max to bound the client's override")
		}
	}
	nv, problem := p.check(v)
	if problem != "" {
		o.errs.add(o.at("value"), "%s: %s %s", raw, name, problem)
		return nil
	}
	p.def, p.hasDef = nv, true
	return p
}
