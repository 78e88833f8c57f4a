// The form logic against the real catalogue (settings/inference_settings.json): for every model
// and mode, which fields show, which are required, that the defaults validate, what the payload
// holds, which bad values are caught, and the estimate. The payloads are also written to
// testdata/payloads.json, which settings/webform_test.go feeds to the Go validator, so the
// server is proven to accept (or reject on the same fields) what the studio sends.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import settingsJSON from "../../../settings/inference_settings.json";
import {
  buildPayload,
  checkImageFile,
  defaultState,
  estimateSeconds,
  fieldLabel,
  framesForSeconds,
  isRequired,
  listModels,
  modeFields,
  modelFields,
  modesOf,
  qualityPreset,
  resolutionFits,
  validate,
  visibleFields,
  type FormState,
  type ImageValue,
} from "./form";
import { parseSettings } from "./json";
import type { ModelType } from "./types";

const here = dirname(fileURLToPath(import.meta.url));
const settingsText = readFileSync(join(here, "..", "..", "..", "settings", "inference_settings.json"), "utf8");
const s = parseSettings(settingsText);
// A real 1×1 PNG: the Go validator decodes its header.
const png: ImageValue = {
  dataUri: "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  mime: "image/png",
  bytes: 70,
  name: "ref.png",
};

interface Fixture {
  name: string;
  body: Record<string, unknown>;
  /** The fields the client flags; [] means the server must accept the body. */
  problems: string[];
}
const fixtures: Fixture[] = [];

const names = (fs: { name: string }[]) => fs.map((f) => f.name);

/** A form of model in mode with a prompt and every image the mode needs filled in. */
function filled(key: string, mode: string): FormState {
  const st = defaultState(s, key);
  st.values.prompt = "a lighthouse at dusk";
  for (const f of modeFields(s, key, mode)) {
    if (f.kind === "image_upload") st.images[f.name] = png;
    if (f.kind === "keyframe_array") {
      st.keyframes[f.name] = [
        { id: "a", frame_index: "0", strength: "", image: png },
        { id: "b", frame_index: "40", strength: "0.5", image: png },
      ];
    }
  }
  return st;
}

function record(name: string, key: string, mode: string, st: FormState) {
  const problems = validate(s, key, mode, st).map((p) => p.field);
  fixtures.push({ name, body: buildPayload(s, key, mode, st), problems });
  return problems;
}

describe("the catalogue", () => {
  it("reads the file as JSON.parse does", () => {
    expect(s.file).toEqual(settingsJSON);
  });

  it("parses fixed numbers with the kind the Go loader gives them", () => {
    expect(s.fixedKinds["Index-AniSora_V3.2.steps"]).toBe("int");
    expect(s.fixedKinds["Index-AniSora_V3.2.guidance_scale"]).toBe("float");
    expect(s.fixedKinds["Phr00t_WAN_Rapid_AllInOne_NSFW_v12.cfg_scale"]).toBe("float");
  });

  it("lists models by type in ui_logic.model_order", () => {
    expect(listModels(s, "image").map((m) => m.model.id)).toEqual(["pony", "flux"]);
    expect(listModels(s, "video").map((m) => m.model.id)).toEqual(["anisora", "phr00t"]);
  });

  it("gives image models their own output_format and video models the common one", () => {
    const pony = modelFields(s, "Pony_V6_XL").filter((f) => f.name === "output_format");
    expect(pony).toHaveLength(1);
    expect(pony[0].source).toBe("model");
    expect(pony[0].spec.options).toEqual(["png", "jpeg"]);
    const anisora = modelFields(s, "Index-AniSora_V3.2").filter((f) => f.name === "output_format");
    expect(anisora[0].source).toBe("common");
    expect(anisora[0].spec.options).toEqual(["mp4", "webm"]);
  });
});

