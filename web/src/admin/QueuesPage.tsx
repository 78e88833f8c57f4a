// #/queues: every lane with its waiting and running tasks, the workers polling it and the
// accounts serving it (GET /admin/queues), and "why is this task queued" for one task id
// (GET /admin/tasks/{id}/why) in plain words.
import { useState, type FormEvent } from "react";
import { ErrorBox } from "../app/ErrorBox";
import { useI18n } from "../i18n/i18n";
import type { Messages } from "../i18n/en";
import { getQueues, whyTask, type LaneReport, type WhyAnswer } from "./api";
import { Badge, Empty, Loading, PageHead, runTone } from "./bits";
import { formatSpan, formatTime } from "./format";
import { useLoad } from "./useLoad";

export function QueuesPage() {
  const { t, lang } = useI18n();
  const queues = useLoad(getQueues, [], { refreshMs: 10_000 });
  return (
    <section className="admin-page" data-testid="page-queues">
      <PageHead title="admin.queues.title" help="admin.queues.help">
        <button type="button" onClick={queues.reload} disabled={queues.loading}>
          {t("admin.refresh")}
        </button>
      </PageHead>
      <WhyBox />
      <h3>{t("admin.queues.lanes")}</h3>
      <ErrorBox error={queues.error} />
      {!queues.data && queues.loading && <Loading />}
      {queues.data && queues.data.lanes.length === 0 && <Empty text="admin.queues.empty" />}
      {queues.data && queues.data.lanes.length > 0 && (
        <>
          <div className="table-wrap">
            <table className="admin-table" data-testid="queues-table">
              <thead>
                <tr>
                  <th scope="col">{t("admin.queues.lane")}</th>
                  <th scope="col">{t("admin.queues.kind")}</th>
                  <th scope="col">{t("admin.queues.models")}</th>
                  <th scope="col">{t("admin.queues.pending")}</th>
                  <th scope="col">{t("admin.queues.processing")}</th>
                  <th scope="col">{t("admin.queues.oldest")}</th>
                  <th scope="col">{t("admin.queues.pollers")}</th>
                  <th scope="col">{t("admin.queues.accounts")}</th>
                </tr>
              </thead>
              <tbody>
                {queues.data.lanes.map((l) => (
                  <LaneRow key={l.lane} lane={l} />
                ))}
              </tbody>
            </table>
          </div>
          <p className="muted admin-small">{t("admin.queues.at", { time: formatTime(queues.data.at, lang) })}</p>
        </>
      )}
    </section>
  );
}

function LaneRow({ lane: l }: { lane: LaneReport }) {
  const { t } = useI18n();
  const starving = l.pending > 0 && l.pollers.length === 0 && !l.pollers_error;
  return (
    <tr data-testid="lane-row" data-lane={l.lane}>
      <td>
        <code>{l.lane}</code>
      </td>
      <td>{t(("admin.lane.kind." + l.kind) as keyof Messages)}</td>
      <td className="admin-small">{l.models.length ? l.models.join(", ") : "—"}</td>
      <td>
        {l.pending}
        {l.max_depth !== undefined && l.depth !== undefined && (
          <div className="muted admin-small">{t("admin.queues.depth", { depth: l.depth, max: l.max_depth })}</div>
        )}
      </td>
      <td>{l.processing}</td>
      <td>{l.oldest_pending_age_seconds > 0 ? formatSpan(l.oldest_pending_age_seconds * 1000) : "—"}</td>
      <td>
        {l.pollers_error ? (
          <Badge tone="warn" title={l.pollers_error}>
            {t("admin.queues.unknown")}
          </Badge>
        ) : l.pollers.length === 0 ? (
          <Badge tone={starving ? "bad" : "muted"}>{starving ? t("admin.queues.noWorker") : "0"}</Badge>
        ) : (
          <details>
            <summary>{l.pollers.length}</summary>
            <ul className="admin-list">
              {l.pollers.map((p) => (
                <li key={p.identity} className="admin-mono admin-small">
                  {p.identity}
                </li>
              ))}
            </ul>
          </details>
        )}
      </td>
      <td className="admin-small">
        {l.accounts.length === 0
          ? "—"
          : l.accounts.map((a) => (
              <div key={a.id}>
                {a.label} {a.stopped && <Badge tone="warn">{t("admin.state.limit")}</Badge>}
              </div>
            ))}
      </td>
    </tr>
  );
}

