// Pure helpers of the admin pages: usage against a limit, account states, durations, times,
// and the audit filters ↔ URL ↔ API query mapping. No React here, so it is unit tested alone.
import type { Account, AccountUsage } from "./api";

/** GPU-seconds in the largest unit that keeps the number readable: "45 s", "12.5 min", "3.2 h". */
export function formatGPUSeconds(s: number): string {
  if (!Number.isFinite(s) || s <= 0) return "0 s";
  if (s < 60) return `${trim(s)} s`;
  if (s < 3600) return `${trim(s / 60)} min`;
  return `${trim(s / 3600)} h`;
}

function trim(n: number): string {
  return n >= 100 ? String(Math.round(n)) : String(Math.round(n * 10) / 10);
}

export type UsageLevel = "none" | "ok" | "warn" | "stop";

export interface UsageView {
  /** The bar's fill, 0..100 (a usage past the limit fills it). */
  percent: number;
  /** none: no limit; ok below 75%; warn from 75%; stop from 90% (workers take no new work). */
  level: UsageLevel;
  used: string;
  limit: string;
}

/** How an account's usage reads against its monthly limit. */
export function usageView(u: AccountUsage | undefined): UsageView {
  const used = formatGPUSeconds(u?.gpu_seconds ?? 0);
  if (!u || !(u.limit_gpu_seconds > 0)) return { percent: 0, level: "none", used, limit: "" };
  const fraction = u.fraction > 0 ? u.fraction : u.gpu_seconds / u.limit_gpu_seconds;
  const percent = Math.max(0, Math.min(100, Math.round(fraction * 1000) / 10));
  const level: UsageLevel = u.stopped || fraction >= 0.9 ? "stop" : fraction >= 0.75 ? "warn" : "ok";
  return { percent, level, used, limit: formatGPUSeconds(u.limit_gpu_seconds) };
}

/** What an admin should read as an account's state; "cooling" is failed with a cooldown ahead. */
export type AccountState = "pending" | "ready" | "limit" | "cooling" | "failed" | "disabled" | "unknown";

export function accountState(a: Pick<Account, "status" | "cooldown_until" | "usage">, now = Date.now()): AccountState {
  switch (a.status) {
    case "ready":
      return a.usage?.stopped ? "limit" : "ready";
    case "failed":
      return a.cooldown_until && Date.parse(a.cooldown_until) > now ? "cooling" : "failed";
    case "pending":
    case "disabled":
      return a.status;
  }
  return "unknown";
}

/** A worker counts as connected while its heartbeats (every 5 s) keep arriving: 30 s of slack. */
export const CONNECTED_WITHIN_MS = 30_000;

export interface WorkerView {
  connected: boolean;
  /** "host · GPU (24 GB)" from the registration, or "". */
  describe: string;
  lastSeen?: string;
}

export function workerView(a: Pick<Account, "last_seen_at" | "worker_info" | "status">, now = Date.now()): WorkerView {
  const info = a.worker_info ?? {};
  const host = typeof info.host === "string" ? info.host : "";
  const gpu = typeof info.gpu_name === "string" ? info.gpu_name : "";
  const mem = typeof info.gpu_memory_mb === "number" && info.gpu_memory_mb > 0 ? ` (${Math.round(info.gpu_memory_mb / 1024)} GB)` : "";
  const describe = [host, gpu ? gpu + mem : ""].filter(Boolean).join(" · ");
  const seen = a.last_seen_at ? Date.parse(a.last_seen_at) : NaN;
  const connected = a.status === "ready" && Number.isFinite(seen) && now - seen <= CONNECTED_WITHIN_MS;
  return { connected, describe, lastSeen: a.last_seen_at };
}

/** "5 s", "3 min", "2 h", "4 d" for a span of milliseconds (the absolute value). */
export function formatSpan(ms: number): string {
  const s = Math.abs(ms) / 1000;
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

/** A run's duration from its start to its close (or to now while running), or "". */
export function runDuration(start?: string, close?: string, now = Date.now()): string {
  if (!start) return "";
  const a = Date.parse(start);
  const b = close ? Date.parse(close) : now;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return "";
  return formatSpan(b - a);
}

/** A timestamp in the reader's locale and time zone, or "—". */
export function formatTime(iso: string | undefined, lang: string): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(lang === "ru" ? "ru-RU" : "en-GB", { dateStyle: "short", timeStyle: "medium" });
}

