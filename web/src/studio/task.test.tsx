// useTaskWatch against a fake EventSource and a fake GET /status: the stream the server ends every
// few minutes (or that drops once) is resumed by EventSource itself, polling starts only when the
// stream cannot go on, and nothing stays open after the task ends, changes or the page leaves.
import { act, cleanup, render } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { loadAttempt, saveAttempt, useTaskWatch, type TaskWatch } from "./task";

const ID = "00000000-0000-4000-8000-000000000001";

class FakeEventSource {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 2;
  static all: FakeEventSource[] = [];
  readyState = FakeEventSource.CONNECTING;
  closed = false;
  private listeners = new Map<string, ((ev: Event) => void)[]>();
  constructor(readonly url: string) {
    FakeEventSource.all.push(this);
  }
  addEventListener(type: string, fn: (ev: Event) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  close() {
    this.closed = true;
    this.readyState = FakeEventSource.CLOSED;
  }
  emit(type: string, data?: unknown) {
    const ev = data === undefined ? new Event(type) : new MessageEvent(type, { data: JSON.stringify(data) });
    this.listeners.get(type)?.forEach((fn) => fn(ev));
  }
  status(progress: number, status = "processing") {
    this.readyState = FakeEventSource.OPEN;
    this.emit("status", { task_id: ID, status, progress, stage: "", stage_detail: "", result_url: "", preview_url: "" });
  }
  /** The connection ended: the browser reconnects by itself (CONNECTING) or gave up (CLOSED). */
  drop(gaveUp: boolean) {
    this.readyState = gaveUp ? FakeEventSource.CLOSED : FakeEventSource.CONNECTING;
    this.emit("error");
  }
}

let polls: number;
let cancelAnswer: string | null;
let watch: TaskWatch;
function Probe({ id }: { id: string | null }) {
  watch = useTaskWatch(id);
  return null;
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeEventSource.all = [];
  polls = 0;
  cancelAnswer = null;
  vi.stubGlobal("EventSource", FakeEventSource);
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string) => {
      if (url.endsWith("/cancel") && cancelAnswer) return new Response(JSON.stringify({ task_id: ID, status: cancelAnswer }), { status: 202 });
      polls++;
      return new Response(JSON.stringify({ task_id: ID, status: "processing", progress: 50, stage: "", stage_detail: "", result_url: "", preview_url: "" }), {
        status: 200,
      });
    }),
  );
});

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

const tick = (ms: number) => act(async () => void (await vi.advanceTimersByTimeAsync(ms)));

