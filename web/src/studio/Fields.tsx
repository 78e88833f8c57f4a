// One form field per catalogue parameter: number inputs with a range slider, selects for enums,
// checkboxes, textareas for prompts, locked fixed values, image uploads and the keyframe list.
import { useEffect, useRef, useState, type ReactNode } from "react";
import { useI18n } from "../i18n/i18n";
import {
  checkImageFile,
  fieldLabel,
  formatBytes,
  type Field,
  type ImageValue,
  type KeyframeValue,
  type Problem,
} from "../settings/form";
import type { ParamSpec } from "../settings/types";

/** The DOM id of a field's control, from its server name ("arbitrary_frames[0].image"). */
export function controlId(field: string): string {
  return "f-" + field.replace(/[^A-Za-z0-9_-]/g, "-");
}

/** The message shown under a field (translated problem or the server's text). */
export function FieldError({ field, message }: { field: string; message?: string }) {
  if (!message) return null;
  return (
    <div className="field-error" id={controlId(field) + "-error"} role="alert" data-testid={"field-error-" + field}>
      {message}
    </div>
  );
}

function Help({ id, children }: { id: string; children: ReactNode }) {
  return (
    <div className="field-help muted" id={id}>
      {children}
    </div>
  );
}

interface FieldProps {
  field: Field;
  required: boolean;
  value: string | boolean | undefined;
  error?: string;
  onChange: (v: string | boolean) => void;
}

/** A scalar field: string, int, float, enum, bool, or a fixed value. */
export function ScalarField({ field, required, value, error, onChange }: FieldProps) {
  const { t } = useI18n();
  const id = controlId(field.name);
  const spec = field.spec;
  const helpId = id + "-help";
  const describedBy = [helpId, error ? id + "-error" : ""].filter(Boolean).join(" ");
  const label = (
    <span className="field-label">
      {fieldLabel(field)}
      {required && <span className="req" title={t("studio.required")}> *</span>}
      {field.locked && <span className="badge">{t("studio.locked")}</span>}
    </span>
  );
  const common = {
    id,
    name: field.name,
    "aria-invalid": error ? true : undefined,
    "aria-describedby": describedBy,
    "data-testid": "field-" + field.name,
  } as const;

  let control: ReactNode;
  const hints: ReactNode[] = [];
  if (field.locked) {
    control = <input {...common} type="text" value={String(field.fixed?.value ?? "")} readOnly disabled />;
    hints.push(t("studio.lockedValue", { value: String(field.fixed?.value ?? "") }));
  } else if (field.kind === "bool") {
    return (
      <div className="field field-bool">
        <label className="inline" htmlFor={id}>
          <input {...common} type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} />
          {label}
        </label>
        {spec.help && <Help id={helpId}>{spec.help}</Help>}
        <FieldError field={field.name} message={error} />
      </div>
    );
  } else if (field.kind === "enum") {
    control = (
      <select {...common} value={String(value ?? "")} onChange={(e) => onChange(e.target.value)}>
        {spec.default === undefined && <option value="">—</option>}
        {(spec.options ?? []).map((o) => (
          <option key={String(o)} value={String(o)}>
            {String(o)}
          </option>
        ))}
      </select>
    );
  } else if (field.kind === "string") {
    const text = String(value ?? "");
    const long = field.name.endsWith("prompt") || (spec.maxLength ?? 0) > 200;
    control = long ? (
      <textarea {...common} value={text} placeholder={spec.placeholder} rows={field.name === "prompt" ? 4 : 2} onChange={(e) => onChange(e.target.value)} />
    ) : (
      <input {...common} type="text" value={text} placeholder={spec.placeholder} onChange={(e) => onChange(e.target.value)} />
    );
    if (spec.maxLength) hints.push(t("studio.chars", { n: Array.from(text).length, max: spec.maxLength }));
  } else {
    control = <NumberControl common={common} field={field} value={String(value ?? "")} onChange={onChange} />;
    if (spec.min !== undefined && spec.max !== undefined && field.name !== "seed") hints.push(t("studio.range", { min: spec.min, max: spec.max }));
    if (field.kind === "int" && spec.step && spec.step > 1) hints.push(t("studio.step", { step: spec.step }));
    if (field.fixed?.recommended) {
      hints.push(t("studio.recommended", { value: String(field.fixed.value) }));
      const n = Number(value);
      if (String(value ?? "").trim() !== "" && Number.isFinite(n) && n !== field.fixed.value) {
        hints.push(<span className="warning">{t("studio.notRecommended", { value: String(value), recommended: String(field.fixed.value) })}</span>);
      }
    }
  }
  const help = field.source === "fixed" ? field.fixed?.warning : spec.help;
  return (
    <div className={"field" + (field.locked ? " field-locked" : "")}>
      <label htmlFor={id}>{label}</label>
      {control}
      {(help || hints.length > 0) && (
        <Help id={helpId}>
          {help && <span>{help}</span>}
          {hints.map((h, i) => (
            <span key={i} className="hint">
              {h}
            </span>
          ))}
        </Help>
      )}
      <FieldError field={field.name} message={error} />
    </div>
  );
}

