package settings

import (
	"encoding/json"
	"fmt"
	"sort"
)

// keyframes checks a keyframe_array parameter: an array of objects with the item_schema's
// fields (frame_index and image required, strength defaulted), at least min_items of them,
// frame indexes unique. It returns the images sorted by frame index; Field names the item's
// position in the client's array.
func (v *requestValidator) keyframes(p *param, raw json.RawMessage, sent bool) []Image {
	if !sent {
		if p.requiredIn(v.mode) {
			v.fail(p.name, "%s is required%s (at least %s)", p.name, v.when(p), keyframeCount(max(p.minItems, 1)))
		}
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		v.fail(p.name, "%s must be an array of keyframes", p.name)
		return nil
	}
	if len(items) < p.minItems {
		v.fail(p.name, "%s needs at least %s", p.name, keyframeCount(p.minItems))
		return nil
	}
	s := p.item
	fields := map[string]*param{s.frameIndex.name: s.frameIndex, s.image.name: s.image}
	if s.strength != nil {
		fields[s.strength.name] = s.strength
	}
	var images []Image
	usedBy := make(map[int64]string)
	for i, itemRaw := range items {
		prefix := fmt.Sprintf("%s[%d]", p.name, i)
		members, err := decodeObject(itemRaw)
		if err != nil {
			v.fail(prefix, "%s %v", prefix, err)
			continue
		}
		values := make(map[string]any)
		for _, mb := range members {
			if fields[mb.Key] == nil {
				v.fail(prefix+"."+mb.Key, "unknown keyframe field %q in %s", mb.Key, prefix)
				continue
			}
			if isNull(mb.Value) {
				continue
			}
			dv, err := decodeValue(mb.Value)
			if err != nil {
				v.fail(prefix+"."+mb.Key, "%s.%s is not valid JSON", prefix, mb.Key)
				continue
			}
			values[mb.Key] = dv
		}
		img, ok := v.keyframe(s, prefix, values)
		if !ok {
			continue
		}
		frame := int64(img.FrameIndex)
		if other, dup := usedBy[frame]; dup {
			v.fail(prefix+"."+s.frameIndex.name, "%s.%s %d is already used by %s", prefix, s.frameIndex.name, frame, other)
			continue
		}
		usedBy[frame] = prefix
		images = append(images, img)
	}
	sort.SliceStable(images, func(a, b int) bool { return images[a].FrameIndex < images[b].FrameIndex })
	return images
}

// keyframe checks one keyframe's fields and decodes its image.
func (v *requestValidator) keyframe(s *keyframeSchema, prefix string, values map[string]any) (Image, bool) {
	ok := true
	var frame int64
	if raw, sent := values[s.frameIndex.name]; !sent {
		v.fail(prefix+"."+s.frameIndex.name, "%s.%s is required", prefix, s.frameIndex.name)
		ok = false
	} else if nv, problem := s.frameIndex.check(raw); problem != "" {
		v.fail(prefix+"."+s.frameIndex.name, "%s.%s %s", prefix, s.frameIndex.name, problem)
		ok = false
	} else {
		frame = nv.(int64)
	}
	strength := 1.0
	if s.strength != nil {
		strength = s.strength.def.(float64)
		if raw, sent := values[s.strength.name]; sent {
			if nv, problem := s.strength.check(raw); problem != "" {
				v.fail(prefix+"."+s.strength.name, "%s.%s %s", prefix, s.strength.name, problem)
				ok = false
			} else {
				strength = nv.(float64)
			}
		}
	}
	field := prefix + "." + s.image.name
	var img Image
	if raw, sent := values[s.image.name]; !sent {
		v.fail(field, "%s is required", field)
		ok = false
	} else {
		var problem string
		if img, problem = decodeImage(s.image, raw); problem != "" {
			v.fail(field, "%s %s", field, problem)
			ok = false
		}
	}
	if !ok {
		return Image{}, false
	}
	img.Field, img.FrameIndex, img.Strength = field, int(frame), strength
	return img, true
}

// keyframeCount renders "1 keyframe", "2 keyframes".
func keyframeCount(n int) string {
	if n == 1 {
		return "1 keyframe"
	}
	return fmt.Sprintf("%d keyframes", n)
}
