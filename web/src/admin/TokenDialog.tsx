// Shows a new account's worker token once, with a Copy button. The token lives only in this
// dialog's props: closing it drops the last reference, and it is never written to storage.
import { useRef, useState } from "react";
import { useI18n } from "../i18n/i18n";
import { Dialog } from "./Dialog";

export function TokenDialog({ label, token, onClose }: { label: string; token: string; onClose: () => void }) {
  const { t } = useI18n();
  const field = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<"" | "copied" | "selected">("");

  const copy = async () => {
    try {
      if (!navigator.clipboard) throw new Error("no clipboard");
      await navigator.clipboard.writeText(token);
      setCopied("copied");
    } catch {
      // No clipboard permission (plain HTTP, a locked-down browser): select the text so the
      // admin copies it with Ctrl+C, and try the old copy command too.
      field.current?.focus();
      field.current?.select();
      let ok = false;
      try {
        ok = document.execCommand("copy");
      } catch {
        ok = false;
      }
      setCopied(ok ? "copied" : "selected");
    }
  };

  return (
    <Dialog title={t("admin.token.title", { label })} onClose={onClose} testId="token-dialog">
      <p className="warning admin-token-warning" role="note">
        {t("admin.token.warning")}
      </p>
      <p className="muted">{t("admin.token.help")}</p>
      <div className="admin-token-row">
        <label className="admin-grow">
          <span className="sr-only">{t("admin.token.label")}</span>
          <input
            ref={field}
            readOnly
            value={token}
            className="admin-token"
            spellCheck={false}
            autoComplete="off"
            onFocus={(e) => e.currentTarget.select()}
            data-testid="token-value"
          />
        </label>
        <button type="button" className="primary" onClick={copy} data-testid="token-copy" data-autofocus>
          {copied === "copied" ? t("common.copied") : t("common.copy")}
        </button>
      </div>
      <p className="muted admin-small" aria-live="polite">
        {copied === "selected" ? t("admin.token.selected") : copied === "copied" ? t("admin.token.copied") : " "}
      </p>
      <div className="admin-actions">
        <button type="button" onClick={onClose} data-testid="token-close">
          {t("admin.token.done")}
        </button>
      </div>
    </Dialog>
  );
}
