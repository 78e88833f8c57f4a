// Package settings loads the model catalogue (settings/inference_settings.json), the single
// source of truth for every model rule, and validates generation requests against it.
//
// Nothing in this package knows a model: ids, modes, parameters, ranges, defaults, visibility
// and requirement rules, fixed values, image limits and the runtime of each model (lane,
// timeouts, retry policy, warm-up) all come from the file. The Go code knows only the shape of
// the file and the few request fields every model has (prompt, negative_prompt, width, height,
// seed, output_format), and checks at load that the file declares them.
//
// How the file's rules are read:
//
//   - Parameters of a model are the "common" ones whose "applies_to" (absent = every type)
//     includes the model's type, its "parameters" and its "fixed_parameters", in that order.
//     A request may carry only those, plus "model" and "mode".
//   - "visible_if" (absent = always): in a mode where it is false the parameter does not exist;
//     sending it is an error and it is not in Request.Params.
//   - "required": the effective value (sent or default) must exist, and a string must not be
//     blank. "required_if": the same, only in the modes where the condition holds; image and
//     keyframe fields have no default, so there it means "must be sent". A parameter may never
//     be required in a mode where it is not visible (checked at load).
//   - "min"/"max" bound ints and floats; "step" is enforced for ints as (v-min) % step == 0 and
//     is only a UI granularity for floats. "maxLength" counts characters (runes).
//   - fixed_parameters: "locked": true means the value is imposed (a client may repeat it but
//     not change it); "locked": false means it is a recommended default the client may
//     override within the entry's "min" and "max", which an unlocked number must declare.
//   - "random_value" on an int (the seed's -1) is replaced by a random value in 0..max.
//   - image_upload: "accepts" (MIME types among png, jpeg, webp), "max_bytes" (decoded size)
//     and optionally "strength_param", the float parameter that carries the image's strength.
//   - keyframe_array: "min_items" and an "item_schema" with frame_index (int, required), image
//     (image_upload, required) and strength (float with a default).
//   - Conditions are a tiny language over mode: ==, !=, &&, ||, parentheses, values bare or
//     quoted (see expr.go). Every value compared must be one of the model's modes.
//   - JSON null in a request counts as "not sent".
//
// A Catalogue is immutable after loading and safe for concurrent use.
package settings

import (
	_ "embed"
	"encoding/json"
	"slices"
)

//go:embed inference_settings.json
var defaultFile []byte

// Catalogue is a loaded and validated catalogue file.
type Catalogue struct {
	raw    []byte
	models []*Model // in ui_logic.model_order
	byID   map[string]*Model
	shared SharedLane
	public json.RawMessage
}

// Model returns the model with the given id ("pony"), and whether it exists.
func (c *Catalogue) Model(id string) (*Model, bool) {
	m, ok := c.byID[id]
	return m, ok
}

// Models returns every model in the order of ui_logic.model_order. The slice is a copy; the
// models themselves are shared and must be treated as read-only.
func (c *Catalogue) Models() []*Model {
	return slices.Clone(c.models)
}

// IDs returns the model ids in the order of ui_logic.model_order.
func (c *Catalogue) IDs() []string {
	ids := make([]string, len(c.models))
	for i, m := range c.models {
		ids[i] = m.ID
	}
	return ids
}

// Raw returns the whole catalogue file as loaded (a copy), for GET /settings.
func (c *Catalogue) Raw() json.RawMessage {
	return slices.Clone(json.RawMessage(c.raw))
}

// SharedLane returns the declaration of the shared (degraded) lane.
func (c *Catalogue) SharedLane() SharedLane {
	return c.shared
}
