// #/accounts: the GPU worker accounts — status, lanes, usage against the monthly limit, the
// connected worker — with create (token shown once), disable, enable, reset usage and delete.
import { useState } from "react";
import { ErrorBox } from "../app/ErrorBox";
import { useI18n } from "../i18n/i18n";
import type { Messages } from "../i18n/en";
import { accountAction, deleteAccount, getQueues, listAccounts, type Account, type CreatedAccount } from "./api";
import { AccountDetailDialog } from "./AccountDetailDialog";
import { Badge, Empty, Loading, PageHead, UsageBar, type Tone } from "./bits";
import { ConfirmDialog } from "./ConfirmDialog";
import { CreateAccountDialog } from "./CreateAccountDialog";
import { accountState, formatSpan, formatTime, workerView, type AccountState } from "./format";
import { TokenDialog } from "./TokenDialog";
import { useLoad } from "./useLoad";

const stateTone: Record<AccountState, Tone> = {
  ready: "ok",
  pending: "info",
  limit: "warn",
  cooling: "warn",
  failed: "bad",
  disabled: "muted",
  unknown: "muted",
};

type Pending =
  | { kind: "disable" | "enable" | "reset-usage" | "delete"; account: Account }
  | { kind: "create" }
  | { kind: "token"; label: string; token: string }
  | { kind: "detail"; id: string };