/** A number input, with a range slider beside it when the range is bounded and small enough. */
function NumberControl({
  common,
  field,
  value,
  onChange,
}: {
  common: Record<string, unknown>;
  field: Field;
  value: string;
  onChange: (v: string) => void;
}) {
  const { t } = useI18n();
  const spec = field.spec;
  const step = spec.step ?? (field.kind === "int" ? 1 : "any");
  const slider =
    spec.min !== undefined &&
    spec.max !== undefined &&
    field.name !== "seed" &&
    (spec.max - spec.min) / (typeof step === "number" ? step : 0.01) <= 2000;
  const n = Number(value);
  const placeholder =
    spec.placeholder ?? (spec.random_value !== undefined ? `${spec.random_value} = ${t("studio.random")}` : spec.default !== undefined ? String(spec.default) : undefined);
  return (
    <div className="number-row">
      <input {...common} type="number" inputMode={field.kind === "int" ? "numeric" : "decimal"} min={spec.min} max={spec.max} step={step} value={value} placeholder={placeholder} onChange={(e) => onChange(e.target.value)} />
      {slider && (
        <input
          type="range"
          aria-hidden="true"
          tabIndex={-1}
          min={spec.min}
          max={spec.max}
          step={step}
          value={Number.isFinite(n) && value.trim() !== "" ? n : Number(spec.default ?? spec.min)}
          onChange={(e) => onChange(e.target.value)}
          data-testid={"slider-" + field.name}
        />
      )}
    </div>
  );
}

/** An image chosen for an upload field, with its object URL for the thumbnail. */
export interface PickedImage extends ImageValue {
  thumb: string;
}

/** Reads a file into a data URI. */
function readDataUri(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result));
    r.onerror = () => reject(r.error ?? new Error("read failed"));
    r.readAsDataURL(file);
  });
}

/** An image upload: type and size checked before the file is read; a thumbnail once chosen. */
export function ImageField({
  name,
  label,
  spec,
  required,
  value,
  error,
  onChange,
  onProblem,
}: {
  name: string;
  label: string;
  spec: ParamSpec;
  required: boolean;
  value: PickedImage | undefined;
  error?: string;
  onChange: (v: PickedImage | undefined) => void;
  onProblem: (p: Problem) => void;
}) {
  const { t } = useI18n();
  const id = controlId(name);
  const input = useRef<HTMLInputElement>(null);
  const [reading, setReading] = useState(false);
  const pick = async (file: File | undefined) => {
    if (!file) return;
    const problem = checkImageFile(name, spec, file);
    if (input.current) input.current.value = "";
    if (problem) {
      onProblem(problem);
      return;
    }
    setReading(true);
    try {
      const dataUri = await readDataUri(file);
      onChange({ dataUri, mime: file.type, bytes: file.size, name: file.name, thumb: URL.createObjectURL(file) });
    } catch {
      // The file went away or is locked: say so under the field (not an unhandled rejection).
      onProblem({ field: name, code: "image_read", vars: { name: file.name } });
    } finally {
      setReading(false);
    }
  };
  return (
    <div className="field field-image">
      <label htmlFor={id}>
        <span className="field-label">
          {label}
          {required && <span className="req" title={t("studio.required")}> *</span>}
        </span>
      </label>
      <div className="upload">
        {value ? <img className="thumb" src={value.thumb} alt={value.name} data-testid={"thumb-" + name} /> : <div className="thumb thumb-empty" aria-hidden="true" />}
        <div className="upload-actions">
          <input
            ref={input}
            id={id}
            type="file"
            accept={(spec.accepts ?? []).join(",")}
            aria-invalid={error ? true : undefined}
            aria-describedby={id + "-help" + (error ? " " + id + "-error" : "")}
            onChange={(e) => void pick(e.target.files?.[0])}
            data-testid={"upload-" + name}
          />
          {value && (
            <button type="button" onClick={() => onChange(undefined)} data-testid={"remove-" + name}>
              {t("studio.upload.remove")}
            </button>
          )}
          <span className="muted small" id={id + "-help"}>
            {reading
              ? t("studio.upload.reading")
              : value
                ? `${value.name} · ${formatBytes(value.bytes)}`
                : t("studio.upload.limits", {
                    types: (spec.accepts ?? []).map((a) => a.replace("image/", "")).join(", "),
                    max: spec.max_bytes ? formatBytes(spec.max_bytes) : "—",
                  })}
          </span>
        </div>
      </div>
      {spec.help && <div className="field-help muted">{spec.help}</div>}
      <FieldError field={name} message={error} />
    </div>
  );
}

