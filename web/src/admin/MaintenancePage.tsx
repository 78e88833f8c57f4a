// #/maintenance: start the maintenance workflows (api/admin_maintenance.go) with their optional
// parameters, and follow the recent runs — on demand and scheduled — each linked to its page
// in the Temporal Web UI.
import { useState, type FormEvent } from "react";
import { ErrorBox } from "../app/ErrorBox";
import { useI18n } from "../i18n/i18n";
import type { Messages } from "../i18n/en";
import { getQueues, listMaintenance, startMaintenance, type MaintenanceParams, type MaintenanceRun } from "./api";
import { Badge, Empty, Loading, PageHead, runTone } from "./bits";
import { FieldErrors } from "./CreateAccountDialog";
import { formatTime, runDuration, summarize } from "./format";
import { useLoad } from "./useLoad";

/** A number parameter of one workflow: the body field, its bounds and the API's default. */
interface NumberParam {
  field: "min_age_seconds" | "retention_days" | "silent_after_seconds";
  label: keyof Messages;
  min: number;
  max?: number;
  def: number;
}

interface Workflow {
  name: string;
  number?: NumberParam;
  models?: boolean;
  /** Also run by a Temporal Schedule (the spec says how often). */
  schedule?: keyof Messages;
}

/** The maintenance workflows POST /admin/maintenance/{name} starts (api/openapi.yaml's enum). */
export const WORKFLOWS: Workflow[] = [
  { name: "cleanup", schedule: "admin.mnt.hourly" },
  { name: "reconcile", schedule: "admin.mnt.every5m", number: { field: "min_age_seconds", label: "admin.mnt.minAge", min: 0, def: 120 } },
  { name: "warmup", models: true },
  { name: "audit-retention", schedule: "admin.mnt.daily", number: { field: "retention_days", label: "admin.mnt.retention", min: 1, max: 3650, def: 90 } },
  { name: "rotate-keys" },
  { name: "health-sweep", schedule: "admin.mnt.everyMinute", number: { field: "silent_after_seconds", label: "admin.mnt.silentAfter", min: 1, max: 86400, def: 15 } },
];

export function MaintenancePage() {
  const { t } = useI18n();
  const [filter, setFilter] = useState("");
  const [started, setStarted] = useState<MaintenanceRun | null>(null);
  // Every 5 s while a run is in flight or just started (Temporal's list may lag the start),
  // every 30 s otherwise (scheduled runs appear by themselves).
  const [startedAt, setStartedAt] = useState(0);
  const runs = useLoad(() => listMaintenance(filter || undefined, 30), [filter], {
    refreshMs: (list) => (list?.some((r) => r.status === "Running") || Date.now() - startedAt < 60_000 ? 5_000 : 30_000),
  });
  const queues = useLoad(getQueues, []);
  const models = Array.from(new Set((queues.data?.lanes ?? []).flatMap((l) => l.models))).sort();

  const onStarted = (run: MaintenanceRun) => {
    setStarted(run);
    setStartedAt(Date.now());
    runs.reload();
  };

  return (
    <section className="admin-page" data-testid="page-maintenance">
      <PageHead title="admin.mnt.title" help="admin.mnt.help" />
      <div className="admin-cards">
        {WORKFLOWS.map((w) => (
          <WorkflowCard key={w.name} wf={w} models={models} onStarted={onStarted} />
        ))}
      </div>

      {started && (
        <div className="card admin-started" role="status" data-testid="maintenance-started">
          {t(started.joined ? "admin.mnt.joined" : "admin.mnt.started", { name: started.name })}{" "}
          <RunLink run={started} />
        </div>
      )}

      <div className="admin-head admin-subhead">
        <h3>{t("admin.mnt.runs")}</h3>
        <div className="admin-head-actions">
          <label className="inline">
            {t("admin.mnt.filter")}
            <select value={filter} onChange={(e) => setFilter(e.target.value)} data-testid="maintenance-filter">
              <option value="">{t("admin.mnt.all")}</option>
              {WORKFLOWS.map((w) => (
                <option key={w.name} value={w.name}>
                  {w.name}
                </option>
              ))}
            </select>
          </label>
          <button type="button" onClick={runs.reload} disabled={runs.loading}>
            {t("admin.refresh")}
          </button>
        </div>
      </div>
      <ErrorBox error={runs.error} />
      {!runs.data && runs.loading && <Loading />}
      {runs.data && runs.data.length === 0 && <Empty text="admin.mnt.noRuns" />}
      {runs.data && runs.data.length > 0 && <RunsTable runs={runs.data} />}
    </section>
  );
}

