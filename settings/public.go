package settings

import (
	"bytes"
	"encoding/json"
	"slices"
)

// PublicModels returns the public part of the catalogue for GET /models, as JSON: an array in
// ui_logic.model_order with, per model, id, key, name, type, category, description, modes
// (each mode's declaration plus its "id"), default_mode, lane, parameters, fixed_parameters
// and recommended_resolutions. parameters lists, in validation order, every parameter a
// request may carry: the applicable common ones, the model's own and the fixed ones, each
// with its declaration as in the file plus "name", "source" ("common", "model" or "fixed")
// and "fixed" (true for fixed parameters, which also carry "type", "value" and "locked").
// Runtime internals other than the lane are left out. The output is deterministic.
func (c *Catalogue) PublicModels() any {
	return slices.Clone(c.public)
}

// publicModel is one entry of PublicModels.
type publicModel struct {
	ID                     string           `json:"id"`
	Key                    string           `json:"key"`
	Name                   string           `json:"name"`
	Type                   string           `json:"type"`
	Category               string           `json:"category,omitempty"`
	Description            string           `json:"description,omitempty"`
	Modes                  []map[string]any `json:"modes"`
	DefaultMode            string           `json:"default_mode"`
	Lane                   string           `json:"lane"`
	Parameters             []map[string]any `json:"parameters"`
	FixedParameters        json.RawMessage  `json:"fixed_parameters"`
	RecommendedResolutions json.RawMessage  `json:"recommended_resolutions"`
}

// buildPublic renders PublicModels once at load.
func buildPublic(models []*Model) (json.RawMessage, error) {
	out := make([]publicModel, 0, len(models))
	for _, m := range models {
		pm := publicModel{
			ID: m.ID, Key: m.Key, Name: m.Name, Type: m.Type, Category: m.Category,
			Description: m.Description, DefaultMode: m.DefaultMode, Lane: m.Runtime.Lane,
			FixedParameters: orDefault(m.fixedRaw, "{}"), RecommendedResolutions: orDefault(m.resolutions, "[]"),
		}
		for _, mb := range m.modeSpecs {
			spec, err := specMap(mb.Value)
			if err != nil {
				return nil, err
			}
			spec["id"] = mb.Key
			pm.Modes = append(pm.Modes, spec)
		}
		for _, p := range m.params {
			spec, err := specMap(p.spec)
			if err != nil {
				return nil, err
			}
			spec["name"] = p.name
			spec["source"] = p.source
			spec["fixed"] = p.source == sourceFixed
			if p.source == sourceFixed {
				spec["type"] = p.kind
			}
			pm.Parameters = append(pm.Parameters, spec)
		}
		out = append(out, pm)
	}
	return json.Marshal(out)
}

// specMap decodes a declaration keeping numbers as written.
func specMap(raw json.RawMessage) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	out := make(map[string]any)
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// orDefault returns raw, or def when raw is empty.
func orDefault(raw json.RawMessage, def string) json.RawMessage {
	if len(raw) == 0 {
		return json.RawMessage(def)
	}
	return raw
}
