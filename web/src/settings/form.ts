// The studio's form logic, pure functions over the catalogue (no React): which models and modes
// exist, which fields a (model, mode) shows, their defaults, client-side validation that mirrors
// the server's (settings/request.go, values.go, images.go, keyframes.go), the POST /generate
// payload and the time estimate.
import { evalFormula } from "./arith";
import { holdsInMode } from "./expr";
import type { FixedSpec, ModelSpec, ModelType, ParamKind, ParamSpec, Settings } from "./types";

/** One field of a model's form: a common, model or fixed parameter, in the server's order. */
export interface Field {
  name: string;
  source: "common" | "model" | "fixed";
  kind: ParamKind;
  spec: ParamSpec;
  /** The fixed_parameters entry, for source "fixed". */
  fixed?: FixedSpec;
  /** A fixed value the client may not change. */
  locked: boolean;
  advanced: boolean;
}

/** A model of the catalogue with its key in the file ("Pony_V6_XL"). */
export interface ModelEntry {
  key: string;
  model: ModelSpec;
}

/** A reference image chosen by the user, read into a data URI. */
export interface ImageValue {
  dataUri: string;
  mime: string;
  bytes: number;
  name: string;
}

/** One keyframe of a keyframe_array; numbers as typed. */
export interface KeyframeValue {
  /** A stable id for React lists; not sent. */
  id: string;
  frame_index: string;
  strength: string;
  image: ImageValue | null;
}

/** What the user entered for one model: scalars as typed ("" = not set), images, keyframes. */
export interface FormState {
  values: Record<string, string | boolean>;
  images: Record<string, ImageValue | undefined>;
  keyframes: Record<string, KeyframeValue[]>;
}

/** A problem with one field; field uses the server's names ("arbitrary_frames[0].frame_index"). */
export interface Problem {
  field: string;
  code: ProblemCode;
  vars?: Record<string, string | number>;
}

export type ProblemCode =
  | "required"
  | "integer"
  | "number"
  | "range"
  | "min"
  | "max"
  | "step"
  | "step_base"
  | "enum"
  | "max_length"
  | "locked"
  | "image_type"
  | "image_size"
  | "image_read"
  | "min_items"
  | "frame_limit"
  | "frame_duplicate";

/** The models of type, in ui_logic.model_order (models the order omits follow in file order). */
export function listModels(s: Settings, type: ModelType): ModelEntry[] {
  const section = type === "image" ? s.file.image_models : s.file.video_models;
  const keys = Object.keys(section ?? {});
  const order = s.file.ui_logic?.model_order ?? [];
  const sorted = [...order.filter((k) => keys.includes(k)), ...keys.filter((k) => !order.includes(k))];
  return sorted.map((key) => ({ key, model: section[key] }));
}

/** The model with key (either type), or undefined. */
export function findModel(s: Settings, key: string): ModelEntry | undefined {
  const model = s.file.image_models?.[key] ?? s.file.video_models?.[key];
  return model ? { key, model } : undefined;
}

/** The model whose id (what the API takes: "pony") is id. */
export function findModelById(s: Settings, id: string): ModelEntry | undefined {
  for (const type of ["image", "video"] as const) {
    const found = listModels(s, type).find((m) => m.model.id === id);
    if (found) return found;
  }
  return undefined;
}

/** The model's modes in file order. */
export function modesOf(model: ModelSpec): string[] {
  return Object.keys(model.modes ?? {});
}

/**
 * Every parameter of the model in the server's validation order: the common ones whose
 * applies_to includes the model's type, the model's own, then the fixed ones.
 */
export function modelFields(s: Settings, key: string): Field[] {
  const entry = findModel(s, key);
  if (!entry) return [];
  const m = entry.model;
  const out: Field[] = [];
  for (const [name, spec] of Object.entries(s.file.common ?? {})) {
    if (!spec.applies_to || spec.applies_to.length === 0 || spec.applies_to.includes(m.type)) {
      out.push({ name, source: "common", kind: spec.type, spec, locked: false, advanced: !!spec.advanced });
    }
  }
  for (const [name, spec] of Object.entries(m.parameters ?? {})) {
    out.push({ name, source: "model", kind: spec.type, spec, locked: false, advanced: !!spec.advanced });
  }
  for (const [name, fixed] of Object.entries(m.fixed_parameters ?? {})) {
    const kind = s.fixedKinds[`${key}.${name}`] ?? (typeof fixed.value === "number" ? "float" : typeof fixed.value === "boolean" ? "bool" : "string");
    const spec: ParamSpec = { type: kind, min: fixed.min, max: fixed.max, default: fixed.value, help: fixed.warning };
    out.push({ name, source: "fixed", kind, spec, fixed, locked: !!fixed.locked, advanced: false });
  }
  return out;
}

