// The admin API's shapes (api/accounts.go, admin_maintenance.go, audit.go, admin_queue.go,
// admin_health.go) and one function per call. Every call goes through request(), so failures
// arrive as ApiError with the envelope, and a lost admin session asks for the key again.
import { request } from "../api/client";

export type AccountStatus = "pending" | "ready" | "failed" | "disabled";

export interface AccountUsage {
  gpu_seconds: number;
  estimated_cost: number;
  /** 0: no limit. */
  limit_gpu_seconds: number;
  fraction: number;
  /** From 90% of the limit: the account's workers take no new work. */
  stopped: boolean;
}

export interface Account {
  id: string;
  label: string;
  lanes: string[];
  monthly_limit_gpu_seconds: number;
  status: AccountStatus | string;
  status_reason: string;
  status_changed_at: string;
  failures: number;
  cooldown_until?: string;
  created_at: string;
  updated_at: string;
  last_seen_at?: string;
  worker_info: Record<string, unknown> | null;
  usage_gpu_seconds: number;
  usage: AccountUsage;
}

export interface AccountEvent {
  id: number;
  at: string;
  from_status: string;
  to_status: string;
  reason: string;
  actor: string;
}

export interface AccountDetail extends Account {
  events: AccountEvent[];
}

export interface NewAccount {
  label: string;
  lanes: string[];
  monthly_limit_gpu_seconds: number;
}

/** POST /admin/accounts answers the account and, this once, its worker token. */
export interface CreatedAccount extends Account {
  worker_token: string;
}

export const listAccounts = () => request<{ items: Account[] }>("/admin/accounts").then((r) => r.items ?? []);
export const getAccount = (id: string) => request<AccountDetail>(`/admin/accounts/${encodeURIComponent(id)}`);
export const createAccount = (body: NewAccount) => request<CreatedAccount>("/admin/accounts", { method: "POST", body });
export const deleteAccount = (id: string) => request<void>(`/admin/accounts/${encodeURIComponent(id)}`, { method: "DELETE" });
export const accountAction = (id: string, action: "disable" | "enable" | "reset-usage", reason?: string) =>
  request<Account>(`/admin/accounts/${encodeURIComponent(id)}/${action}`, {
    method: "POST",
    body: action !== "reset-usage" && reason ? { reason } : undefined,
  });

export interface MaintenanceRun {
  name: string;
  workflow_id: string;
  run_id: string;
  ui_url: string;
  status?: string;
  joined?: boolean;
  start_time?: string;
  close_time?: string;
  result?: unknown;
}

/** The optional body of POST /admin/maintenance/{name}; each field belongs to one workflow. */
export interface MaintenanceParams {
  models?: string[];
  min_age_seconds?: number;
  retention_days?: number;
  silent_after_seconds?: number;
}

export const startMaintenance = (name: string, body?: MaintenanceParams) =>
  request<MaintenanceRun>(`/admin/maintenance/${encodeURIComponent(name)}`, { method: "POST", body });
export const listMaintenance = (name?: string, limit = 20) =>
  request<{ items: MaintenanceRun[] }>("/admin/maintenance", { query: { name, limit } }).then((r) => r.items ?? []);

export interface AuditEntry {
  id: number;
  at: string;
  client_ip: string;
  action: string;
  target: string;
  outcome: "success" | "refused" | "failed" | string;
  status: number;
  code: string;
  request_id: string;
  details: Record<string, unknown> | null;
}

export interface AuditPage {
  items: AuditEntry[];
  next_before: number;
  has_more: boolean;
}

export const listAudit = (query: Record<string, string | number | undefined>) => request<AuditPage>("/admin/audit", { query });

export interface Poller {
  identity: string;
  last_access_time?: string;
  rate_per_second: number;
}

export interface LaneAccount {
  id: string;
  label: string;
  stopped: boolean;
}

export interface LaneReport {
  lane: string;
  kind: "dedicated" | "shared" | "unknown" | string;
  models: string[];
  pollers: Poller[];
  pollers_error?: string;
  pending: number;
  processing: number;
  oldest_pending_age_seconds: number;
  depth?: number;
  max_depth?: number;
  accounts: LaneAccount[];
}

export interface QueuesReport {
  lanes: LaneReport[];
  at: string;
}

export const getQueues = () => request<QueuesReport>("/admin/queues");

export interface PendingActivity {
  type: string;
  state: string;
  attempt: number;
  maximum_attempts: number;
  scheduled_time?: string;
  last_started_time?: string;
  last_heartbeat_time?: string;
  heartbeat?: { stage?: string; step?: number; total?: number; progress?: number };
  last_failure?: { code: string; message: string };
  last_worker_identity?: string;
}

export interface WhyAnswer {
  task_id: string;
  status: string;
  model: string;
  lane: string;
  lane_mode: string;
  workflow_id: string;
  workflow_status: string;
  ui_url: string;
  lane_has_worker?: boolean;
  pollers: Poller[];
  pending_ahead: number;
  accounts: { id: string; label: string; status: string; status_reason: string; stopped: boolean }[];
  activity?: PendingActivity;
  fallback_at?: string;
  give_up_at?: string;
  explanation: string;
}

export const whyTask = (id: string) => request<WhyAnswer>(`/admin/tasks/${encodeURIComponent(id)}/why`);

export interface HealthCheck {
  status: string;
  latency_ms: number;
}

export interface HealthReport {
  status: "ok" | "degraded" | string;
  storage: { postgres: HealthCheck; artifacts: HealthCheck };
  temporal: { frontend: HealthCheck; namespace: HealthCheck; name: string };
  accounts: { status: string; total: number; by_status: Record<string, number> };
  lanes: { lane: string; kind: string; status: string; pollers: number; pending: number; processing: number; accounts: number }[];
  lanes_status: string;
  problems: string[];
  at: string;
}

export const getHealth = () => request<HealthReport>("/admin/health");
