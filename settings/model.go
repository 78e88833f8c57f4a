package settings

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Model is one model of the catalogue. It is read-only once loaded.
type Model struct {
	// Key is the model's name in the file ("Pony_V6_XL").
	Key string
	// ID is the id clients send ("pony").
	ID string
	// Name is the display name.
	Name string
	// Type is "image" or "video".
	Type string
	// Category and Description are display texts.
	Category, Description string
	// Modes are the model's modes in file order.
	Modes []string
	// DefaultMode is used when a request names no mode.
	DefaultMode string
	// Runtime is where and how the model runs.
	Runtime Runtime

	params        []*param // common (applicable), model, fixed: the validation order
	byName        map[string]*param
	modeSpecs     []member
	fixedRaw      json.RawMessage
	resolutions   json.RawMessage
	warmupMembers []member
}

// requestFields are the parameters Request has typed fields for. Every model must declare
// them (in common or its own parameters) as always-present parameters of this type with a
// default or "required": true, so they always have a value.
var requestFields = []struct{ name, kind string }{
	{"prompt", kindString},
	{"negative_prompt", kindString},
	{"width", kindInt},
	{"height", kindInt},
	{"seed", kindInt},
	{"output_format", kindEnum},
}

// reservedNames are request fields that are not parameters.
var reservedNames = []string{"model", "mode"}

// parseModel reads one model of section ("image_models" or "video_models").
func parseModel(section, key string, raw json.RawMessage, common []*param, errs *problems) *Model {
	o := readObject(joinPath(section, key), raw, errs)
	if o == nil {
		return nil
	}
	before := len(errs.list)
	m := &Model{Key: key, byName: make(map[string]*param)}
	m.ID = o.str("id", true)
	if m.ID != "" && strings.Trim(m.ID, "abcdefghijklmnopqrstuvwxyz0123456789_-") != "" {
		errs.add(o.at("id"), "%q may contain only a-z, 0-9, _ and -", m.ID)
	}
	m.Name = o.str("name", true)
	m.Type = o.str("type", true)
	if want := strings.TrimSuffix(section, "_models"); m.Type != "" && m.Type != want {
		errs.add(o.at("type"), "%q in %s; must be %q", m.Type, section, want)
	}
	m.Category = o.str("category", false)
	m.Description = o.str("description", false)
	if modes := o.object("modes", true); modes != nil {
		for _, mb := range modes.members {
			readObject(modes.at(mb.Key), mb.Value, errs)
			m.Modes = append(m.Modes, mb.Key)
		}
		m.modeSpecs = modes.members
		if len(m.Modes) == 0 {
			errs.add(o.at("modes"), "must declare at least one mode")
		}
	}
	m.DefaultMode = o.str("default_mode", true)
	if m.DefaultMode != "" && len(m.Modes) > 0 && !slices.Contains(m.Modes, m.DefaultMode) {
		errs.add(o.at("default_mode"), "%q is not one of the modes (%s)", m.DefaultMode, strings.Join(m.Modes, ", "))
	}

	for _, p := range common {
		if len(p.appliesTo) == 0 || slices.Contains(p.appliesTo, m.Type) {
			m.add(p)
		}
	}
	if params := o.object("parameters", true); params != nil {
		for _, mb := range params.members {
			m.addParsed(params.at(mb.Key), mb, errs, func(sub *fileObject) *param {
				return parseParam(sub, mb.Key, sourceModel, m.Modes)
			})
		}
	}
	if fixed := o.object("fixed_parameters", false); fixed != nil {
		m.fixedRaw = o.byKey["fixed_parameters"]
		for _, mb := range fixed.members {
			m.addParsed(fixed.at(mb.Key), mb, errs, func(sub *fileObject) *param {
				return parseFixed(sub, mb.Key)
			})
		}
	}
	if rt := o.object("runtime", true); rt != nil {
		m.Runtime, m.warmupMembers = parseRuntime(rt)
		if meta := o.object("metadata", false); meta != nil && meta.has("vram_min_gb") {
			if minGB, ok := meta.float("vram_min_gb", false); ok && m.Runtime.VRAMGB > 0 && float64(m.Runtime.VRAMGB) < minGB {
				errs.add(rt.at("vram_gb"), "%d is below metadata.vram_min_gb %v", m.Runtime.VRAMGB, minGB)
			}
		}
	}
	if len(errs.list) > before {
		return nil // cross-checks below need a complete model
	}
	m.checkParams(o)
	m.checkResolutions(o)
	if len(errs.list) > before {
		return nil
	}
	return m
}

