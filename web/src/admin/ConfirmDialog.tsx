// Asks before an action that changes an account; an optional reason travels with it.
import { useState, type FormEvent, type ReactNode } from "react";
import { useI18n } from "../i18n/i18n";
import { Dialog } from "./Dialog";
import { ErrorBox } from "../app/ErrorBox";

export function ConfirmDialog(props: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  /** Shows a reason field and passes its text to onConfirm. */
  withReason?: boolean;
  onConfirm: (reason: string) => Promise<void>;
  onClose: () => void;
}) {
  const { t } = useI18n();
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await props.onConfirm(reason.trim());
      props.onClose();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <Dialog title={props.title} onClose={props.onClose} busy={busy} testId="confirm-dialog">
      <form onSubmit={submit} className="admin-form">
        <div>{props.children}</div>
        {props.withReason && (
          <label>
            {t("admin.confirm.reason")}
            <input value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} data-testid="confirm-reason" />
          </label>
        )}
        <ErrorBox error={error} />
        <div className="admin-actions">
          <button type="button" onClick={props.onClose} disabled={busy}>
            {t("common.cancel")}
          </button>
          <button type="submit" className={props.danger ? "danger" : "primary"} disabled={busy} data-testid="confirm-ok" data-autofocus>
            {props.confirmLabel}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