// What each (model, mode) shows. Basic = without the advanced toggle.
const expected: Record<string, Record<string, { basic: string[]; all: string[]; required: string[] }>> = {
  Pony_V6_XL: {
    txt2img: {
      basic: ["prompt"],
      all: ["prompt", "negative_prompt", "width", "height", "seed", "steps", "cfg_scale", "sampler", "clip_skip", "output_format"],
      required: ["prompt", "width", "height", "seed"],
    },
    img2img: {
      basic: ["prompt", "reference_image"],
      all: ["prompt", "negative_prompt", "width", "height", "seed", "reference_image", "steps", "cfg_scale", "sampler", "clip_skip", "denoising_strength", "output_format"],
      required: ["prompt", "width", "height", "seed", "reference_image"],
    },
  },
  Flux_dev_nf4: {
    txt2img: {
      basic: ["prompt"],
      all: ["prompt", "negative_prompt", "width", "height", "seed", "steps", "guidance_scale", "distilled_cfg", "sampler", "output_format"],
      required: ["prompt", "width", "height", "seed"],
    },
    img2img: {
      basic: ["prompt", "reference_image"],
      all: ["prompt", "negative_prompt", "width", "height", "seed", "reference_image", "steps", "guidance_scale", "distilled_cfg", "sampler", "denoising_strength", "output_format"],
      required: ["prompt", "width", "height", "seed", "reference_image"],
    },
  },
  "Index-AniSora_V3.2": {
    t2v: {
      basic: ["prompt", "steps", "guidance_scale"],
      all: ["prompt", "negative_prompt", "width", "height", "seed", "output_format", "num_frames", "fps", "motion_score", "steps", "guidance_scale"],
      required: ["prompt", "width", "height", "seed"],
    },
    i2v: {
      basic: ["prompt", "reference_image", "steps", "guidance_scale"],
      all: ["prompt", "negative_prompt", "width", "height", "seed", "output_format", "num_frames", "fps", "motion_score", "reference_image", "reference_strength", "denoising_strength", "steps", "guidance_scale"],
      required: ["prompt", "width", "height", "seed", "reference_image"],
    },
    first_last_frame: {
      basic: ["prompt", "first_frame_image", "last_frame_image", "steps", "guidance_scale"],
      all: ["prompt", "negative_prompt", "width", "height", "seed", "output_format", "num_frames", "fps", "motion_score", "first_frame_image", "last_frame_image", "first_strength", "last_strength", "steps", "guidance_scale"],
      required: ["prompt", "width", "height", "seed", "first_frame_image", "last_frame_image"],
    },
    arbitrary_frame: {
      basic: ["prompt", "reference_image", "arbitrary_frames", "steps", "guidance_scale"],
      all: ["prompt", "negative_prompt", "width", "height", "seed", "output_format", "num_frames", "fps", "motion_score", "reference_image", "reference_strength", "arbitrary_frames", "denoising_strength", "steps", "guidance_scale"],
      required: ["prompt", "width", "height", "seed", "arbitrary_frames"],
    },
  },
  Phr00t_WAN_Rapid_AllInOne_NSFW_v12: {
    t2v: {
      basic: ["prompt", "steps", "cfg_scale"],
      all: ["prompt", "negative_prompt", "width", "height", "seed", "output_format", "num_frames", "fps", "lighting_variant", "steps", "cfg_scale"],
      required: ["prompt", "width", "height", "seed"],
    },
    i2v: {
      basic: ["prompt", "reference_image", "steps", "cfg_scale"],
      all: ["prompt", "negative_prompt", "width", "height", "seed", "output_format", "num_frames", "fps", "lighting_variant", "reference_image", "reference_strength", "denoising_strength", "steps", "cfg_scale"],
      required: ["prompt", "width", "height", "seed", "reference_image"],
    },
    first_last_frame: {
      basic: ["prompt", "first_frame_image", "last_frame_image", "steps", "cfg_scale"],
      all: ["prompt", "negative_prompt", "width", "height", "seed", "output_format", "num_frames", "fps", "lighting_variant", "first_frame_image", "last_frame_image", "first_strength", "last_strength", "steps", "cfg_scale"],
      required: ["prompt", "width", "height", "seed", "first_frame_image", "last_frame_image"],
    },
  },
};

