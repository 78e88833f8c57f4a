// One account's detail: its registered worker and its status history (GET /admin/accounts/{id}).
import { ErrorBox } from "../app/ErrorBox";
import { useI18n } from "../i18n/i18n";
import { getAccount } from "./api";
import { Loading } from "./bits";
import { Dialog } from "./Dialog";
import { formatTime } from "./format";
import { useLoad } from "./useLoad";

export function AccountDetailDialog({ id, onClose }: { id: string; onClose: () => void }) {
  const { t, lang } = useI18n();
  const acc = useLoad(() => getAccount(id), [id]);
  const a = acc.data;
  const info = a?.worker_info && Object.keys(a.worker_info).length > 0 ? a.worker_info : null;
  return (
    <Dialog title={a?.label ?? t("admin.detail.title")} onClose={onClose} testId="account-detail">
      <ErrorBox error={acc.error} />
      {!a && acc.loading && <Loading />}
      {a && (
        <>
          <dl className="admin-dl">
            <dt>{t("admin.detail.id")}</dt>
            <dd className="admin-mono">{a.id}</dd>
            <dt>{t("admin.col.status")}</dt>
            <dd>
              {a.status}
              {a.status_reason && <span className="muted"> — {a.status_reason}</span>}
            </dd>
            <dt>{t("admin.detail.failures")}</dt>
            <dd>{a.failures}</dd>
            <dt>{t("admin.detail.lastSeen")}</dt>
            <dd>{formatTime(a.last_seen_at, lang)}</dd>
            <dt>{t("admin.detail.cost")}</dt>
            <dd>{a.usage.estimated_cost.toFixed(2)}</dd>
          </dl>
          <h3>{t("admin.detail.worker")}</h3>
          {info ? <pre className="admin-pre">{JSON.stringify(info, null, 2)}</pre> : <p className="muted">{t("admin.detail.noWorker")}</p>}
          <h3>{t("admin.detail.history")}</h3>
          {a.events.length === 0 ? (
            <p className="muted">—</p>
          ) : (
            <div className="table-wrap">
              <table className="admin-table">
                <thead>
                  <tr>
                    <th scope="col">{t("admin.col.time")}</th>
                    <th scope="col">{t("admin.detail.change")}</th>
                    <th scope="col">{t("admin.detail.reason")}</th>
                    <th scope="col">{t("admin.col.actor")}</th>
                  </tr>
                </thead>
                <tbody>
                  {a.events.map((e) => (
                    <tr key={e.id}>
                      <td className="admin-nowrap">{formatTime(e.at, lang)}</td>
                      <td>
                        {e.from_status || "—"} → {e.to_status}
                      </td>
                      <td>{e.reason}</td>
                      <td>{e.actor}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
      <div className="admin-actions">
        <button type="button" onClick={onClose}>
          {t("common.close")}
        </button>
      </div>
    </Dialog>
  );
}