// add appends p to the model's parameters.
func (m *Model) add(p *param) {
	m.params = append(m.params, p)
	m.byName[p.name] = p
}

// addParsed parses one parameter declaration with parse and adds it, rejecting reserved and
// duplicate names.
func (m *Model) addParsed(path string, mb member, errs *problems, parse func(*fileObject) *param) {
	if slices.Contains(reservedNames, mb.Key) {
		errs.add(path, "%q is a reserved request field, not a parameter", mb.Key)
		return
	}
	if prev, ok := m.byName[mb.Key]; ok {
		errs.add(path, "%s is already declared as a %s parameter", mb.Key, prev.source)
		return
	}
	sub := readObject(path, mb.Value, errs)
	if sub == nil {
		return
	}
	if p := parse(sub); p != nil {
		m.add(p)
	}
}

// checkParams verifies what spans parameters: request fields exist, strength_param targets,
// and that a parameter is never required in a mode where it is not visible.
func (m *Model) checkParams(o *fileObject) {
	for _, f := range requestFields {
		p, ok := m.byName[f.name]
		switch {
		case !ok:
			o.errs.add(o.at("parameters"), "the model has no %s parameter (declare it in common or in parameters)", f.name)
		case p.kind != f.kind:
			o.errs.add(m.paramPath(o, p), "%s must be of type %q", f.name, f.kind)
		case p.visibleIf != nil:
			o.errs.add(m.paramPath(o, p), "%s must be present in every mode (no visible_if)", f.name)
		case !p.hasDef && !p.required:
			o.errs.add(m.paramPath(o, p), "%s needs a default or \"required\": true", f.name)
		}
	}
	for _, p := range m.params {
		if p.strengthParam != "" {
			sp, ok := m.byName[p.strengthParam]
			if !ok || sp.kind != kindFloat || sp.source == sourceFixed {
				o.errs.add(m.paramPath(o, p)+".strength_param", "%q is not a float parameter of this model", p.strengthParam)
			}
		}
		for _, mode := range m.Modes {
			if p.requiredIn(mode) && !p.visibleIn(mode) {
				o.errs.add(m.paramPath(o, p)+".required_if", "%s is required in mode %s, where its visible_if %q hides it", p.name, mode, p.visibleIf)
			}
		}
	}
}

// checkResolutions checks every recommended resolution against the width and height rules.
func (m *Model) checkResolutions(o *fileObject) {
	for i, raw := range o.array("recommended_resolutions", false) {
		path := fmt.Sprintf("%s[%d]", o.at("recommended_resolutions"), i)
		r := readObject(path, raw, o.errs)
		if r == nil {
			continue
		}
		for _, dim := range []string{"width", "height"} {
			n, ok := r.number(dim, true)
			if !ok {
				continue
			}
			if _, problem := m.byName[dim].check(n); problem != "" {
				o.errs.add(r.at(dim), "%s: %s %s", n, dim, problem)
			}
		}
	}
	m.resolutions = o.byKey["recommended_resolutions"]
}

// paramPath is the JSON path of p's declaration, for messages.
func (m *Model) paramPath(o *fileObject, p *param) string {
	switch p.source {
	case sourceCommon:
		return joinPath("common", p.name)
	case sourceFixed:
		return joinPath(o.at("fixed_parameters"), p.name)
	default:
		return joinPath(o.at("parameters"), p.name)
	}
}