/** Whether the field exists in mode (visible_if; absent = always). */
export function isVisible(f: Field, mode: string): boolean {
  return !f.spec.visible_if || holdsInMode(f.spec.visible_if, mode);
}

/** Whether the field must have a value in mode ("required", or required_if holding). */
export function isRequired(f: Field, mode: string): boolean {
  if (f.source === "fixed") return false;
  return !!f.spec.required || (!!f.spec.required_if && holdsInMode(f.spec.required_if, mode));
}

/** The fields of the model that exist in mode, all of them or only the basic ones. */
export function visibleFields(s: Settings, key: string, mode: string, advanced: boolean): Field[] {
  return modelFields(s, key).filter((f) => isVisible(f, mode) && (advanced || !f.advanced));
}

/** The fields of the model that exist in mode (what the server validates and the payload holds). */
export function modeFields(s: Settings, key: string, mode: string): Field[] {
  return modelFields(s, key).filter((f) => isVisible(f, mode));
}

/** A label for a field: its label, else its name made readable ("guidance_scale" → "Guidance scale"). */
export function fieldLabel(f: Field): string {
  if (f.spec.label) return f.spec.label;
  const words = f.name.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The form of the model with every default filled in. */
export function defaultState(s: Settings, key: string): FormState {
  const state: FormState = { values: {}, images: {}, keyframes: {} };
  for (const f of modelFields(s, key)) {
    if (f.kind === "image_upload") continue;
    if (f.kind === "keyframe_array") {
      state.keyframes[f.name] = [];
      continue;
    }
    const d = f.spec.default;
    if (f.kind === "bool") state.values[f.name] = d === true;
    else state.values[f.name] = d === undefined || d === null || Array.isArray(d) ? "" : String(d);
  }
  return state;
}

/** Counts characters like Go's utf8.RuneCountInString. */
function runeCount(s: string): number {
  return Array.from(s).length;
}

/** Parses a number as typed; undefined for "" and NaN for junk. */
function parseNumber(text: string): number | undefined {
  const t = text.trim();
  if (t === "") return undefined;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return NaN;
  return Number(t);
}

/** The enum option whose text is v, or undefined. */
function enumOption(spec: ParamSpec, v: string): string | number | undefined {
  return (spec.options ?? []).find((o) => String(o) === v);
}

/** Checks a value against a number field's rules (values.go check); null when fine. */
export function checkNumber(field: string, kind: "int" | "float", spec: ParamSpec, n: number): Problem | null {
  if (!Number.isFinite(n)) return { field, code: kind === "int" ? "integer" : "number" };
  if (kind === "int" && !Number.isInteger(n)) return { field, code: "integer" };
  const { min, max } = spec;
  if (min !== undefined && max !== undefined && (n < min || n > max)) return { field, code: "range", vars: { min, max } };
  if (min !== undefined && n < min) return { field, code: "min", vars: { min } };
  if (max !== undefined && n > max) return { field, code: "max", vars: { max } };
  // The server enforces step for ints only ((v - min) % step == 0); for floats it is a UI granularity.
  if (kind === "int" && spec.step && spec.step >= 1) {
    const base = min ?? 0;
    if ((n - base) % spec.step !== 0) {
      return base % spec.step === 0
        ? { field, code: "step", vars: { step: spec.step } }
        : { field, code: "step_base", vars: { step: spec.step, base, next: base + spec.step, next2: base + 2 * spec.step } };
    }
  }
  return null;
}

/** Renders a byte limit like the server: 12582912 → "12 MiB". */
export function formatBytes(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`;
  if (n >= 1 << 10 && n % (1 << 10) === 0) return `${n / (1 << 10)} KiB`;
  return `${n} bytes`;
}

/** Checks a file chosen for an image field before it is read: type and size. */
export function checkImageFile(field: string, spec: ParamSpec, file: { type: string; size: number }): Problem | null {
  const accepts = spec.accepts ?? [];
  if (!accepts.some((a) => a.toLowerCase() === file.type.toLowerCase())) {
    return { field, code: "image_type", vars: { accepts: accepts.join(", "), type: file.type || "?" } };
  }
  if (spec.max_bytes !== undefined && file.size > spec.max_bytes) {
    return { field, code: "image_size", vars: { max: formatBytes(spec.max_bytes) } };
  }
  return null;
}

/** The effective value of a number field (typed, else default or fixed value), or undefined. */
export function effectiveNumber(f: Field, state: FormState): number | undefined {
  const v = state.values[f.name];
  if (typeof v === "string") {
    const n = f.kind === "enum" ? Number(enumOption(f.spec, v)) : parseNumber(v);
    if (n !== undefined && Number.isFinite(n) && !(f.locked && n !== f.fixed?.value)) return n;
  }
  if (f.locked) return typeof f.fixed?.value === "number" ? f.fixed.value : undefined;
  const d = f.spec.default;
  return typeof d === "number" ? d : undefined;
}

/** Validates the form for (model, mode) like the server would; an empty list means it passes. */
export function validate(s: Settings, key: string, mode: string, state: FormState): Problem[] {
  const problems: Problem[] = [];
  const fields = modeFields(s, key, mode);
  for (const f of fields) {
    const required = isRequired(f, mode);
    const name = f.name;
    if (f.source === "fixed") {
      if (f.locked) continue; // shown read-only; never sent
      const v = state.values[name];
      if (typeof v === "string" && v.trim() !== "" && (f.kind === "int" || f.kind === "float")) {
        const p = checkNumber(name, f.kind, f.spec, parseNumber(v) ?? NaN);
        if (p) problems.push(p);
      }
      continue;
    }
    switch (f.kind) {
      case "image_upload": {
        const img = state.images[name];
        if (!img) {
          if (required) problems.push({ field: name, code: "required" });
        } else {
          const p = checkImageFile(name, f.spec, { type: img.mime, size: img.bytes });
          if (p) problems.push(p);
        }
        break;
      }
      case "keyframe_array":
        problems.push(...validateKeyframes(f, fields, state, required));
        break;
      case "bool":
        break;
      case "string": {
        const v = String(state.values[name] ?? "");
        const effective = v === "" && typeof f.spec.default === "string" ? f.spec.default : v;
        if (f.spec.maxLength && runeCount(v) > f.spec.maxLength) problems.push({ field: name, code: "max_length", vars: { max: f.spec.maxLength } });
        else if (required && effective.trim() === "") problems.push({ field: name, code: "required" });
        break;
      }
      case "enum": {
        const v = String(state.values[name] ?? "");
        if (v === "") {
          if (required && f.spec.default === undefined) problems.push({ field: name, code: "required" });
        } else if (enumOption(f.spec, v) === undefined) {
          problems.push({ field: name, code: "enum", vars: { options: (f.spec.options ?? []).join(", ") } });
        }
        break;
      }
      case "int":
      case "float": {
        const n = parseNumber(String(state.values[name] ?? ""));
        if (n === undefined) {
          if (required && f.spec.default === undefined) problems.push({ field: name, code: "required" });
        } else {
          const p = checkNumber(name, f.kind, f.spec, n);
          if (p) problems.push(p);
        }
        break;
      }
    }
  }
  return problems;
}

/** Checks a keyframe_array: min_items, each item's fields, unique frames below less_than_param. */
function validateKeyframes(f: Field, fields: Field[], state: FormState, required: boolean): Problem[] {
  const out: Problem[] = [];
  const items = state.keyframes[f.name] ?? [];
  const schema = f.spec.item_schema;
  if (items.length === 0) {
    if (required) out.push({ field: f.name, code: "min_items", vars: { n: Math.max(f.spec.min_items ?? 0, 1) } });
    return out;
  }
  if (items.length < (f.spec.min_items ?? 0)) {
    out.push({ field: f.name, code: "min_items", vars: { n: f.spec.min_items ?? 0 } });
    return out;
  }
  if (!schema) return out;
  const limitName = schema.frame_index.less_than_param;
  const limitField = limitName ? fields.find((x) => x.name === limitName) : undefined;
  const limit = limitField ? effectiveNumber(limitField, state) : undefined;
  const used = new Map<number, string>();
  items.forEach((it, i) => {
    const prefix = `${f.name}[${i}]`;
    const fi = parseNumber(it.frame_index);
    let frameOK = false;
    if (fi === undefined) out.push({ field: `${prefix}.frame_index`, code: "required" });
    else {
      const p = checkNumber(`${prefix}.frame_index`, "int", schema.frame_index, fi);
      if (p) out.push(p);
      else frameOK = true;
    }
    if (schema.strength && it.strength.trim() !== "") {
      const p = checkNumber(`${prefix}.strength`, "float", schema.strength, parseNumber(it.strength) ?? NaN);
      if (p) out.push(p);
    }
    if (!it.image) out.push({ field: `${prefix}.image`, code: "required" });
    else {
      const p = checkImageFile(`${prefix}.image`, schema.image, { type: it.image.mime, size: it.image.bytes });
      if (p) out.push(p);
    }
    if (frameOK && fi !== undefined) {
      if (used.has(fi)) out.push({ field: `${prefix}.frame_index`, code: "frame_duplicate", vars: { frame: fi, other: used.get(fi)! } });
      else used.set(fi, prefix);
      if (limit !== undefined && fi >= limit) {
        out.push({ field: `${prefix}.frame_index`, code: "frame_limit", vars: { frame: fi, param: limitName!, limit, last: limit - 1 } });
      }
    }
  });
  return out;
}

/** The JSON value a field sends, or undefined to leave it out (the server applies its default). */
function fieldValue(f: Field, state: FormState): unknown {
  if (f.kind === "image_upload") return state.images[f.name]?.dataUri;
  if (f.kind === "keyframe_array") {
    const items = state.keyframes[f.name] ?? [];
    if (items.length === 0) return undefined;
    return items.map((it) => {
      const out: Record<string, unknown> = { frame_index: parseNumber(it.frame_index), image: it.image?.dataUri };
      const strength = parseNumber(it.strength);
      if (strength !== undefined) out.strength = strength;
      return out;
    });
  }
  const v = state.values[f.name];
  if (f.kind === "bool") return typeof v === "boolean" ? v : undefined;
  if (typeof v !== "string") return undefined;
  if (f.kind === "string") return v;
  if (v.trim() === "") return undefined;
  if (f.kind === "enum") return enumOption(f.spec, v);
  return parseNumber(v);
}

/**
 * The POST /generate body: model id, mode, and every parameter that exists in the mode with
 * its value (numbers as numbers, enums as their option, images as data URIs, keyframes as
 * {frame_index, image, strength}). Locked fixed parameters are left out (the server imposes
 * them); parameters hidden by visible_if are never sent (the server rejects them).
 */
export function buildPayload(s: Settings, key: string, mode: string, state: FormState): Record<string, unknown> {
  const entry = findModel(s, key);
  if (!entry) throw new Error(`unknown model ${key}`);
  const body: Record<string, unknown> = { model: entry.model.id, mode };
  for (const f of modeFields(s, key, mode)) {
    if (f.locked) continue;
    const v = fieldValue(f, state);
    if (v !== undefined) body[f.name] = v;
  }
  return body;
}

/** The estimated run time in seconds from ui_logic.estimation, or null when it cannot be computed. */
export function estimateSeconds(s: Settings, key: string, mode: string, state: FormState): number | null {
  const entry = findModel(s, key);
  if (!entry) return null;
  const est = s.file.ui_logic?.estimation;
  const formula = entry.model.type === "image" ? est?.image_formula : est?.video_formula;
  if (!formula) return null;
  const vars: Record<string, number | undefined> = {};
  for (const f of modeFields(s, key, mode)) vars[f.name] = effectiveNumber(f, state);
  return evalFormula(formula, vars);
}

/**
 * A video duration preset (quick_presets.duration, seconds) as num_frames: seconds × fps + 1,
 * kept within num_frames' range and on its step. Undefined when the model has no such fields.
 */
export function framesForSeconds(s: Settings, key: string, mode: string, state: FormState, seconds: number): number | undefined {
  const fields = modeFields(s, key, mode);
  const frames = fields.find((f) => f.name === "num_frames");
  const fps = fields.find((f) => f.name === "fps");
  if (!frames || !fps) return undefined;
  const rate = effectiveNumber(fps, state);
  if (rate === undefined) return undefined;
  const { min = 0, max = Infinity, step = 1 } = frames.spec;
  let n = seconds * rate + 1;
  n = min + Math.round((n - min) / step) * step;
  while (n > max) n -= step;
  while (n < min) n += step;
  return n;
}

/** Whether width × height fits the model's width and height rules (for resolution buttons). */
export function resolutionFits(s: Settings, key: string, width: number, height: number): boolean {
  const fields = modelFields(s, key);
  const w = fields.find((f) => f.name === "width");
  const h = fields.find((f) => f.name === "height");
  return !!w && !!h && !checkNumber("width", "int", w.spec, width) && !checkNumber("height", "int", h.spec, height);
}

/** What a quality preset sets on one model: only the values the model accepts. */
export interface QualityValues {
  width?: number;
  height?: number;
  steps?: number;
}

/**
 * The values a quality preset (the file's presets) gives a model in a mode: its size when the
 * model accepts it, and steps = the model's default steps × steps_multiplier, rounded onto the
 * steps' grid and kept within its range, unless steps are locked. Undefined when it sets nothing.
 */
export function qualityPreset(s: Settings, key: string, mode: string, name: string): QualityValues | undefined {
  const preset = s.file.presets?.[name];
  if (!preset) return undefined;
  const out: QualityValues = {};
  if (preset.width !== undefined && preset.height !== undefined && resolutionFits(s, key, preset.width, preset.height)) {
    out.width = preset.width;
    out.height = preset.height;
  }
  const steps = modeFields(s, key, mode).find((f) => f.name === "steps");
  const base = typeof steps?.spec.default === "number" ? steps.spec.default : undefined;
  if (steps && !steps.locked && base !== undefined && preset.steps_multiplier !== undefined) {
    const { min = 1, max = Infinity, step = 1 } = steps.spec;
    let n = min + Math.round((base * preset.steps_multiplier - min) / step) * step;
    n = Math.min(Math.max(n, min), max);
    while (n > max) n -= step;
    out.steps = n;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