function WhyBox() {
  const { t, lang } = useI18n();
  const [id, setId] = useState("");
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState<WhyAnswer | null>(null);
  const [error, setError] = useState<unknown>(null);

  const ask = async (e: FormEvent) => {
    e.preventDefault();
    const taskId = id.trim();
    if (!taskId) return;
    setBusy(true);
    setError(null);
    setAnswer(null);
    try {
      setAnswer(await whyTask(taskId));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="card admin-why">
      <form onSubmit={ask} className="admin-why-form" data-testid="why-form">
        <label className="admin-grow">
          {t("admin.why.label")}
          <input
            value={id}
            onChange={(e) => setId(e.target.value)}
            placeholder="00000000-0000-0000-0000-000000000000"
            spellCheck={false}
            autoComplete="off"
            data-testid="why-input"
          />
        </label>
        <button type="submit" className="primary" disabled={busy || !id.trim()} data-testid="why-submit">
          {t("admin.why.ask")}
        </button>
      </form>
      <p className="muted admin-small">{t("admin.why.help")}</p>
      <div aria-live="polite" data-testid="why-result">
        <ErrorBox error={error} />
        {answer && (
          <div className="admin-why-answer" data-testid="why-answer">
            <p className="admin-explanation">{answer.explanation}</p>
            <dl className="admin-dl">
              <dt>{t("admin.why.status")}</dt>
              <dd>
                <code>{answer.status}</code>
              </dd>
              <dt>{t("admin.why.model")}</dt>
              <dd>{answer.model}</dd>
              <dt>{t("admin.queues.lane")}</dt>
              <dd>
                <code>{answer.lane}</code> <span className="muted">({answer.lane_mode})</span>
              </dd>
              {answer.lane_has_worker !== undefined && (
                <>
                  <dt>{t("admin.queues.pollers")}</dt>
                  <dd>{answer.pollers.length ? answer.pollers.map((p) => p.identity).join(", ") : t("admin.queues.noWorker")}</dd>
                </>
              )}
              {answer.workflow_status && (
                <>
                  <dt>{t("admin.why.pendingAhead")}</dt>
                  <dd>{answer.pending_ahead}</dd>
                </>
              )}
              {answer.activity && (
                <>
                  <dt>{t("admin.why.activity")}</dt>
                  <dd>
                    <code>{answer.activity.type}</code> · {answer.activity.state} ·{" "}
                    {t("admin.why.attempt", { n: answer.activity.attempt, max: answer.activity.maximum_attempts || "∞" })}
                    {answer.activity.last_failure && (
                      <div className="muted admin-small">
                        {answer.activity.last_failure.code}: {answer.activity.last_failure.message}
                      </div>
                    )}
                  </dd>
                </>
              )}
              {answer.fallback_at && (
                <>
                  <dt>{t("admin.why.fallbackAt")}</dt>
                  <dd>{formatTime(answer.fallback_at, lang)}</dd>
                </>
              )}
              {answer.give_up_at && (
                <>
                  <dt>{t("admin.why.giveUpAt")}</dt>
                  <dd>{formatTime(answer.give_up_at, lang)}</dd>
                </>
              )}
              {answer.accounts.length > 0 && (
                <>
                  <dt>{t("admin.queues.accounts")}</dt>
                  <dd>
                    {answer.accounts.map((a) => (
                      <div key={a.id}>
                        {a.label}: {a.status}
                        {a.status_reason && <span className="muted"> — {a.status_reason}</span>}
                      </div>
                    ))}
                  </dd>
                </>
              )}
              <dt>{t("admin.why.workflow")}</dt>
              <dd>
                {answer.workflow_status && <Badge tone={runTone(answer.workflow_status)}>{answer.workflow_status}</Badge>}{" "}
                <span className="admin-mono admin-small">{answer.workflow_id}</span>{" "}
                {answer.ui_url && (
                  <a href={answer.ui_url} target="_blank" rel="noopener noreferrer">
                    {t("admin.mnt.openTemporal")}
                    <span className="sr-only"> ({t("admin.newTab")})</span> ↗
                  </a>
                )}
              </dd>
            </dl>
          </div>
        )}
      </div>
    </div>
  );
}
