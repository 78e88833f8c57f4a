// #/health: GET /admin/health — storage, Temporal, accounts by status, lanes, and in plain
// words what makes the system degraded.
import { ErrorBox } from "../app/ErrorBox";
import { useI18n } from "../i18n/i18n";
import type { Messages } from "../i18n/en";
import { getHealth, type HealthCheck } from "./api";
import { Badge, Loading, PageHead, type Tone } from "./bits";
import { formatTime } from "./format";
import { useLoad } from "./useLoad";

const tone = (s: string): Tone => (s === "ok" ? "ok" : s === "degraded" || s === "unknown" || s === "no_worker" ? "warn" : "bad");

export function HealthPage() {
  const { t, lang } = useI18n();
  const health = useLoad(getHealth, [], { refreshMs: 15_000 });
  const h = health.data;
  const check = (label: keyof Messages, c: HealthCheck) => (
    <tr>
      <th scope="row">{t(label)}</th>
      <td>
        <Badge tone={tone(c.status)}>{c.status}</Badge>
      </td>
      <td className="muted">{c.latency_ms} ms</td>
    </tr>
  );
  return (
    <section className="admin-page" data-testid="page-health">
      <PageHead title="admin.health.title" help="admin.health.help">
        <button type="button" onClick={health.reload} disabled={health.loading}>
          {t("admin.refresh")}
        </button>
      </PageHead>
      <ErrorBox error={health.error} />
      {!h && health.loading && <Loading />}
      {h && (
        <>
          <p className="admin-health-status">
            <Badge tone={tone(h.status)} testId="health-status">
              {h.status === "ok" ? t("admin.health.ok") : t("admin.health.degraded")}
            </Badge>{" "}
            <span className="muted admin-small">{formatTime(h.at, lang)}</span>
          </p>
          {h.problems.length > 0 && (
            <ul className="admin-problems">
              {h.problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          )}
          <div className="admin-cards">
            <div className="card">
              <h3>{t("admin.health.deps")}</h3>
              <table className="admin-table">
                <tbody>
                  {check("admin.health.postgres", h.storage.postgres)}
                  {check("admin.health.artifacts", h.storage.artifacts)}
                  {check("admin.health.temporal", h.temporal.frontend)}
                  {check("admin.health.namespace", h.temporal.namespace)}
                </tbody>
              </table>
              <p className="muted admin-small">
                {t("admin.health.namespaceName")}: <code>{h.temporal.name}</code>
              </p>
            </div>
            <div className="card">
              <h3>
                {t("admin.accounts.title")} <Badge tone={tone(h.accounts.status)}>{h.accounts.total}</Badge>
              </h3>
              <table className="admin-table">
                <tbody>
                  {Object.entries(h.accounts.by_status).map(([st, n]) => (
                    <tr key={st}>
                      <th scope="row">{t(("admin.state." + st) as keyof Messages)}</th>
                      <td>{n}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>
          <h3>
            {t("admin.queues.lanes")} <Badge tone={tone(h.lanes_status)}>{h.lanes_status}</Badge>
          </h3>
          <div className="table-wrap">
            <table className="admin-table">
              <thead>
                <tr>
                  <th scope="col">{t("admin.queues.lane")}</th>
                  <th scope="col">{t("admin.queues.kind")}</th>
                  <th scope="col">{t("admin.col.status")}</th>
                  <th scope="col">{t("admin.queues.pollers")}</th>
                  <th scope="col">{t("admin.queues.pending")}</th>
                  <th scope="col">{t("admin.queues.processing")}</th>
                  <th scope="col">{t("admin.queues.accounts")}</th>
                </tr>
              </thead>
              <tbody>
                {h.lanes.map((l) => (
                  <tr key={l.lane}>
                    <td>
                      <code>{l.lane}</code>
                    </td>
                    <td>{t(("admin.lane.kind." + l.kind) as keyof Messages)}</td>
                    <td>
                      <Badge tone={tone(l.status)}>{l.status}</Badge>
                    </td>
                    <td>{l.pollers}</td>
                    <td>{l.pending}</td>
                    <td>{l.processing}</td>
                    <td>{l.accounts}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