for (const type of ["image", "video"] as ModelType[]) {
  for (const { key, model } of listModels(s, type)) {
    describe(`${model.id} (${key})`, () => {
      it("has the modes of the file, the default one among them", () => {
        expect(modesOf(model)).toEqual(Object.keys(expected[key]));
        expect(modesOf(model)).toContain(model.default_mode);
      });

      for (const mode of modesOf(model)) {
        describe(`mode ${mode}`, () => {
          const want = expected[key][mode];

          it("shows the basic fields without the advanced toggle and all with it", () => {
            expect(names(visibleFields(s, key, mode, false))).toEqual(want.basic);
            expect(names(visibleFields(s, key, mode, true))).toEqual(want.all);
          });

          it("requires the fields the server requires", () => {
            expect(names(modeFields(s, key, mode).filter((f) => isRequired(f, mode)))).toEqual(want.required);
          });

          it("shows fixed parameters locked unless the file unlocks them", () => {
            for (const f of modeFields(s, key, mode).filter((x) => x.source === "fixed")) {
              expect(f.locked).toBe(model.fixed_parameters![f.name].locked);
            }
          });

          it("defaults fail only on the prompt and the images the mode needs", () => {
            const problems = validate(s, key, mode, defaultState(s, key));
            const needsInput = want.required.filter((n) => !["width", "height", "seed"].includes(n));
            expect(problems.map((p) => p.field)).toEqual(needsInput);
            expect(problems.every((p) => p.code === "required" || p.code === "min_items")).toBe(true);
          });

          it("builds a payload of the mode's fields that validates", () => {
            const st = filled(key, mode);
            expect(record(`${model.id} ${mode}`, key, mode, st)).toEqual([]);
            const body = buildPayload(s, key, mode, st);
            expect(body.model).toBe(model.id);
            expect(body.mode).toBe(mode);
            expect(body.prompt).toBe("a lighthouse at dusk");
            const sent = Object.keys(body).filter((k) => k !== "model" && k !== "mode");
            const unlocked = want.all.filter((n) => !modeFields(s, key, mode).find((f) => f.name === n)?.locked);
            expect(sent.sort()).toEqual(unlocked.sort());
            expect(body.width).toBe(720);
            expect(body.height).toBe(1280);
            expect(body.seed).toBe(-1);
            for (const f of modeFields(s, key, mode)) {
              if (f.kind === "image_upload") expect(body[f.name]).toBe(png.dataUri);
              if (f.kind === "enum") expect(f.spec.options).toContain(body[f.name]);
              if (f.kind === "int" && !f.locked) expect(Number.isInteger(body[f.name])).toBe(true);
            }
            if (mode === "arbitrary_frame") {
              expect(body.arbitrary_frames).toEqual([
                { frame_index: 0, image: png.dataUri },
                { frame_index: 40, image: png.dataUri, strength: 0.5 },
              ]);
            }
          });

          it("never sends a parameter its visible_if hides in this mode", () => {
            // Even with a value for every parameter of the model (say, left from another mode).
            const st = filled(key, mode);
            for (const f of modelFields(s, key)) if (f.kind === "image_upload") st.images[f.name] = png;
            const body = buildPayload(s, key, mode, st);
            const shown = names(modeFields(s, key, mode));
            for (const f of modelFields(s, key)) {
              if (!shown.includes(f.name)) expect(body).not.toHaveProperty(f.name);
            }
          });

          it("catches out-of-range, off-step, non-integer and unknown enum values", () => {
            for (const f of modeFields(s, key, mode)) {
              if (f.locked) continue;
              const st = filled(key, mode);
              if (f.kind === "int" || f.kind === "float") {
                if (f.spec.max !== undefined) {
                  st.values[f.name] = String(f.spec.max + (f.kind === "int" ? (f.spec.step ?? 1) : 0.5));
                  expect(record(`${model.id} ${mode} ${f.name} above max`, key, mode, st)).toEqual([f.name]);
                }
                if (f.spec.min !== undefined) {
                  st.values[f.name] = String(f.spec.min - 1);
                  expect(record(`${model.id} ${mode} ${f.name} below min`, key, mode, st)).toEqual([f.name]);
                }
                if (f.kind === "int") {
                  st.values[f.name] = String((f.spec.min ?? 0) + 0.5);
                  expect(validate(s, key, mode, st).map((p) => [p.field, p.code])).toEqual([[f.name, "integer"]]);
                }
                if (f.kind === "int" && (f.spec.step ?? 1) > 1) {
                  st.values[f.name] = String((f.spec.min ?? 0) + 1);
                  const problems = validate(s, key, mode, st);
                  expect(problems.map((p) => p.field)).toEqual([f.name]);
                  expect(problems[0].code).toMatch(/^step/);
                  record(`${model.id} ${mode} ${f.name} off step`, key, mode, st);
                }
              }
              if (f.kind === "enum") {
                st.values[f.name] = "no-such-option";
                expect(validate(s, key, mode, st).map((p) => [p.field, p.code])).toEqual([[f.name, "enum"]]);
              }
              if (f.kind === "string" && f.spec.maxLength) {
                st.values[f.name] = "я".repeat(f.spec.maxLength + 1);
                expect(validate(s, key, mode, st).map((p) => [p.field, p.code])).toEqual([[f.name, "max_length"]]);
                if (mode === model.default_mode) record(`${model.id} ${mode} ${f.name} too long`, key, mode, st);
              }
            }
          });

          it("catches a blank prompt and a missing image", () => {
            const st = filled(key, mode);
            st.values.prompt = "   ";
            expect(record(`${model.id} ${mode} blank prompt`, key, mode, st)).toEqual(["prompt"]);
            for (const f of modeFields(s, key, mode).filter((x) => x.kind === "image_upload" && isRequired(x, mode))) {
              const st2 = filled(key, mode);
              delete st2.images[f.name];
              expect(record(`${model.id} ${mode} no ${f.name}`, key, mode, st2)).toEqual([f.name]);
            }
          });

          it("estimates the run time from ui_logic.estimation", () => {
            const st = defaultState(s, key);
            const est = estimateSeconds(s, key, mode, st);
            if (type === "image") {
              const steps = Number(model.parameters.steps.default);
              expect(est).toBeCloseTo(steps * 0.4);
              st.values.steps = "50";
              expect(estimateSeconds(s, key, mode, st)).toBeCloseTo(20);
            } else {
              expect(est).toBeCloseTo((81 / 16) * 3.5);
              st.values.fps = "8";
              st.values.num_frames = "49";
              expect(estimateSeconds(s, key, mode, st)).toBeCloseTo((49 / 8) * 3.5);
            }
          });
        });
      }
    });
  }
}