export function AccountsPage() {
  const { t, lang } = useI18n();
  const accounts = useLoad(listAccounts, [], { refreshMs: 15_000 });
  const queues = useLoad(getQueues, []);
  const [dialog, setDialog] = useState<Pending | null>(null);
  const [notice, setNotice] = useState("");
  const now = Date.now();

  const replace = (a: Account) => accounts.setData((list) => list?.map((x) => (x.id === a.id ? a : x)));

  const created = (a: CreatedAccount) => {
    // Keep the token out of the list: only the dialog holds it, until it is closed.
    const { worker_token: token, ...account } = a;
    accounts.setData((list) => [account, ...(list ?? []).filter((x) => x.id !== account.id)]);
    setDialog({ kind: "token", label: account.label, token });
  };

  const act = async (kind: "disable" | "enable" | "reset-usage", a: Account, reason?: string) => {
    const updated = await accountAction(a.id, kind, reason);
    replace(updated);
    setNotice(t(("admin.notice." + kind) as keyof Messages, { label: a.label }));
  };

  const list = accounts.data;
  return (
    <section className="admin-page" data-testid="page-accounts">
      <PageHead title="admin.accounts.title" help="admin.accounts.help">
        <button type="button" onClick={accounts.reload} disabled={accounts.loading}>
          {t("admin.refresh")}
        </button>
        <button type="button" className="primary" onClick={() => setDialog({ kind: "create" })} data-testid="account-new">
          {t("admin.accounts.new")}
        </button>
      </PageHead>
      <p className="admin-notice" aria-live="polite" data-testid="notice">
        {notice}
      </p>
      <ErrorBox error={accounts.error} />
      {!list && accounts.loading && <Loading />}
      {list && list.length === 0 && <Empty text="admin.accounts.empty" />}
      {list && list.length > 0 && (
        <div className="table-wrap">
          <table className="admin-table" data-testid="accounts-table">
            <thead>
              <tr>
                <th scope="col">{t("admin.col.name")}</th>
                <th scope="col">{t("admin.col.status")}</th>
                <th scope="col">{t("admin.col.lanes")}</th>
                <th scope="col">{t("admin.col.usage")}</th>
                <th scope="col">{t("admin.col.worker")}</th>
                <th scope="col">{t("admin.col.created")}</th>
                <th scope="col">
                  <span className="sr-only">{t("admin.col.actions")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((a) => {
                const st = accountState(a, now);
                const w = workerView(a, now);
                return (
                  <tr key={a.id} data-testid="account-row" data-account-id={a.id} data-label={a.label} data-status={a.status}>
                    <td>
                      <button type="button" className="link admin-name" onClick={() => setDialog({ kind: "detail", id: a.id })}>
                        {a.label}
                      </button>
                      <div className="muted admin-small admin-mono" title={a.id}>
                        {a.id.slice(0, 8)}
                      </div>
                    </td>
                    <td>
                      <Badge tone={stateTone[st]} title={a.status_reason || undefined} testId="account-status">
                        {t(("admin.state." + st) as keyof Messages)}
                      </Badge>
                      {st === "cooling" && a.cooldown_until && (
                        <div className="muted admin-small">{t("admin.state.until", { time: formatTime(a.cooldown_until, lang) })}</div>
                      )}
                      {a.status_reason && st !== "ready" && <div className="muted admin-small admin-reason">{a.status_reason}</div>}
                    </td>
                    <td>
                      <div className="admin-chips">
                        {a.lanes.map((l) => (
                          <code key={l} className="admin-chip">
                            {l}
                          </code>
                        ))}
                      </div>
                    </td>
                    <td className="admin-usage-cell">
                      <UsageBar usage={a.usage} />
                    </td>
                    <td>
                      <span className={"admin-dot " + (w.connected ? "admin-dot-on" : "admin-dot-off")} aria-hidden="true" />
                      {w.connected ? t("admin.worker.connected") : t("admin.worker.none")}
                      {w.describe && <div className="muted admin-small">{w.describe}</div>}
                      {w.lastSeen && (
                        <div className="muted admin-small" title={formatTime(w.lastSeen, lang)}>
                          {t("admin.worker.seen", { ago: formatSpan(now - Date.parse(w.lastSeen)) })}
                        </div>
                      )}
                    </td>
                    <td className="admin-nowrap">{formatTime(a.created_at, lang)}</td>
                    <td>
                      <div className="admin-row-actions">
                        {a.status === "disabled" ? (
                          <button type="button" onClick={() => setDialog({ kind: "enable", account: a })} data-testid="account-enable">
                            {t("admin.accounts.enable")}
                          </button>
                        ) : (
                          <button type="button" onClick={() => setDialog({ kind: "disable", account: a })} data-testid="account-disable">
                            {t("admin.accounts.disable")}
                          </button>
                        )}
                        <button
                          type="button"
                          onClick={() => setDialog({ kind: "reset-usage", account: a })}
                          disabled={!(a.usage?.gpu_seconds > 0)}
                          data-testid="account-reset"
                        >
                          {t("admin.accounts.reset")}
                        </button>
                        <button type="button" className="danger" onClick={() => setDialog({ kind: "delete", account: a })} data-testid="account-delete">
                          {t("common.delete")}
                        </button>
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}

      {dialog?.kind === "create" && (
        <CreateAccountDialog lanes={queues.data?.lanes} lanesError={queues.error} onCreated={created} onClose={() => setDialog(null)} />
      )}
      {dialog?.kind === "token" && <TokenDialog label={dialog.label} token={dialog.token} onClose={() => setDialog(null)} />}
      {dialog?.kind === "detail" && <AccountDetailDialog id={dialog.id} onClose={() => setDialog(null)} />}
      {dialog?.kind === "disable" && (
        <ConfirmDialog
          title={t("admin.confirm.disableTitle", { label: dialog.account.label })}
          confirmLabel={t("admin.accounts.disable")}
          withReason
          danger
          onConfirm={(r) => act("disable", dialog.account, r)}
          onClose={() => setDialog(null)}
        >
          {t("admin.confirm.disable")}
        </ConfirmDialog>
      )}
      {dialog?.kind === "enable" && (
        <ConfirmDialog
          title={t("admin.confirm.enableTitle", { label: dialog.account.label })}
          confirmLabel={t("admin.accounts.enable")}
          withReason
          onConfirm={(r) => act("enable", dialog.account, r)}
          onClose={() => setDialog(null)}
        >
          {t("admin.confirm.enable")}
        </ConfirmDialog>
      )}
      {dialog?.kind === "reset-usage" && (
        <ConfirmDialog
          title={t("admin.confirm.resetTitle", { label: dialog.account.label })}
          confirmLabel={t("admin.accounts.reset")}
          onConfirm={() => act("reset-usage", dialog.account)}
          onClose={() => setDialog(null)}
        >
          {t("admin.confirm.reset")}
        </ConfirmDialog>
      )}
      {dialog?.kind === "delete" && (
        <ConfirmDialog
          title={t("admin.confirm.deleteTitle", { label: dialog.account.label })}
          confirmLabel={t("common.delete")}
          danger
          onConfirm={async () => {
            const a = dialog.account;
            await deleteAccount(a.id);
            accounts.setData((list) => list?.filter((x) => x.id !== a.id));
            setNotice(t("admin.notice.delete", { label: a.label }));
          }}
          onClose={() => setDialog(null)}
        >
          {t("admin.confirm.delete")}
        </ConfirmDialog>
      )}
    </section>
  );
}