// ---- audit filters ----

export const AUDIT_OUTCOMES = ["success", "refused", "failed"] as const;

/** The actions the API writes (api/*.go: s.audit), offered as suggestions; any text is allowed. */
export const AUDIT_ACTIONS = [
  "accounts.create",
  "accounts.list",
  "accounts.get",
  "accounts.delete",
  "accounts.disable",
  "accounts.enable",
  "accounts.reset_usage",
  "maintenance.start",
  "maintenance.list",
  "audit.list",
  "queues.get",
  "health.get",
  "tasks.why",
  "admin.session.create",
  "admin.session.get",
  "admin.session.delete",
];

/** The audit page's filters as the API takes them: since/until are RFC 3339 (UTC). */
export interface AuditFilters {
  action: string;
  outcome: string;
  since: string;
  until: string;
}

export const AUDIT_PAGE_SIZE = 50;

const FILTER_KEYS: (keyof AuditFilters)[] = ["action", "outcome", "since", "until"];

/** Reads the filters from the route's query (#/audit?action=…); unknown outcomes are dropped. */
export function filtersFromParams(p: URLSearchParams): AuditFilters {
  const f: AuditFilters = { action: "", outcome: "", since: "", until: "" };
  for (const k of FILTER_KEYS) f[k] = (p.get(k) ?? "").trim();
  if (!(AUDIT_OUTCOMES as readonly string[]).includes(f.outcome)) f.outcome = "";
  for (const k of ["since", "until"] as const) if (f[k] && Number.isNaN(Date.parse(f[k]))) f[k] = "";
  return f;
}

/** The filters as route params: empty ones left out, so the URL stays short. */
export function filtersToParams(f: AuditFilters): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const k of FILTER_KEYS) out[k] = f[k].trim() || undefined;
  return out;
}

/** The GET /admin/audit query of filters, one page of limit rows older than the id before. */
export function auditQuery(f: AuditFilters, before?: number, limit = AUDIT_PAGE_SIZE): Record<string, string | number | undefined> {
  return {
    action: f.action.trim() || undefined,
    outcome: f.outcome || undefined,
    since: f.since || undefined,
    until: f.until || undefined,
    limit,
    before: before && before > 0 ? before : undefined,
  };
}

/** An RFC 3339 instant → the value of an <input type="datetime-local"> in the local zone. */
export function isoToLocalInput(iso: string): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** An <input type="datetime-local"> value (local zone) → RFC 3339 in UTC without milliseconds. */
export function localInputToIso(local: string): string {
  if (!local) return "";
  const d = new Date(local);
  if (Number.isNaN(d.getTime())) return "";
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The audit row's details worth a glance: method and path first, then the rest as k=v. */
export function describeDetails(d: Record<string, unknown> | null | undefined): string {
  if (!d) return "";
  const parts: string[] = [];
  const rest = { ...d };
  if (typeof rest.method === "string" && typeof rest.path === "string") {
    parts.push(`${rest.method} ${rest.path}${typeof rest.query === "string" ? "?" + rest.query : ""}`);
    delete rest.method;
    delete rest.path;
    delete rest.query;
  }
  for (const [k, v] of Object.entries(rest)) parts.push(`${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
  return parts.join(" · ");
}

/** A one-line summary of a run's result: its top-level numbers and short strings. */
export function summarize(result: unknown): string {
  if (result === null || typeof result !== "object" || Array.isArray(result)) {
    const s = JSON.stringify(result);
    return s.length > 80 ? s.slice(0, 77) + "…" : s;
  }
  const parts: string[] = [];
  for (const [k, v] of Object.entries(result as Record<string, unknown>)) {
    if (typeof v === "number" || typeof v === "boolean") parts.push(`${k}: ${v}`);
    else if (typeof v === "string" && v.length <= 40) parts.push(`${k}: ${v}`);
    else if (Array.isArray(v)) parts.push(`${k}: [${v.length}]`);
  }
  const s = parts.join(", ") || "{…}";
  return s.length > 100 ? s.slice(0, 97) + "…" : s;
}
