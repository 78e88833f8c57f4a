// The shape of settings/inference_settings.json as GET /settings returns it (the whole file).
// Only the keys the studio reads are typed; the Go loader (settings/*.go) is the authority on
// what the file may contain.

export type ModelType = "image" | "video";

/** A parameter type the catalogue may declare (settings/param.go paramKinds). */
export type ParamKind = "string" | "int" | "float" | "enum" | "bool" | "image_upload" | "keyframe_array";

/** A JSON scalar as it can appear as a default or an enum option. */
export type Scalar = string | number | boolean;

/** One parameter declaration: common, a model's own, or a keyframe item field. */
export interface ParamSpec {
  type: ParamKind;
  label?: string;
  help?: string;
  placeholder?: string;
  advanced?: boolean;
  required?: boolean;
  required_if?: string;
  visible_if?: string;
  applies_to?: ModelType[];
  default?: Scalar | unknown[];
  min?: number;
  max?: number;
  step?: number;
  maxLength?: number;
  options?: (string | number)[];
  random_value?: number;
  accepts?: string[];
  max_bytes?: number;
  strength_param?: string;
  min_items?: number;
  less_than_param?: string;
  item_schema?: { frame_index: ParamSpec; image: ParamSpec; strength?: ParamSpec };
}

/** One fixed_parameters entry. */
export interface FixedSpec {
  value: Scalar;
  locked: boolean;
  min?: number;
  max?: number;
  recommended?: boolean;
  warning?: string;
}

export interface ModeSpec {
  label?: string;
  description?: string;
  requires_reference?: boolean;
  requires_multiple?: boolean;
  supports_keyframes?: boolean;
}

export interface Resolution {
  width: number;
  height: number;
  label?: string;
}

export interface ModelSpec {
  id: string;
  name: string;
  type: ModelType;
  category?: string;
  description?: string;
  modes: Record<string, ModeSpec>;
  default_mode: string;
  parameters: Record<string, ParamSpec>;
  fixed_parameters?: Record<string, FixedSpec>;
  recommended_resolutions?: Resolution[];
}

export interface QuickPresetOption {
  label: string;
  value?: number;
  width?: number;
  height?: number;
}

export interface SettingsFile {
  version?: string;
  common: Record<string, ParamSpec>;
  image_models: Record<string, ModelSpec>;
  video_models: Record<string, ModelSpec>;
  ui_logic?: {
    model_order?: string[];
    estimation?: { image_formula?: string; video_formula?: string };
  };
  quick_presets?: Record<string, { type?: string; label?: string; options: QuickPresetOption[] }>;
  /** Quality presets: a size and a multiplier of the model's default steps. */
  presets?: Record<string, QualityPresetSpec>;
}

/** One entry of the file's presets ("quick_test", "balanced", "high_quality"). */
export interface QualityPresetSpec {
  description?: string;
  width?: number;
  height?: number;
  steps_multiplier?: number;
}

/**
 * The catalogue as the studio uses it: the file, plus the kind of every fixed number as the Go
 * loader reads it ("8" is an int, "1.0" a float), which JSON.parse cannot tell apart. Keyed
 * "<model key>.<param name>".
 */
export interface Settings {
  file: SettingsFile;
  fixedKinds: Record<string, "int" | "float" | "string" | "bool">;
}