describe("fixed parameters", () => {
  it("are labelled from their name when the file gives no label", () => {
    const f = modelFields(s, "Index-AniSora_V3.2").find((x) => x.name === "guidance_scale")!;
    expect(fieldLabel(f)).toBe("Guidance scale");
    expect(f.fixed?.warning).toMatch(/recommended/);
  });

  it("keeps a locked value out of the payload and an unlocked override within min..max", () => {
    const key = "Index-AniSora_V3.2";
    const st = filled(key, "t2v");
    st.values.steps = "20"; // locked: ignored, never sent
    st.values.guidance_scale = "2.5";
    expect(validate(s, key, "t2v", st)).toEqual([]);
    const body = buildPayload(s, key, "t2v", st);
    expect(body).not.toHaveProperty("steps");
    expect(body.guidance_scale).toBe(2.5);
    fixtures.push({ name: "anisora unlocked guidance_scale override", body, problems: [] });
    st.values.guidance_scale = "11";
    expect(record("anisora guidance_scale above max", key, "t2v", st)).toEqual(["guidance_scale"]);
  });
});

describe("keyframes", () => {
  const key = "Index-AniSora_V3.2";
  it("needs at least one", () => {
    const st = filled(key, "arbitrary_frame");
    st.keyframes.arbitrary_frames = [];
    expect(record("anisora no keyframes", key, "arbitrary_frame", st)).toEqual(["arbitrary_frames"]);
  });
  it("keeps frame indexes below num_frames (less_than_param) and unique", () => {
    const st = filled(key, "arbitrary_frame");
    st.values.num_frames = "49";
    st.keyframes.arbitrary_frames[1].frame_index = "49";
    expect(record("anisora keyframe past the last frame", key, "arbitrary_frame", st)).toEqual(["arbitrary_frames[1].frame_index"]);
    st.keyframes.arbitrary_frames[1].frame_index = "48";
    expect(validate(s, key, "arbitrary_frame", st)).toEqual([]);
    st.keyframes.arbitrary_frames[1].frame_index = "0";
    expect(record("anisora duplicate keyframe", key, "arbitrary_frame", st)).toEqual(["arbitrary_frames[1].frame_index"]);
  });
  it("checks each keyframe's strength and image", () => {
    const st = filled(key, "arbitrary_frame");
    st.keyframes.arbitrary_frames[0].strength = "1.5";
    st.keyframes.arbitrary_frames[1].image = null;
    expect(validate(s, key, "arbitrary_frame", st).map((p) => p.field)).toEqual(["arbitrary_frames[0].strength", "arbitrary_frames[1].image"]);
  });
});

