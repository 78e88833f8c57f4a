import { describe, expect, it } from "vitest";
import {
  accountState,
  auditQuery,
  describeDetails,
  filtersFromParams,
  filtersToParams,
  formatGPUSeconds,
  isoToLocalInput,
  localInputToIso,
  runDuration,
  summarize,
  usageView,
  workerView,
} from "./format";
import type { AccountUsage } from "./api";

const usage = (gpu: number, limit: number, stopped = false): AccountUsage => ({
  gpu_seconds: gpu,
  estimated_cost: 0,
  limit_gpu_seconds: limit,
  fraction: limit > 0 ? gpu / limit : 0,
  stopped,
});

describe("usage", () => {
  it("formats GPU-seconds in a readable unit", () => {
    expect(formatGPUSeconds(0)).toBe("0 s");
    expect(formatGPUSeconds(-3)).toBe("0 s");
    expect(formatGPUSeconds(45.25)).toBe("45.3 s");
    expect(formatGPUSeconds(750)).toBe("12.5 min");
    expect(formatGPUSeconds(3600 * 3.21)).toBe("3.2 h");
    expect(formatGPUSeconds(3600 * 250)).toBe("250 h");
  });

  it("reads no limit as no bar", () => {
    expect(usageView(usage(30, 0))).toEqual({ percent: 0, level: "none", used: "30 s", limit: "" });
    expect(usageView(undefined).level).toBe("none");
  });

  it("colours the bar by the share used, stopping at 90%", () => {
    expect(usageView(usage(360, 3600))).toMatchObject({ percent: 10, level: "ok", used: "6 min", limit: "1 h" });
    expect(usageView(usage(2800, 3600)).level).toBe("warn");
    expect(usageView(usage(3240, 3600)).level).toBe("stop");
    expect(usageView(usage(10, 3600, true)).level).toBe("stop");
  });

  it("keeps the bar within 0..100 when usage passes the limit", () => {
    expect(usageView(usage(7200, 3600)).percent).toBe(100);
  });
});

describe("account state", () => {
  const now = Date.parse("2026-03-01T12:00:00Z");
  it("tells cooling down from failed by the cooldown", () => {
    expect(accountState({ status: "failed", cooldown_until: "2026-03-01T12:05:00Z", usage: usage(0, 0) }, now)).toBe("cooling");
    expect(accountState({ status: "failed", cooldown_until: "2026-03-01T11:55:00Z", usage: usage(0, 0) }, now)).toBe("failed");
    expect(accountState({ status: "failed", usage: usage(0, 0) }, now)).toBe("failed");
  });
  it("shows a ready account at its limit as limit reached", () => {
    expect(accountState({ status: "ready", usage: usage(95, 100, true) }, now)).toBe("limit");
    expect(accountState({ status: "ready", usage: usage(5, 100) }, now)).toBe("ready");
    expect(accountState({ status: "disabled", usage: usage(0, 0) }, now)).toBe("disabled");
    expect(accountState({ status: "weird", usage: usage(0, 0) }, now)).toBe("unknown");
  });
  it("counts a worker connected while heartbeats are fresh", () => {
    const info = { host: "gpu-1", gpu_name: "RTX 4090", gpu_memory_mb: 24564 };
    expect(workerView({ status: "ready", last_seen_at: "2026-03-01T11:59:50Z", worker_info: info }, now)).toMatchObject({
      connected: true,
      describe: "gpu-1 · RTX 4090 (24 GB)",
    });
    expect(workerView({ status: "ready", last_seen_at: "2026-03-01T11:58:00Z", worker_info: info }, now).connected).toBe(false);
    expect(workerView({ status: "disabled", last_seen_at: "2026-03-01T11:59:59Z", worker_info: null }, now)).toMatchObject({
      connected: false,
      describe: "",
    });
  });
});

describe("audit filters", () => {
  it("reads the route's query, dropping what the API would refuse", () => {
    const f = filtersFromParams(new URLSearchParams("action=accounts.create&outcome=bogus&since=2026-01-02T03:04:05Z&until=yesterday"));
    expect(f).toEqual({ action: "accounts.create", outcome: "", since: "2026-01-02T03:04:05Z", until: "" });
  });

  it("round-trips through the route without empty params", () => {
    const f = { action: "accounts.disable", outcome: "refused", since: "", until: "2026-02-01T00:00:00Z" };
    const params = filtersToParams(f);
    expect(params).toEqual({ action: "accounts.disable", outcome: "refused", since: undefined, until: "2026-02-01T00:00:00Z" });
    const qs = new URLSearchParams(Object.entries(params).filter(([, v]) => v) as [string, string][]);
    expect(filtersFromParams(qs)).toEqual(f);
  });

  it("maps to the GET /admin/audit query with limit and cursor", () => {
    const f = { action: " tasks.why ", outcome: "", since: "2026-01-01T00:00:00Z", until: "" };
    expect(auditQuery(f)).toEqual({ action: "tasks.why", outcome: undefined, since: "2026-01-01T00:00:00Z", until: undefined, limit: 50, before: undefined });
    expect(auditQuery(f, 1234, 20)).toMatchObject({ before: 1234, limit: 20 });
    expect(auditQuery(f, 0).before).toBeUndefined();
  });

  it("converts datetime-local values to RFC 3339 UTC and back", () => {
    const iso = localInputToIso("2026-05-06T07:08");
    expect(iso).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00Z$/);
    expect(isoToLocalInput(iso)).toBe("2026-05-06T07:08");
    expect(localInputToIso("")).toBe("");
    expect(isoToLocalInput("not a time")).toBe("");
  });

  it("describes a row's details with the request first", () => {
    expect(describeDetails({ method: "POST", path: "/admin/accounts", label: "a", lanes: ["x"] })).toBe('POST /admin/accounts · label=a · lanes=["x"]');
    expect(describeDetails({ method: "GET", path: "/admin/audit", query: "limit=5" })).toBe("GET /admin/audit?limit=5");
    expect(describeDetails(null)).toBe("");
  });
});

describe("maintenance runs", () => {
  it("measures a run from start to close, or to now", () => {
    expect(runDuration("2026-01-01T00:00:00Z", "2026-01-01T00:00:42Z")).toBe("42 s");
    expect(runDuration("2026-01-01T00:00:00Z", undefined, Date.parse("2026-01-01T00:03:00Z"))).toBe("3 min");
    expect(runDuration(undefined)).toBe("");
  });
  it("summarizes a result by its top-level numbers", () => {
    expect(summarize({ rotated: 2, already_newest: 1, failed: 0 })).toBe("rotated: 2, already_newest: 1, failed: 0");
    expect(summarize({ models: [{}, {}], nested: { a: 1 } })).toBe("models: [2]");
    expect(summarize(null)).toBe("null");
  });
});