export interface PickedKeyframe extends Omit<KeyframeValue, "image"> {
  image: PickedImage | null;
}

/** The keyframes of a keyframe_array: frame index, strength and image each, add and remove. */
export function KeyframesField({
  field,
  required,
  items,
  frameLimit,
  errors,
  onChange,
  onProblem,
}: {
  field: Field;
  required: boolean;
  items: PickedKeyframe[];
  frameLimit: number | undefined;
  errors: Record<string, string>;
  onChange: (items: PickedKeyframe[]) => void;
  onProblem: (p: Problem) => void;
}) {
  const { t } = useI18n();
  const schema = field.spec.item_schema;
  const lastFrame = frameLimit !== undefined ? frameLimit - 1 : schema?.frame_index.max;
  const add = () => {
    const used = items.map((i) => Number(i.frame_index)).filter(Number.isFinite);
    const next = used.length === 0 ? 0 : Math.min(lastFrame ?? 0, Math.max(...used) + 16);
    onChange([...items, { id: crypto.getRandomValues(new Uint32Array(2)).join("-"), frame_index: String(next), strength: "", image: null }]);
  };
  const update = (i: number, patch: Partial<PickedKeyframe>) => onChange(items.map((it, j) => (j === i ? { ...it, ...patch } : it)));
  return (
    <fieldset className="field keyframes" data-testid={"keyframes-" + field.name}>
      <legend className="field-label">
        {fieldLabel(field)}
        {required && <span className="req" title={t("studio.required")}> *</span>}
      </legend>
      {field.spec.help && <div className="field-help muted">{field.spec.help}</div>}
      {items.length === 0 && <p className="muted small">{t("studio.keyframes.empty")}</p>}
      {items.map((it, i) => {
        const prefix = `${field.name}[${i}]`;
        return (
          <div className="keyframe card" key={it.id} data-testid={"keyframe-" + i}>
            <div className="keyframe-head">
              <strong>{t("studio.keyframes.item", { n: i + 1 })}</strong>
              <button type="button" className="link" onClick={() => onChange(items.filter((_, j) => j !== i))} data-testid={"keyframe-remove-" + i}>
                {t("studio.keyframes.remove")}
              </button>
            </div>
            <div className="keyframe-numbers">
              <div className="field">
                <label htmlFor={controlId(prefix + ".frame_index")}>{t("studio.keyframes.frame")}</label>
                <input
                  id={controlId(prefix + ".frame_index")}
                  type="number"
                  min={schema?.frame_index.min ?? 0}
                  max={lastFrame}
                  step={1}
                  value={it.frame_index}
                  aria-invalid={errors[prefix + ".frame_index"] ? true : undefined}
                  onChange={(e) => update(i, { frame_index: e.target.value })}
                  data-testid={"keyframe-frame-" + i}
                />
                {lastFrame !== undefined && <div className="field-help muted">{t("studio.keyframes.frameHint", { last: lastFrame })}</div>}
                <FieldError field={prefix + ".frame_index"} message={errors[prefix + ".frame_index"]} />
              </div>
              {schema?.strength && (
                <div className="field">
                  <label htmlFor={controlId(prefix + ".strength")}>{t("studio.keyframes.strength")}</label>
                  <input
                    id={controlId(prefix + ".strength")}
                    type="number"
                    min={schema.strength.min}
                    max={schema.strength.max}
                    step={schema.strength.step ?? 0.05}
                    placeholder={String(schema.strength.default ?? "")}
                    value={it.strength}
                    onChange={(e) => update(i, { strength: e.target.value })}
                    data-testid={"keyframe-strength-" + i}
                  />
                  <FieldError field={prefix + ".strength"} message={errors[prefix + ".strength"]} />
                </div>
              )}
            </div>
            {schema && (
              <ImageField
                name={prefix + ".image"}
                label={t("studio.keyframes.image")}
                spec={schema.image}
                required
                value={it.image ?? undefined}
                error={errors[prefix + ".image"]}
                onChange={(img) => update(i, { image: img ?? null })}
                onProblem={onProblem}
              />
            )}
          </div>
        );
      })}
      <button type="button" onClick={add} data-testid={"keyframe-add"}>
        + {t("studio.keyframes.add")}
      </button>
      <FieldError field={field.name} message={errors[field.name]} />
    </fieldset>
  );
}

/** Revokes object URLs that are no longer shown. */
export function useRevokeOnDrop(urls: string[]) {
  const prev = useRef<string[]>([]);
  useEffect(() => {
    for (const u of prev.current) if (!urls.includes(u)) URL.revokeObjectURL(u);
    prev.current = urls;
  }, [urls]);
  useEffect(() => () => prev.current.forEach((u) => URL.revokeObjectURL(u)), []);
}
