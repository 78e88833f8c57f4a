// Small pieces the admin pages share: status badges, the usage bar, page headers, states.
import type { ReactNode } from "react";
import { useI18n } from "../i18n/i18n";
import type { Messages } from "../i18n/en";
import type { AccountUsage } from "./api";
import { usageView } from "./format";

export type Tone = "ok" | "warn" | "bad" | "muted" | "info";

export function Badge({ tone, children, title, testId }: { tone: Tone; children: ReactNode; title?: string; testId?: string }) {
  return (
    <span className={"admin-badge admin-" + tone} title={title} data-testid={testId}>
      {children}
    </span>
  );
}

/** The share of the monthly limit used, as a bar with the numbers beside it. */
export function UsageBar({ usage }: { usage: AccountUsage | undefined }) {
  const { t } = useI18n();
  const v = usageView(usage);
  if (v.level === "none")
    return (
      <span className="admin-usage-text">
        {v.used} <span className="muted">/ {t("admin.usage.noLimit")}</span>
      </span>
    );
  return (
    <div className="admin-usage" title={t("admin.usage.title", { percent: v.percent })}>
      <div
        className={"admin-usage-bar admin-usage-" + v.level}
        role="meter"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={v.percent}
        aria-label={t("admin.col.usage")}
      >
        <div style={{ width: v.percent + "%" }} />
      </div>
      <span className="admin-usage-text">
        {v.used} / {v.limit} <span className="muted">({v.percent}%)</span>
      </span>
    </div>
  );
}

export function PageHead({ title, help, children }: { title: keyof Messages; help?: keyof Messages; children?: ReactNode }) {
  const { t } = useI18n();
  return (
    <div className="admin-head">
      <div>
        {/* Where focus goes when a dialog closes and what opened it is gone (Dialog). */}
        <h2 tabIndex={-1} data-focus-fallback>
          {t(title)}
        </h2>
        {help && <p className="muted admin-help">{t(help)}</p>}
      </div>
      {children && <div className="admin-head-actions">{children}</div>}
    </div>
  );
}

export function Loading() {
  const { t } = useI18n();
  return (
    <p className="muted" role="status" data-testid="loading">
      {t("common.loading")}
    </p>
  );
}

export function Empty({ text }: { text: keyof Messages }) {
  const { t } = useI18n();
  return (
    <p className="muted admin-empty" data-testid="empty">
      {t(text)}
    </p>
  );
}

/** Tone of a Temporal workflow status word ("Running", "Completed", …). */
export function runTone(status: string | undefined): Tone {
  switch (status) {
    case "Completed":
      return "ok";
    case "Running":
      return "info";
    case "Failed":
    case "TimedOut":
    case "Terminated":
      return "bad";
    case "Canceled":
      return "warn";
  }
  return "muted";
}
