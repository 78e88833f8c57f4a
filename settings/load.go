package settings

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// modelSections are the top-level sections holding models; the section fixes the model type.
var modelSections = []string{"image_models", "video_models"}

// Load reads and validates the catalogue file at path.
func Load(path string) (*Catalogue, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load settings %s: %w", path, err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("load settings %s: %w", path, err)
	}
	return c, nil
}

// LoadDefault parses the catalogue embedded in the binary (settings/inference_settings.json
// at build time).
func LoadDefault() (*Catalogue, error) {
	c, err := Parse(defaultFile)
	if err != nil {
		return nil, fmt.Errorf("load embedded settings: %w", err)
	}
	return c, nil
}

// Parse validates a catalogue file and builds the Catalogue. It reports every defect it finds,
// each as `json.path: problem`, for example
// `image_models.Pony_V6_XL.runtime.heartbeat: "abc" is not a duration`.
func Parse(data []byte) (*Catalogue, error) {
	errs := &problems{}
	top := readObject("", data, errs)
	if top == nil {
		return nil, errs.err()
	}
	var common []*param
	if co := top.object("common", true); co != nil {
		for _, mb := range co.members {
			if slices.Contains(reservedNames, mb.Key) {
				errs.add(co.at(mb.Key), "%q is a reserved request field, not a parameter", mb.Key)
				continue
			}
			if sub := readObject(co.at(mb.Key), mb.Value, errs); sub != nil {
				if p := parseParam(sub, mb.Key, sourceCommon, nil); p != nil {
					common = append(common, p)
				}
			}
		}
	}
	c := &Catalogue{raw: slices.Clone(data), byID: make(map[string]*Model)}
	if sl := top.object("shared_lane", true); sl != nil {
		c.shared = parseSharedLane(sl)
	}

	byKey := make(map[string]*Model)
	var keys []string
	lanes := map[string]string{c.shared.TaskQueue: "shared_lane.task_queue"}
	for _, section := range modelSections {
		sec := top.object(section, false)
		if sec == nil {
			continue
		}
		for _, mb := range sec.members {
			keys = append(keys, mb.Key)
			m := parseModel(section, mb.Key, mb.Value, common, errs)
			if m == nil {
				continue
			}
			if _, dup := byKey[m.Key]; dup {
				errs.add(sec.at(m.Key), "model %s is declared twice", m.Key)
			}
			if other, dup := c.byID[m.ID]; dup {
				errs.add(sec.at(m.Key)+".id", "id %q is also used by %s", m.ID, other.Key)
			}
			if other, dup := lanes[m.Runtime.Lane]; dup {
				errs.add(sec.at(m.Key)+".runtime.lane", "lane %q is also used by %s", m.Runtime.Lane, other)
			}
			lanes[m.Runtime.Lane] = m.Key
			byKey[m.Key] = m
			c.byID[m.ID] = m
		}
	}
	if len(keys) == 0 {
		errs.add("image_models", "the catalogue declares no model (in %s)", strings.Join(modelSections, " or "))
	}
	if ui := top.object("ui_logic", true); ui != nil {
		order := ui.stringList("model_order", true)
		for i, key := range order {
			if !slices.Contains(keys, key) {
				errs.add(fmt.Sprintf("%s[%d]", ui.at("model_order"), i), "%q is not a model", key)
			} else if slices.Index(order, key) != i {
				errs.add(fmt.Sprintf("%s[%d]", ui.at("model_order"), i), "%q is listed twice", key)
			}
			if m, ok := byKey[key]; ok && slices.Index(order, key) == i {
				c.models = append(c.models, m)
			}
		}
		for _, key := range keys {
			if order != nil && !slices.Contains(order, key) {
				errs.add(ui.at("model_order"), "model %s is missing", key)
			}
		}
	}
	if err := errs.err(); err != nil {
		return nil, err
	}

	for _, m := range c.models {
		if _, err := m.validate(m.warmupMembers, func() int64 { return 0 }); err != nil {
			errs.add(joinPath(m.section(), m.Key)+".runtime.warmup", "the warm-up request is invalid: %v", err)
		}
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	public, err := buildPublic(c.models)
	if err != nil {
		return nil, fmt.Errorf("build public catalogue: %w", err)
	}
	c.public = public
	return c, nil
}

// section is the top-level section the model is declared in.
func (m *Model) section() string { return m.Type + "_models" }
