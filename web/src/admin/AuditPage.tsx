// #/audit: the admin audit log, newest first, filtered by action, outcome and a time range
// (what GET /admin/audit supports) and paged by its next_before cursor. The filters live in
// the route (#/audit?action=accounts.create&outcome=refused…), so a reload or a shared link
// keeps them.
import { useEffect, useState, type FormEvent } from "react";
import { navigate, useRoute } from "../app/router";
import { ErrorBox } from "../app/ErrorBox";
import { useI18n } from "../i18n/i18n";
import type { Messages } from "../i18n/en";
import { listAudit } from "./api";
import { Badge, Empty, Loading, PageHead, type Tone } from "./bits";
import {
  AUDIT_ACTIONS,
  AUDIT_OUTCOMES,
  auditQuery,
  describeDetails,
  filtersFromParams,
  filtersToParams,
  formatTime,
  isoToLocalInput,
  localInputToIso,
  type AuditFilters,
} from "./format";
import { useLoad } from "./useLoad";

const outcomeTone: Record<string, Tone> = { success: "ok", refused: "warn", failed: "bad" };

export function AuditPage() {
  const { t, lang } = useI18n();
  const { params } = useRoute();
  const key = params.toString();
  const filters = filtersFromParams(params);
  // Cursors of the pages shown so far: the last one is the current page's "before" (0: newest).
  // They belong to one set of filters: new filters start again from the newest page.
  const [paging, setPaging] = useState<{ key: string; cursors: number[] }>({ key, cursors: [0] });
  const cursors = paging.key === key ? paging.cursors : [0];
  const setCursors = (fn: (c: number[]) => number[]) => setPaging({ key, cursors: fn(cursors) });
  const before = cursors[cursors.length - 1];
  const page = useLoad(() => listAudit(auditQuery(filters, before)), [key, before]);

  // The form edits a draft; Apply puts it into the route.
  const [draft, setDraft] = useState<AuditFilters>(filters);
  useEffect(() => setDraft(filtersFromParams(new URLSearchParams(key))), [key]);

  const apply = (e: FormEvent) => {
    e.preventDefault();
    navigate("/audit", filtersToParams(draft));
  };
  const clear = () => navigate("/audit");
  const active = Object.values(filters).some(Boolean);

  return (
    <section className="admin-page" data-testid="page-audit">
      <PageHead title="admin.audit.title" help="admin.audit.help">
        <button type="button" onClick={page.reload} disabled={page.loading}>
          {t("admin.refresh")}
        </button>
      </PageHead>
      <form className="card admin-filters" onSubmit={apply} data-testid="audit-filters" role="search">
        <label>
          {t("admin.audit.action")}
          <input
            list="admin-audit-actions"
            value={draft.action}
            onChange={(e) => setDraft({ ...draft, action: e.target.value })}
            placeholder="accounts.create"
            autoComplete="off"
            data-testid="audit-action"
          />
          <datalist id="admin-audit-actions">
            {AUDIT_ACTIONS.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
        </label>
        <label>
          {t("admin.audit.outcome")}
          <select value={draft.outcome} onChange={(e) => setDraft({ ...draft, outcome: e.target.value })} data-testid="audit-outcome">
            <option value="">{t("admin.audit.any")}</option>
            {AUDIT_OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {t(("admin.outcome." + o) as keyof Messages)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("admin.audit.since")}
          <input
            type="datetime-local"
            value={isoToLocalInput(draft.since)}
            onChange={(e) => setDraft({ ...draft, since: localInputToIso(e.target.value) })}
            data-testid="audit-since"
          />
        </label>
        <label>
          {t("admin.audit.until")}
          <input
            type="datetime-local"
            value={isoToLocalInput(draft.until)}
            onChange={(e) => setDraft({ ...draft, until: localInputToIso(e.target.value) })}
            data-testid="audit-until"
          />
        </label>
        <div className="admin-filter-actions">
          <button type="submit" className="primary" data-testid="audit-apply">
            {t("admin.audit.apply")}
          </button>
          <button type="button" onClick={clear} disabled={!active}>
            {t("admin.audit.clear")}
          </button>
        </div>
      </form>

      <ErrorBox error={page.error} />
      {!page.data && page.loading && <Loading />}
      {page.data && page.data.items.length === 0 && <Empty text={active ? "admin.audit.emptyFiltered" : "admin.audit.empty"} />}
      {page.data && page.data.items.length > 0 && (
        <div className="table-wrap">
          <table className={"admin-table" + (page.loading ? " admin-stale" : "")} aria-busy={page.loading} data-testid="audit-table">
            <thead>
              <tr>
                <th scope="col">{t("admin.col.time")}</th>
                <th scope="col">{t("admin.audit.action")}</th>
                <th scope="col">{t("admin.audit.target")}</th>
                <th scope="col">{t("admin.audit.outcome")}</th>
                <th scope="col">{t("admin.audit.status")}</th>
                <th scope="col">{t("admin.audit.client")}</th>
                <th scope="col">{t("admin.audit.details")}</th>
              </tr>
            </thead>
            <tbody>
              {page.data.items.map((e) => (
                <tr key={e.id} data-testid="audit-row" data-action={e.action} data-target={e.target}>
                  <td className="admin-nowrap">{formatTime(e.at, lang)}</td>
                  <td>
                    <button
                      type="button"
                      className="link admin-mono"
                      title={t("admin.audit.filterBy")}
                      onClick={() => navigate("/audit", filtersToParams({ ...filters, action: e.action }))}
                    >
                      {e.action}
                    </button>
                  </td>
                  <td className="admin-mono admin-small admin-break">{e.target || "—"}</td>
                  <td>
                    <Badge tone={outcomeTone[e.outcome] ?? "muted"}>{t(("admin.outcome." + e.outcome) as keyof Messages) || e.outcome}</Badge>
                  </td>
                  <td className="admin-nowrap">
                    {e.status}
                    {e.code && <code className="muted"> {e.code}</code>}
                  </td>
                  <td className="admin-mono admin-small">{e.client_ip}</td>
                  <td className="admin-small admin-break" title={e.request_id ? "request_id " + e.request_id : undefined}>
                    {describeDetails(e.details)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {page.data && (cursors.length > 1 || page.data.has_more) && (
        <nav className="admin-pager" aria-label={t("admin.audit.paging")}>
          <button type="button" onClick={() => setCursors((c) => c.slice(0, -1))} disabled={cursors.length <= 1 || page.loading} data-testid="audit-newer">
            ← {t("admin.audit.newer")}
          </button>
          <span className="muted">{t("admin.audit.page", { n: cursors.length })}</span>
          <button
            type="button"
            onClick={() => setCursors((c) => [...c, page.data!.next_before])}
            disabled={!page.data.has_more || page.loading}
            data-testid="audit-older"
          >
            {t("admin.audit.older")} →
          </button>
        </nav>
      )}
    </section>
  );
}