describe("useTaskWatch", () => {
  it("lets EventSource resume a stream the server ended (its 5-minute limit) instead of polling", async () => {
    render(<Probe id={ID} />);
    const es = FakeEventSource.all.at(-1)!;
    act(() => es.status(10));
    act(() => es.drop(false));
    await tick(5000);
    expect(es.closed).toBe(false);
    expect(watch.via).toBe("stream");
    expect(polls).toBe(0);
    act(() => es.status(20));
    expect(watch.status?.progress).toBe(20);
  });

  it("polls once EventSource gives up, or the stream keeps failing to come back", async () => {
    const { unmount } = render(<Probe id={ID} />);
    let es = FakeEventSource.all.at(-1)!;
    act(() => es.drop(true));
    await tick(10);
    expect(es.closed).toBe(true);
    expect(watch.via).toBe("poll");
    expect(polls).toBeGreaterThan(0);
    unmount();
    const after = polls;
    await tick(5000);
    expect(polls).toBe(after);

    polls = 0;
    render(<Probe id={ID} />);
    es = FakeEventSource.all.at(-1)!;
    for (let i = 0; i < 3; i++) act(() => es.drop(false));
    await tick(10);
    expect(es.closed).toBe(true);
    expect(watch.via).toBe("poll");
    expect(polls).toBeGreaterThan(0);
  });

  it("closes the stream when the task ends, when another task is watched, and on unmount", async () => {
    const { rerender, unmount } = render(<Probe id={ID} />);
    const first = FakeEventSource.all.at(-1)!;
    act(() => first.status(100, "done"));
    expect(first.closed).toBe(true);
    rerender(<Probe id="00000000-0000-4000-8000-000000000002" />);
    const second = FakeEventSource.all.at(-1)!;
    expect(second).not.toBe(first);
    rerender(<Probe id={null} />);
    expect(second.closed).toBe(true);
    rerender(<Probe id={ID} />);
    unmount();
    expect(FakeEventSource.all.every((es) => es.closed)).toBe(true);
    await tick(3000);
    expect(polls).toBe(0);
  });

  it("goes back to the stream from polling once it can be opened again", async () => {
    render(<Probe id={ID} />);
    const first = FakeEventSource.all.at(-1)!;
    act(() => first.drop(true));
    await tick(10);
    expect(watch.via).toBe("poll");
    expect(FakeEventSource.all).toHaveLength(1);

    // About 15 s of polling later the stream is tried again; until it says something, polling goes on.
    await tick(15_000);
    expect(FakeEventSource.all).toHaveLength(2);
    const second = FakeEventSource.all.at(-1)!;
    expect(second.closed).toBe(false);
    expect(watch.via).toBe("poll");

    // Its first status event ends the polling.
    act(() => second.status(70));
    expect(watch.via).toBe("stream");
    expect(watch.status?.progress).toBe(70);
    const after = polls;
    await tick(5000);
    expect(polls).toBe(after);

    // A retried stream that fails again falls back to polling, and the cycle repeats.
    act(() => second.drop(true));
    await tick(10);
    expect(watch.via).toBe("poll");
    expect(polls).toBeGreaterThan(after);
  });

  it("a status read before a confirmed cancel does not bring the task back to processing", async () => {
    cancelAnswer = "cancelled";
    render(<Probe id={ID} />);
    const es = FakeEventSource.all.at(-1)!;
    act(() => es.status(40));
    await act(async () => {
      await watch.cancel();
    });
    expect(watch.status?.status).toBe("cancelled");
    act(() => es.status(45)); // sent by the server before it saw the cancel
    expect(watch.status?.status).toBe("cancelled");
    expect(watch.status?.progress).toBe(40);
    act(() => es.status(45, "cancelled"));
    expect(es.closed).toBe(true);
  });

  it("keeps the pending submission for this tab only, and forgets it on request", () => {
    saveAttempt({ body: '{"prompt":"a"}', key: "k-1" });
    expect(loadAttempt()).toEqual({ body: '{"prompt":"a"}', key: "k-1" });
    expect(localStorage.getItem("gooni.studio.attempt")).toBeNull();
    saveAttempt(null);
    expect(loadAttempt()).toBeNull();
    sessionStorage.setItem("gooni.studio.attempt", "{not json");
    expect(loadAttempt()).toBeNull();
    sessionStorage.removeItem("gooni.studio.attempt");
  });

  it("reads the status again when the result fails to load and its URLs may have expired", async () => {
    render(<Probe id={ID} />);
    const es = FakeEventSource.all.at(-1)!;
    act(() => es.status(100, "done"));
    // Right after the status came: a missing result, not an expired URL; nothing is read.
    watch.mediaFailed();
    await tick(10);
    expect(polls).toBe(0);
    // Two hours later the signed URL may be dead: one read of GET /status brings fresh ones.
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => {
        polls++;
        return new Response(JSON.stringify({ task_id: ID, status: "done", progress: 100, stage: "", stage_detail: "", result_url: "/results/x?sig=fresh", preview_url: "" }), {
          status: 200,
        });
      }),
    );
    await tick(2 * 3_600_000);
    act(() => watch.mediaFailed());
    act(() => watch.mediaFailed()); // the second error of the same load waits for the first read
    await tick(10);
    expect(polls).toBe(1);
    expect(watch.status?.result_url).toBe("/results/x?sig=fresh");
  });
});
