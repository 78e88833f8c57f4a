// The form that adds a GPU worker account: a name, the lanes its workers may serve (the
// catalogue's lanes as GET /admin/queues reports them) and a monthly limit in GPU-hours.
import { useState, type FormEvent } from "react";
import { ApiError } from "../api/client";
import { ErrorBox } from "../app/ErrorBox";
import { useI18n } from "../i18n/i18n";
import { createAccount, type CreatedAccount, type LaneReport } from "./api";
import { Dialog } from "./Dialog";

export function CreateAccountDialog(props: {
  lanes: LaneReport[] | undefined;
  lanesError: unknown;
  onCreated: (a: CreatedAccount) => void;
  onClose: () => void;
}) {
  const { t } = useI18n();
  const [label, setLabel] = useState("");
  const [chosen, setChosen] = useState<string[]>([]);
  const [limitHours, setLimitHours] = useState("0");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const lanes = (props.lanes ?? []).filter((l) => l.kind !== "unknown");

  const toggle = (lane: string) => setChosen((c) => (c.includes(lane) ? c.filter((x) => x !== lane) : [...c, lane]));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const hours = Number(limitHours || "0");
    if (!label.trim()) return setError(new Error(t("admin.create.needLabel")));
    if (chosen.length === 0) return setError(new Error(t("admin.create.needLane")));
    if (!Number.isFinite(hours) || hours < 0) return setError(new Error(t("admin.create.badLimit")));
    setBusy(true);
    setError(null);
    try {
      const created = await createAccount({ label: label.trim(), lanes: chosen, monthly_limit_gpu_seconds: Math.round(hours * 3600) });
      props.onCreated(created);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <Dialog title={t("admin.create.title")} onClose={props.onClose} busy={busy} testId="create-dialog">
      <form onSubmit={submit} className="admin-form" data-testid="create-form" noValidate>
        <label>
          {t("admin.create.label")}
          <input
            value={label}
            onChange={(e) => setLabel(e.target.value)}
            maxLength={200}
            required
            autoComplete="off"
            data-autofocus
            data-testid="create-label"
          />
          <span className="muted admin-small">{t("admin.create.labelHelp")}</span>
        </label>
        <fieldset className="admin-fieldset">
          <legend>{t("admin.create.lanes")}</legend>
          {props.lanesError ? <ErrorBox error={props.lanesError} /> : null}
          {!props.lanes && !props.lanesError && <p className="muted">{t("common.loading")}</p>}
          {props.lanes && lanes.length === 0 && <p className="muted">{t("admin.create.noLanes")}</p>}
          <div className="admin-lane-options">
            {lanes.map((l) => (
              <label key={l.lane} className="inline admin-check">
                <input type="checkbox" checked={chosen.includes(l.lane)} onChange={() => toggle(l.lane)} data-testid={"create-lane-" + l.lane} />
                <span>
                  <code>{l.lane}</code>{" "}
                  <span className="muted admin-small">
                    {l.kind === "shared" ? t("admin.lane.shared") : l.models.join(", ")}
                  </span>
                </span>
              </label>
            ))}
          </div>
          {lanes.length > 1 && (
            <button type="button" className="link" onClick={() => setChosen(chosen.length === lanes.length ? [] : lanes.map((l) => l.lane))}>
              {chosen.length === lanes.length ? t("admin.create.noneLanes") : t("admin.create.allLanes")}
            </button>
          )}
        </fieldset>
        <label>
          {t("admin.create.limit")}
          <input
            type="number"
            min={0}
            step={0.5}
            value={limitHours}
            onChange={(e) => setLimitHours(e.target.value)}
            inputMode="decimal"
            data-testid="create-limit"
          />
          <span className="muted admin-small">{t("admin.create.limitHelp")}</span>
        </label>
        <ErrorBox error={error} />
        <FieldErrors error={error} />
        <div className="admin-actions">
          <button type="button" onClick={props.onClose} disabled={busy}>
            {t("common.cancel")}
          </button>
          <button type="submit" className="primary" disabled={busy} data-testid="create-submit">
            {busy ? t("admin.create.creating") : t("admin.create.submit")}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Lists metadata.fields of a validation_error beyond the first (which is the detail). */
export function FieldErrors({ error }: { error: unknown }) {
  if (!(error instanceof ApiError)) return null;
  const fields = error.envelope.metadata?.fields;
  if (!Array.isArray(fields) || fields.length < 2) return null;
  return (
    <ul className="admin-field-errors">
      {fields.slice(1).map((f, i) => (
        <li key={i}>
          <code>{String((f as { field?: unknown }).field ?? "")}</code>: {String((f as { message?: unknown }).message ?? "")}
        </li>
      ))}
    </ul>
  );
}
