// The studio page (#/): pick a type, model and mode, fill the form built from the settings file
// (GET /settings), submit with an Idempotency-Key, watch progress, cancel, see the result.
// Form values (never reference images) are kept in localStorage under "gooni.studio.form", so a
// reload or a renewed session keeps them; the watched task id is kept in the hash.
import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { ApiError, request } from "../api/client";
import { ErrorBox } from "../app/ErrorBox";
import { useI18n } from "../i18n/i18n";
import type { Messages } from "../i18n/en";
import {
  buildPayload,
  defaultState,
  effectiveNumber,
  estimateSeconds,
  findModel,
  framesForSeconds,
  isRequired,
  listModels,
  modeFields,
  modelFields,
  modesOf,
  qualityPreset,
  resolutionFits,
  validate,
  type Field,
  type FormState,
  type Problem,
} from "../settings/form";
import { parseSettings } from "../settings/json";
import type { ModelType, Settings } from "../settings/types";
import type { QualityValues } from "../settings/form";
import { studioEn } from "../i18n/messages/studio";
import { controlId, ImageField, KeyframesField, ScalarField, useRevokeOnDrop, type PickedImage, type PickedKeyframe } from "./Fields";
import { TaskPanel } from "./TaskPanel";
import { initialTaskId, loadAttempt, newIdempotencyKey, rememberTask, saveAttempt, useTaskWatch, type PendingAttempt } from "./task";
import "./studio.css";

const formKey = "gooni.studio.form";

/** What is kept across reloads: choices and typed values per model, never images. */
interface Saved {
  type: ModelType;
  model: Partial<Record<ModelType, string>>;
  modes: Record<string, string>;
  advanced: boolean;
  values: Record<string, Record<string, string | boolean>>;
}

function loadSaved(): Saved {
  const empty: Saved = { type: "image", model: {}, modes: {}, advanced: false, values: {} };
  try {
    const raw = localStorage.getItem(formKey);
    if (!raw) return empty;
    const v = JSON.parse(raw) as Partial<Saved>;
    return {
      type: v.type === "video" ? "video" : "image",
      model: v.model ?? {},
      modes: v.modes ?? {},
      advanced: !!v.advanced,
      values: v.values ?? {},
    };
  } catch {
    return empty;
  }
}

/** Loads the catalogue text (GET /settings; no session needed). */
async function fetchSettings(): Promise<Settings> {
  let res: Response;
  try {
    res = await fetch("/settings", { credentials: "same-origin", headers: { Accept: "application/json" } });
  } catch {
    throw new ApiError(0, { code: "network_error", detail: "The server could not be reached.", user_action: "Check your connection and try again." });
  }
  const text = await res.text();
  if (!res.ok) {
    let env;
    try {
      env = JSON.parse(text);
    } catch {
      env = { code: `http_${res.status}`, detail: res.statusText || "Request failed.", user_action: "Try again." };
    }
    throw new ApiError(res.status, env);
  }
  return parseSettings(text);
}

export function Studio() {
  const { t } = useI18n();
  const [settings, setSettings] = useState<Settings | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const load = useCallback(() => {
    setLoadError(null);
    fetchSettings().then(setSettings, setLoadError);
  }, []);
  useEffect(load, [load]);

  const [taskId, setTaskId] = useState<string | null>(initialTaskId);
  const [resumed, setResumed] = useState(() => taskId !== null);
  const watch = useTaskWatch(taskId);
  const startTask = (id: string) => {
    rememberTask(id);
    setResumed(false);
    setTaskId(id);
  };
  const dismiss = () => {
    rememberTask(null);
    setTaskId(null);
  };

  return (
    <div className="grid-2 studio">
      <div>
        {loadError ? (
          <div className="card">
            <ErrorBox error={loadError} />
            <button type="button" onClick={load}>
              {t("common.retry")}
            </button>
          </div>
        ) : !settings ? (
          <p className="muted card">{t("studio.loading")}</p>
        ) : (
          <StudioForm settings={settings} onStarted={startTask} />
        )}
      </div>
      <div className="studio-side">
        {taskId ? (
          <TaskPanel taskId={taskId} watch={watch} resumed={resumed} onDismiss={dismiss} />
        ) : (
          <div className="card muted task-empty" data-testid="task-empty">
            {t("task.empty")}
          </div>
        )}
      </div>
    </div>
  );
}

