// The live panel of the watched task: status, progress bar, stage and step, cancel, and the
// result (image, or a video that seeks through the server's Range support) with a download link.
import { ApiError } from "../api/client";
import { ErrorBox } from "../app/ErrorBox";
import { useI18n } from "../i18n/i18n";
import type { Messages } from "../i18n/en";
import { TERMINAL, type TaskWatch } from "./task";

function known(t: (k: keyof Messages) => string, key: string, fallback: string): string {
  const s = t(key as keyof Messages);
  return s === key ? fallback : s;
}

export function TaskPanel({ taskId, watch, resumed, onDismiss }: { taskId: string; watch: TaskWatch; resumed: boolean; onDismiss: () => void }) {
  const { t } = useI18n();
  const st = watch.status;
  const terminal = !!st && TERMINAL.has(st.status);
  const statusName = watch.cancelling && !terminal ? "cancelling" : (st?.status ?? "pending");
  const progress = Math.max(0, Math.min(100, st?.progress ?? 0));
  const isVideo = st?.type === "video";
  // A task deleted meanwhile (say, from the gallery): nothing to watch or cancel, only to close.
  const gone = watch.error instanceof ApiError && watch.error.code === "task_not_found";
  return (
    <section className="card task-panel" aria-labelledby="task-title" data-testid="task-panel" data-status={statusName} data-progress={progress} data-via={watch.via}>
      <div className="task-head">
        <h2 id="task-title">{t("task.title")}</h2>
        <span className={"status-pill status-" + statusName} data-testid="task-status">
          {known(t, "status." + statusName, statusName)}
        </span>
      </div>
      {resumed && !terminal && <p className="muted small">{t("task.resumed")}</p>}
      <div
        className="progress"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={progress}
        aria-label={t("task.title")}
        data-testid="task-progress"
      >
        <div style={{ width: `${progress}%` }} className={statusName === "failed" ? "bar-failed" : statusName === "cancelled" ? "bar-cancelled" : ""} />
      </div>
      <dl className="task-facts">
        <dt>%</dt>
        <dd data-testid="task-percent">{progress.toFixed(1)}%</dd>
        <dt>{t("task.stage")}</dt>
        <dd data-testid="task-stage">{st?.stage ? known(t, "stage." + st.stage, st.stage) : "—"}</dd>
        <dt>{t("task.step")}</dt>
        <dd data-testid="task-step">{st?.stage_detail || "—"}</dd>
        <dt>{t("task.id")}</dt>
        <dd>
          <code className="small" data-testid="task-id">
            {taskId}
          </code>{" "}
          <span className="muted small">({t(watch.via === "stream" ? "task.via.stream" : "task.via.poll")})</span>
        </dd>
      </dl>
      {st && (st.attempt ?? 0) > 1 && <p className="muted small">{t("task.attempt", { n: st.attempt ?? 0 })}</p>}
      {st?.metadata?.last_error && !terminal && (
        <p className="warning small" data-testid="task-last-error">
          {t("task.lastError", { message: st.metadata.last_error.message })}
        </p>
      )}
      {st?.metadata?.fallback_reason && <p className="muted small">{t("task.fallback", { reason: st.metadata.fallback_reason })}</p>}
      {st?.status === "failed" && (
        <div className="error-box" role="alert" data-testid="task-failed">
          <strong>{t("task.failed")}</strong>
          {st.error_msg && <>: {st.error_msg}</>} {st.error_code && <code className="error-code">{st.error_code}</code>}
        </div>
      )}
      {st?.status === "cancelled" && <p data-testid="task-cancelled">{t("task.cancelled")}</p>}
      <ErrorBox error={watch.error} />
      <div className="task-actions">
        {!terminal && !gone && (
          <button type="button" className="danger" onClick={() => void watch.cancel()} disabled={watch.cancelling} data-testid="task-cancel">
            {watch.cancelling ? t("task.cancelling") : t("task.cancel")}
          </button>
        )}
        {(terminal || gone) && (
          <button type="button" onClick={onDismiss} data-testid="task-dismiss">
            {t("task.dismiss")}
          </button>
        )}
      </div>
      {st?.status === "done" && st.result_url && (
        <figure className="result" data-testid="result">
          {isVideo ? (
            <video
              src={st.result_url}
              poster={st.preview_url || undefined}
              controls
              preload="metadata"
              playsInline
              onError={watch.mediaFailed}
              data-testid="result-video"
            />
          ) : (
            <a href={st.result_url} target="_blank" rel="noopener" title={t("task.openFull")}>
              <img src={st.result_url} alt={`${st.model ?? ""} ${st.width ?? ""}×${st.height ?? ""}`} onError={watch.mediaFailed} data-testid="result-image" />
            </a>
          )}
          <figcaption>
            <span className="muted small">
              {st.model} · {st.mode} · {st.width}×{st.height} · {t("task.seed", { seed: st.seed ?? "—" })}
            </span>
            <a className="button-link" href={st.result_url} download data-testid="result-download">
              ⬇ {t("task.download")}
            </a>
          </figcaption>
        </figure>
      )}
    </section>
  );
}