describe("reference images", () => {
  const spec = modelFields(s, "Pony_V6_XL").find((f) => f.name === "reference_image")!.spec;
  it("accepts the file's types up to max_bytes", () => {
    expect(checkImageFile("reference_image", spec, { type: "image/png", size: 12 * 1024 * 1024 })).toBeNull();
    expect(checkImageFile("reference_image", spec, { type: "image/webp", size: 10 })).toBeNull();
  });
  it("rejects other types and larger files before upload", () => {
    expect(checkImageFile("reference_image", spec, { type: "image/gif", size: 10 })?.code).toBe("image_type");
    expect(checkImageFile("reference_image", spec, { type: "image/png", size: 12 * 1024 * 1024 + 1 })).toMatchObject({
      code: "image_size",
      vars: { max: "12 MiB" },
    });
  });
});

describe("presets", () => {
  it("turns a duration into num_frames on its step and within its range", () => {
    const key = "Index-AniSora_V3.2";
    const st = defaultState(s, key);
    expect([3, 5, 8, 10].map((sec) => framesForSeconds(s, key, "t2v", st, sec))).toEqual([49, 81, 129, 161]);
    st.values.fps = "24";
    expect(framesForSeconds(s, key, "t2v", st, 10)).toBe(161);
    expect(framesForSeconds(s, "Pony_V6_XL", "txt2img", defaultState(s, "Pony_V6_XL"), 5)).toBeUndefined();
  });
  it("offers only resolutions the model accepts", () => {
    for (const { key, model } of [...listModels(s, "image"), ...listModels(s, "video")]) {
      for (const r of model.recommended_resolutions ?? []) expect(resolutionFits(s, key, r.width, r.height)).toBe(true);
    }
    expect(resolutionFits(s, "Pony_V6_XL", 256, 256)).toBe(false);
  });
  it("scales the model's default steps by a quality preset, on its grid and within its range", () => {
    expect(qualityPreset(s, "Pony_V6_XL", "txt2img", "quick_test")).toEqual({ width: 512, height: 512, steps: 20 }); // 25×0.7 → min 20
    expect(qualityPreset(s, "Pony_V6_XL", "txt2img", "balanced")).toEqual({ width: 768, height: 768, steps: 25 });
    expect(qualityPreset(s, "Pony_V6_XL", "txt2img", "high_quality")).toEqual({ width: 1024, height: 1024, steps: 33 });
    expect(qualityPreset(s, "Flux_dev_nf4", "txt2img", "quick_test")?.steps).toBe(15); // 20×0.7 → min 15
    expect(qualityPreset(s, "Flux_dev_nf4", "txt2img", "high_quality")?.steps).toBe(26);
    expect(qualityPreset(s, "Pony_V6_XL", "txt2img", "no_such_preset")).toBeUndefined();
  });
  it("leaves locked steps alone", () => {
    expect(qualityPreset(s, "Index-AniSora_V3.2", "t2v", "quick_test")).toEqual({ width: 512, height: 512 });
    expect(qualityPreset(s, "Phr00t_WAN_Rapid_AllInOne_NSFW_v12", "t2v", "high_quality")?.steps).toBeUndefined();
  });
  it("gives every model and mode values the server accepts", () => {
    for (const type of ["image", "video"] as ModelType[]) {
      for (const { key, model } of listModels(s, type)) {
        for (const mode of modesOf(model)) {
          for (const name of Object.keys(s.file.presets ?? {})) {
            const values = qualityPreset(s, key, mode, name);
            if (!values) continue;
            const st = filled(key, mode);
            for (const [k, v] of Object.entries(values)) st.values[k] = String(v);
            expect(record(`${key} ${mode} preset ${name}`, key, mode, st), `${key} ${mode} ${name}`).toEqual([]);
          }
        }
      }
    }
  });
});

describe("server fixtures", () => {
  it("writes the payloads for settings/webform_test.go", () => {
    expect(fixtures.length).toBeGreaterThan(40);
    const out = join(here, "testdata", "payloads.json");
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(fixtures, null, 1) + "\n");
  });
});
