// Shows an API error envelope: its detail and what the user should do about it.
import { ApiError } from "../api/client";
import { useI18n } from "../i18n/i18n";

/** Renders err (an ApiError's envelope, or any error's message); nothing when err is null. */
export function ErrorBox({ error, onDismiss }: { error: unknown; onDismiss?: () => void }) {
  const { t } = useI18n();
  if (!error) return null;
  const env =
    error instanceof ApiError
      ? error.envelope
      : { code: "client_error", detail: error instanceof Error ? error.message : String(error), user_action: "" };
  return (
    <div className="error-box" role="alert" data-testid="error" data-code={env.code}>
      <div className="error-detail">
        <strong>{env.detail}</strong> <code className="error-code">{env.code}</code>
      </div>
      {env.user_action && (
        <div className="error-action">
          {t("error.action")}: {env.user_action}
        </div>
      )}
      {onDismiss && (
        <button type="button" className="link" onClick={onDismiss}>
          {t("common.close")}
        </button>
      )}
    </div>
  );
}