function translateProblem(t: (k: keyof Messages, v?: Record<string, string | number>) => string, p: Problem): string {
  return t(("problem." + p.code) as keyof Messages, p.vars);
}

function formatSeconds(t: (k: keyof Messages, v?: Record<string, string | number>) => string, sec: number): string {
  const s = Math.max(1, Math.round(sec));
  return s < 90 ? t("studio.seconds", { n: s }) : t("studio.minutes", { m: Math.floor(s / 60), s: s % 60 });
}

function StudioForm({ settings, onStarted }: { settings: Settings; onStarted: (id: string) => void }) {
  const { t } = useI18n();
  const [saved, setSaved] = useState<Saved>(loadSaved);
  // Images and keyframes per model: in memory only (never stored).
  const [images, setImages] = useState<Record<string, Record<string, PickedImage | undefined>>>({});
  const [keyframes, setKeyframes] = useState<Record<string, Record<string, PickedKeyframe[]>>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [summary, setSummary] = useState<string>("");
  const [submitError, setSubmitError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  // The submission in flight or worth retrying, kept for this tab: a retry after the answer was
  // lost (even after a reload or a visit to the gallery) sends the same Idempotency-Key.
  const attempt = useRef<PendingAttempt | null>(loadAttempt());
  const setAttempt = (a: PendingAttempt | null) => {
    attempt.current = a;
    saveAttempt(a);
  };
  const formRef = useRef<HTMLFormElement>(null);

  useEffect(() => {
    localStorage.setItem(formKey, JSON.stringify(saved));
  }, [saved]);

  const type = saved.type;
  const models = listModels(settings, type);
  const modelKey = models.find((m) => m.key === saved.model[type])?.key ?? models[0]?.key ?? "";
  const entry = findModel(settings, modelKey);
  const model = entry?.model;
  const modes = model ? modesOf(model) : [];
  const mode = modes.includes(saved.modes[modelKey]) ? saved.modes[modelKey] : (model?.default_mode ?? modes[0] ?? "");

  // The form state of the current model: defaults overlaid with what the user typed.
  const state: FormState = useMemo(() => {
    const st = defaultState(settings, modelKey);
    const typed = saved.values[modelKey] ?? {};
    for (const k of Object.keys(st.values)) if (k in typed && typeof typed[k] === typeof st.values[k]) st.values[k] = typed[k];
    st.images = images[modelKey] ?? {};
    for (const k of Object.keys(st.keyframes)) st.keyframes[k] = keyframes[modelKey]?.[k] ?? [];
    return st;
  }, [settings, modelKey, saved.values, images, keyframes]);

  useRevokeOnDrop(
    useMemo(() => {
      const urls: string[] = [];
      for (const m of Object.values(images)) for (const v of Object.values(m)) if (v) urls.push(v.thumb);
      for (const m of Object.values(keyframes)) for (const list of Object.values(m)) for (const k of list) if (k.image) urls.push(k.image.thumb);
      return urls;
    }, [images, keyframes]),
  );

  const clearError = (field: string) =>
    setErrors((e) => {
      if (!(field in e)) return e;
      const { [field]: _, ...rest } = e;
      void _;
      return rest;
    });
  const setValue = (name: string, v: string | boolean) => {
    setSaved((s) => ({ ...s, values: { ...s.values, [modelKey]: { ...s.values[modelKey], [name]: v } } }));
    clearError(name);
  };
  const setImage = (name: string, v: PickedImage | undefined) => {
    setImages((m) => ({ ...m, [modelKey]: { ...m[modelKey], [name]: v } }));
    clearError(name);
  };
  const setKeyframeList = (name: string, list: PickedKeyframe[]) => {
    setKeyframes((m) => ({ ...m, [modelKey]: { ...m[modelKey], [name]: list } }));
    setErrors((e) => Object.fromEntries(Object.entries(e).filter(([k]) => !k.startsWith(name))));
  };
  const showProblem = (p: Problem) => setErrors((e) => ({ ...e, [p.field]: translateProblem(t, p) }));

  const choose = (patch: Partial<Saved>) => {
    setSaved((s) => ({ ...s, ...patch }));
    setErrors({});
    setSummary("");
    setSubmitError(null);
  };
  const chooseType = (ty: ModelType) => choose({ type: ty });
  const chooseModel = (key: string) => {
    // Prompts follow the user from model to model; everything else is the model's own.
    const prompts = Object.fromEntries(
      ["prompt", "negative_prompt"].filter((k) => saved.values[modelKey]?.[k] !== undefined).map((k) => [k, saved.values[modelKey][k]]),
    );
    setSaved((s) => ({ ...s, model: { ...s.model, [type]: key }, values: { ...s.values, [key]: { ...s.values[key], ...prompts } } }));
    setErrors({});
    setSubmitError(null);
  };
  const chooseMode = (m: string) => choose({ modes: { ...saved.modes, [modelKey]: m } });
  const resetModel = () => {
    setSaved((s) => ({ ...s, values: { ...s.values, [modelKey]: { prompt: s.values[modelKey]?.prompt ?? "" } } }));
    setImages((m) => ({ ...m, [modelKey]: {} }));
    setKeyframes((m) => ({ ...m, [modelKey]: {} }));
    setErrors({});
  };

  const all = modeFields(settings, modelKey, mode);
  const shown = all.filter((f) => saved.advanced || !f.advanced);
  const hiddenCount = all.length - shown.length;
  const estimate = estimateSeconds(settings, modelKey, mode, state);
  const frameLimitField = all.find((f) => f.kind === "keyframe_array")?.spec.item_schema?.frame_index.less_than_param;
  const frameLimit = frameLimitField ? effectiveNumber(all.find((f) => f.name === frameLimitField)!, state) : undefined;

  const focusField = (field: string) => {
    const el = formRef.current?.querySelector<HTMLElement>("#" + CSS.escape(controlId(field)));
    el?.focus();
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSubmitError(null);
    setSummary("");
    const problems = validate(settings, modelKey, mode, state);
    if (problems.length > 0) {
      const errs: Record<string, string> = {};
      for (const p of problems) errs[p.field] ??= translateProblem(t, p);
      setErrors(errs);
      setSummary(t("studio.fixErrors", { n: problems.length }));
      if (problems.some((p) => all.find((f) => p.field.startsWith(f.name))?.advanced)) setSaved((s) => ({ ...s, advanced: true }));
      setTimeout(() => focusField(problems[0].field), 0);
      return;
    }
    setErrors({});
    const body = buildPayload(settings, modelKey, mode, state);
    const text = JSON.stringify(body);
    // A retry of the same request (same body) reuses its key, so the server never runs it twice.
    const pending = attempt.current?.body === text ? attempt.current : { body: text, key: newIdempotencyKey() };
    setAttempt(pending);
    const key = pending.key;
    setBusy(true);
    try {
      const r = await request<{ task_id: string; status: string }>("/generate", { method: "POST", body, headers: { "Idempotency-Key": key } });
      setAttempt(null);
      onStarted(r.task_id);
    } catch (err) {
      setSubmitError(err);
      if (err instanceof ApiError) {
        const definitive = err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429 && err.status !== 401 && err.status !== 403;
        if (definitive) setAttempt(null);
        const fields = (err.envelope.metadata?.fields ?? []) as { field: string; message: string }[];
        if (err.code === "validation_error" && Array.isArray(fields) && fields.length > 0) {
          const errs: Record<string, string> = {};
          for (const f of fields) errs[f.field || "_"] ??= f.message;
          setErrors(errs);
          setSummary(t("studio.fieldsRejected"));
          if (fields.some((f) => all.find((x) => f.field.startsWith(x.name))?.advanced)) setSaved((s) => ({ ...s, advanced: true }));
        }
      }
    } finally {
      setBusy(false);
    }
  };

  if (!model) return null;
  const presets = settings.file.quick_presets ?? {};
  const resolutions = [
    ...(model.recommended_resolutions ?? []).map((r) => ({ label: r.label ?? `${r.width}×${r.height}`, width: r.width, height: r.height })),
    ...(presets.aspect_ratio?.options ?? [])
      .filter((o) => o.width !== undefined && o.height !== undefined)
      .map((o) => ({ label: o.label, width: o.width!, height: o.height! })),
  ].filter((r) => resolutionFits(settings, modelKey, r.width, r.height));
  const hasFrames = framesForSeconds(settings, modelKey, mode, state, 1) !== undefined;
  const qualities = Object.keys(settings.file.presets ?? {})
    .map((name) => ({ name, values: qualityPreset(settings, modelKey, mode, name) }))
    .filter((q): q is { name: string; values: QualityValues } => q.values !== undefined);
  const qualityLabel = (name: string) => {
    const key = `studio.quality.${name}` as keyof Messages;
    return key in studioEn ? t(key) : name.replace(/_/g, " ");
  };
  const modeSpec = model.modes[mode];

  const renderField = (f: Field) => {
    const required = isRequired(f, mode);
    if (f.kind === "image_upload") {
      return (
        <ImageField
          key={f.name}
          name={f.name}
          label={f.spec.label ?? f.name}
          spec={f.spec}
          required={required}
          value={state.images[f.name] as PickedImage | undefined}
          error={errors[f.name]}
          onChange={(v) => setImage(f.name, v)}
          onProblem={showProblem}
        />
      );
    }
    if (f.kind === "keyframe_array") {
      return (
        <KeyframesField
          key={f.name}
          field={f}
          required={required}
          items={(state.keyframes[f.name] ?? []) as PickedKeyframe[]}
          frameLimit={frameLimit}
          errors={errors}
          onChange={(list) => setKeyframeList(f.name, list)}
          onProblem={showProblem}
        />
      );
    }
    return <ScalarField key={f.name} field={f} required={required} value={state.values[f.name]} error={errors[f.name]} onChange={(v) => setValue(f.name, v)} />;
  };
  const unknownErrors = Object.entries(errors).filter(([k]) => !modelFields(settings, modelKey).some((f) => k === f.name || k.startsWith(f.name + "[")));

  return (
    <form ref={formRef} className="card studio-form" onSubmit={submit} noValidate aria-label={t("studio.form")} data-testid="studio-form">
      <div className="pickers">
        <div className="field">
          <span className="field-label" id="type-label">
            {t("studio.type")}
          </span>
          <div className="segmented" role="group" aria-labelledby="type-label">
            {(["image", "video"] as ModelType[]).map((ty) => (
              <button key={ty} type="button" aria-pressed={type === ty} onClick={() => chooseType(ty)} data-testid={"type-" + ty}>
                {t(ty === "image" ? "studio.type.image" : "studio.type.video")}
              </button>
            ))}
          </div>
        </div>
        <div className="field">
          <label htmlFor="studio-model">{t("studio.model")}</label>
          <select id="studio-model" value={modelKey} onChange={(e) => chooseModel(e.target.value)} data-testid="model">
            {models.map((m) => (
              <option key={m.key} value={m.key}>
                {m.model.name}
              </option>
            ))}
          </select>
          {model.description && <div className="field-help muted">{model.description}</div>}
        </div>
      </div>
      <fieldset className="field modes">
        <legend className="field-label">{t("studio.mode")}</legend>
        <div className="segmented wrap">
          {modes.map((m) => (
            <label key={m} className={"mode-option" + (m === mode ? " selected" : "")}>
              <input type="radio" name="mode" value={m} checked={m === mode} onChange={() => chooseMode(m)} data-testid={"mode-" + m} />
              {model.modes[m]?.label ?? m}
            </label>
          ))}
        </div>
        {modeSpec?.description && <div className="field-help muted">{modeSpec.description}</div>}
      </fieldset>

      {(qualities.length > 0 || resolutions.length > 0 || (hasFrames && presets.duration)) && (
        <div className="presets" aria-label={t("studio.presets")} role="group">
          {qualities.length > 0 && (
            <div className="preset-row">
              <span className="muted small">{t("studio.quality")}</span>
              {qualities.map(({ name, values }) => {
                const on = Object.entries(values).every(([k, v]) => Number(state.values[k]) === v);
                const sets = Object.entries(values)
                  .map(([k, v]) => `${k} ${v}`)
                  .join(", ");
                return (
                  <button
                    key={name}
                    type="button"
                    className="chip"
                    aria-pressed={on}
                    title={[settings.file.presets?.[name]?.description, t("studio.quality.sets", { values: sets })].filter(Boolean).join(" — ")}
                    onClick={() => {
                      for (const [k, v] of Object.entries(values)) setValue(k, String(v));
                    }}
                    data-testid={`quality-${name}`}
                  >
                    {qualityLabel(name)}
                  </button>
                );
              })}
            </div>
          )}
          {resolutions.length > 0 && (
            <div className="preset-row">
              <span className="muted small">{t("studio.resolutions")}</span>
              {resolutions.map((r) => {
                const on = Number(state.values.width) === r.width && Number(state.values.height) === r.height;
                return (
                  <button
                    key={r.label + r.width + r.height}
                    type="button"
                    className="chip"
                    aria-pressed={on}
                    onClick={() => {
                      setValue("width", String(r.width));
                      setValue("height", String(r.height));
                    }}
                    data-testid={`res-${r.width}x${r.height}`}
                  >
                    {r.label}
                  </button>
                );
              })}
            </div>
          )}
          {hasFrames && presets.duration && (
            <div className="preset-row">
              <span className="muted small">{presets.duration.label}</span>
              {presets.duration.options.map((o) => {
                const frames = framesForSeconds(settings, modelKey, mode, state, o.value ?? 0);
                return (
                  <button
                    key={o.label}
                    type="button"
                    className="chip"
                    aria-pressed={frames !== undefined && Number(state.values.num_frames) === frames}
                    onClick={() => frames !== undefined && setValue("num_frames", String(frames))}
                    data-testid={`duration-${o.value}`}
                  >
                    {o.label}
                  </button>
                );
              })}
            </div>
          )}
        </div>
      )}

      <div className="fields">{shown.map(renderField)}</div>

      <label className="inline advanced-toggle">
        <input type="checkbox" checked={saved.advanced} onChange={(e) => setSaved((s) => ({ ...s, advanced: e.target.checked }))} data-testid="advanced" />
        {t("studio.advanced")}
        {!saved.advanced && hiddenCount > 0 && <span className="muted small"> ({t("studio.advancedCount", { n: hiddenCount })})</span>}
      </label>

      {unknownErrors.map(([k, msg]) => (
        <div className="field-error" role="alert" key={k} data-testid={"field-error-" + k}>
          {k !== "_" && <code>{k}</code>} {msg}
        </div>
      ))}
      {summary && (
        <p className="field-error" role="status" data-testid="form-summary">
          {summary}
        </p>
      )}
      <ErrorBox error={submitError} />

      <div className="submit-row">
        <button type="submit" className="primary" disabled={busy} data-testid="submit">
          {busy ? t("studio.submitting") : attempt.current && submitError ? t("studio.retry") : t("studio.submit")}
        </button>
        <span className="muted small" data-testid="estimate">
          {estimate !== null ? t("studio.estimate", { time: formatSeconds(t, estimate) }) : t("studio.estimate.none")}
        </span>
        <button type="button" className="link reset" onClick={resetModel} data-testid="reset">
          {t("studio.reset")}
        </button>
      </div>
    </form>
  );
}
