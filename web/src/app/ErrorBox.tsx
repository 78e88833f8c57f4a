// Shows an API error envelope: its detail and what the user should do about it.
import { ApiError } from "../api/client";
import { useI18n } from "../i18n/i18n";
import type { Messages } from "../i18n/en";

/**
 * The envelope to show. The server's envelopes are shown as they came; the ones the client makes
 * itself (no answer: network_error; an answer without an envelope: http_<status>) carry English
 * placeholders, so their words come from the page's language instead.
 */
function clientMade(err: ApiError, t: (k: keyof Messages, v?: Record<string, string | number>) => string) {
  const env = err.envelope;
  if (env.code === "network_error") return { ...env, detail: t("error.network"), user_action: t("error.network.action") };
  if (/^http_\d+$/.test(env.code)) return { ...env, detail: t("error.http", { status: err.status }), user_action: t("error.http.action") };
  return env;
}

/** Renders err (an ApiError's envelope, or any error's message); nothing when err is null. */
export function ErrorBox({ error, onDismiss }: { error: unknown; onDismiss?: () => void }) {
  const { t } = useI18n();
  if (!error) return null;
  const env =
    error instanceof ApiError
      ? clientMade(error, t)
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