function WorkflowCard({ wf, models, onStarted }: { wf: Workflow; models: string[]; onStarted: (r: MaintenanceRun) => void }) {
  const { t } = useI18n();
  const [num, setNum] = useState("");
  const [picked, setPicked] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const body: MaintenanceParams = {};
    if (wf.number && num.trim() !== "") {
      const n = Number(num);
      if (!Number.isInteger(n) || n < wf.number.min || (wf.number.max !== undefined && n > wf.number.max)) {
        setError(new Error(t("admin.mnt.badNumber", { min: wf.number.min, max: wf.number.max ?? "∞" })));
        return;
      }
      body[wf.number.field] = n;
    }
    if (wf.models && picked.length > 0) body.models = picked;
    setBusy(true);
    setError(null);
    try {
      onStarted(await startMaintenance(wf.name, Object.keys(body).length ? body : undefined));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card admin-wf" onSubmit={submit} data-testid={"wf-" + wf.name}>
      <h3>
        <code>{wf.name}</code>
      </h3>
      <p className="admin-wf-desc">{t(("admin.mnt.desc." + wf.name) as keyof Messages)}</p>
      {wf.schedule && <p className="muted admin-small">{t(wf.schedule)}</p>}
      {wf.number && (
        <label>
          {t(wf.number.label)}
          <input
            type="number"
            min={wf.number.min}
            max={wf.number.max}
            step={1}
            placeholder={t("admin.mnt.default", { value: wf.number.def })}
            value={num}
            onChange={(e) => setNum(e.target.value)}
            data-testid={"wf-" + wf.name + "-param"}
          />
        </label>
      )}
      {wf.models && (
        <fieldset className="admin-fieldset">
          <legend>{t("admin.mnt.models")}</legend>
          {models.length === 0 && <p className="muted admin-small">{t("common.loading")}</p>}
          <div className="admin-lane-options">
            {models.map((m) => (
              <label key={m} className="inline admin-check">
                <input
                  type="checkbox"
                  checked={picked.includes(m)}
                  onChange={() => setPicked((p) => (p.includes(m) ? p.filter((x) => x !== m) : [...p, m]))}
                />
                <code>{m}</code>
              </label>
            ))}
          </div>
          <span className="muted admin-small">{t("admin.mnt.modelsHelp")}</span>
        </fieldset>
      )}
      <ErrorBox error={error} />
      <FieldErrors error={error} />
      <div className="admin-actions">
        <button type="submit" className="primary" disabled={busy} data-testid={"wf-" + wf.name + "-start"}>
          {busy ? t("admin.mnt.starting") : t("admin.mnt.start")}
        </button>
      </div>
    </form>
  );
}

function RunLink({ run }: { run: MaintenanceRun }) {
  const { t } = useI18n();
  if (!run.ui_url) return null;
  return (
    <a href={run.ui_url} target="_blank" rel="noopener noreferrer" data-testid="run-link" data-workflow-id={run.workflow_id}>
      {t("admin.mnt.openTemporal")}
      <span className="sr-only"> ({t("admin.newTab")})</span> ↗
    </a>
  );
}

function RunsTable({ runs }: { runs: MaintenanceRun[] }) {
  const { t, lang } = useI18n();
  return (
    <div className="table-wrap">
      <table className="admin-table" data-testid="runs-table">
        <thead>
          <tr>
            <th scope="col">{t("admin.mnt.col.name")}</th>
            <th scope="col">{t("admin.col.status")}</th>
            <th scope="col">{t("admin.mnt.col.started")}</th>
            <th scope="col">{t("admin.mnt.col.duration")}</th>
            <th scope="col">{t("admin.mnt.col.result")}</th>
            <th scope="col">{t("admin.mnt.col.workflow")}</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.workflow_id + "/" + r.run_id} data-testid="run-row" data-workflow-id={r.workflow_id} data-run-id={r.run_id}>
              <td>
                <code>{r.name}</code>
              </td>
              <td>
                <Badge tone={runTone(r.status)} testId="run-status">
                  {r.status ?? "—"}
                </Badge>
              </td>
              <td className="admin-nowrap">{formatTime(r.start_time, lang)}</td>
              <td className="admin-nowrap">{runDuration(r.start_time, r.close_time)}</td>
              <td className="admin-result">
                {r.result === undefined || r.result === null ? (
                  <span className="muted">—</span>
                ) : (
                  <details>
                    <summary>{summarize(r.result)}</summary>
                    <pre className="admin-pre">{JSON.stringify(r.result, null, 2)}</pre>
                  </details>
                )}
              </td>
              <td>
                <div className="admin-mono admin-small" title={r.run_id}>
                  {r.workflow_id}
                </div>
                <RunLink run={r} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
