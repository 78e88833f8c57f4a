// Watching a task: GET /tasks/{id}/events (Server-Sent Events over the session cookie), and
// GET /status/{id} every second while the stream cannot go on. The task id is not a secret: it is kept
// in the hash (#/?task=<id>) and in localStorage so a reload resumes watching.
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, request, type Envelope } from "../api/client";
import { mayHaveExpired } from "../api/signedUrls";

/** The GET /status answer (and each status event's data). */
export interface TaskStatus {
  task_id: string;
  status: "pending" | "processing" | "done" | "failed" | "cancelled" | string;
  progress: number;
  stage: string;
  stage_detail: string;
  lane_mode?: string;
  error_code?: string;
  error_msg?: string;
  result_url: string;
  preview_url: string;
  model?: string;
  type?: string;
  mode?: string;
  width?: number;
  height?: number;
  seed?: number;
  attempt?: number;
  metadata?: {
    attempt?: number;
    last_error?: { code: string; message: string } | null;
    fallback_reason?: string;
  };
}

export const TERMINAL = new Set(["done", "failed", "cancelled"]);

/** While polling, the stream is tried again after this many polls (about 15 s). */
const STREAM_RETRY_POLLS = 15;

const taskKey = "gooni.studio.task";
const uuidRe = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The task to watch on load: #/?task=<id>, else the last one kept in localStorage. */
export function initialTaskId(): string | null {
  const h = window.location.hash.replace(/^#/, "");
  const i = h.indexOf("?");
  const fromHash = new URLSearchParams(i >= 0 ? h.slice(i + 1) : "").get("task");
  if (fromHash && uuidRe.test(fromHash)) return fromHash;
  const saved = localStorage.getItem(taskKey);
  return saved && uuidRe.test(saved) ? saved : null;
}

/** Remembers the watched task (or forgets it) in the hash and localStorage. */
export function rememberTask(id: string | null): void {
  if (id) localStorage.setItem(taskKey, id);
  else localStorage.removeItem(taskKey);
  const url = window.location.pathname + window.location.search + (id ? `#/?task=${id}` : "#/");
  window.history.replaceState(window.history.state, "", url);
}

/** GET /status/{id}: the task's status now. */
function readStatus(id: string): Promise<TaskStatus> {
  return request<TaskStatus>(`/status/${id}`);
}

/** A submission whose answer never came (or was worth retrying): its body and Idempotency-Key. */
export interface PendingAttempt {
  body: string;
  key: string;
}

const attemptKey = "gooni.studio.attempt";

/** The pending submission kept for this tab, so a retry after a reload or a visit to the gallery
 * reuses its Idempotency-Key and the server runs it once. */
export function loadAttempt(): PendingAttempt | null {
  try {
    const a = JSON.parse(sessionStorage.getItem(attemptKey) ?? "null") as Partial<PendingAttempt> | null;
    return a && typeof a.body === "string" && typeof a.key === "string" ? { body: a.body, key: a.key } : null;
  } catch {
    return null;
  }
}

/** Keeps (or forgets, with null) the pending submission for this tab. */
export function saveAttempt(a: PendingAttempt | null): void {
  if (a) sessionStorage.setItem(attemptKey, JSON.stringify(a));
  else sessionStorage.removeItem(attemptKey);
}

/** A fresh Idempotency-Key: crypto.randomUUID where the page is a secure context, else v4 from getRandomValues. */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export interface TaskWatch {
  status: TaskStatus | null;
  /** The last problem reading the task (cleared by the next good read). */
  error: unknown;
  /** How updates arrive now. */
  via: "stream" | "poll";
  /** Set after a cancel was accepted, until the task ends. */
  cancelling: boolean;
  cancel: () => Promise<void>;
  /** The result failed to load: reads the status again when its signed URLs may have expired. */
  mediaFailed: () => void;
}

/** Watches task id: the stream first, polling while it cannot go on (trying the stream again
 * every STREAM_RETRY_POLLS polls), until the task ends. */
export function useTaskWatch(id: string | null): TaskWatch {
  const [status, setStatus] = useState<TaskStatus | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [via, setVia] = useState<"stream" | "poll">("stream");
  const [cancelling, setCancelling] = useState(false);
  const idRef = useRef(id);
  idRef.current = id;
  const receivedAt = useRef(0); // when the shown status (and its signed URLs) arrived

  useEffect(() => {
    setStatus(null);
    setError(null);
    setCancelling(false);
    setVia("stream");
    if (!id) return;
    let stopped = false;
    let ended = false;
    let es: EventSource | null = null;
    let drops = 0; // connection losses since the last status event
    let polling = false;
    let pollRun = 0; // one polling loop at a time: a loop from before the stream came back ends
    let pollsSinceStream = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const apply = (st: TaskStatus) => {
      if (stopped || st.task_id !== id) return;
      // A status read before a confirmed cancel (or any end) arriving after it changes nothing.
      setStatus((prev) => (prev && prev.task_id === st.task_id && TERMINAL.has(prev.status) && !TERMINAL.has(st.status) ? prev : st));
      receivedAt.current = Date.now();
      setError(null);
      if (TERMINAL.has(st.status)) {
        ended = true;
        setCancelling(false);
        es?.close(); // the server closes too; closing first stops EventSource reconnecting
        es = null;
        clearTimeout(timer);
      }
    };
    const poll = async (run: number) => {
      const current = () => !stopped && !ended && polling && run === pollRun;
      if (!current()) return;
      try {
        apply(await readStatus(id));
      } catch (e) {
        if (stopped) return;
        setError(e);
        if (e instanceof ApiError && e.code === "task_not_found") return; // nothing more to watch
      }
      if (!current()) return;
      // Every so often the stream is tried again; its first status event ends the polling.
      if (++pollsSinceStream >= STREAM_RETRY_POLLS && !es && typeof EventSource !== "undefined") {
        pollsSinceStream = 0;
        openStream();
      }
      timer = setTimeout(() => void poll(run), 1000);
    };
    const fallBack = () => {
      if (stopped || ended || polling) return;
      polling = true;
      pollsSinceStream = 0;
      setVia("poll");
      void poll(++pollRun);
    };
    const openStream = () => {
      const s = new EventSource(`/tasks/${id}/events`, { withCredentials: true });
      es = s;
      drops = 0;
      s.addEventListener("status", (ev) => {
        if (es !== s) return;
        drops = 0;
        if (polling) {
          polling = false;
          clearTimeout(timer);
          setVia("stream");
        }
        try {
          apply(JSON.parse((ev as MessageEvent<string>).data) as TaskStatus);
        } catch {
          /* a malformed event: the next one or polling corrects it */
        }
      });
      s.addEventListener("error", (ev) => {
        if (es !== s) return;
        // Either the server's "error" event (an envelope: the task is gone), or the connection
        // ending. The server ends every stream after a few minutes and EventSource resumes it by
        // itself (readyState CONNECTING; each resumed stream starts with a status event), so
        // that is left alone. Polling starts when the browser gave up (CLOSED: an answer that
        // is not a stream, e.g. the session ended) or the stream keeps failing to come back.
        const data = (ev as MessageEvent<string>).data;
        if (typeof data === "string" && data) {
          try {
            setError(new ApiError(404, JSON.parse(data) as Envelope));
          } catch {
            /* not an envelope */
          }
        } else if (s.readyState !== EventSource.CLOSED && ++drops < 3) {
          return;
        }
        s.close();
        es = null;
        fallBack();
      });
    };

    if (typeof EventSource === "undefined") fallBack();
    else openStream();
    return () => {
      stopped = true;
      es?.close();
      clearTimeout(timer);
    };
  }, [id]);

  const cancel = useCallback(async () => {
    const current = idRef.current;
    if (!current) return;
    try {
      const r = await request<{ task_id: string; status: string }>(`/tasks/${current}/cancel`, { method: "POST" });
      if (idRef.current !== current) return;
      if (r.status === "cancelled") setStatus((s) => (s ? { ...s, status: "cancelled" } : s));
      else setCancelling(true);
    } catch (e) {
      if (idRef.current !== current) return;
      // task_already_finished: the stream brings the final state; anything else is shown.
      if (!(e instanceof ApiError && e.code === "task_already_finished")) setError(e);
    }
  }, []);

  const mediaFailed = useCallback(() => {
    const current = idRef.current;
    if (!current || !mayHaveExpired(receivedAt.current)) return;
    receivedAt.current = 0; // one read at a time
    readStatus(current)
      .then((st) => {
        if (idRef.current !== current || st.task_id !== current) return;
        receivedAt.current = Date.now();
        setStatus(st);
      })
      .catch((e) => idRef.current === current && setError(e));
  }, []);

  return { status, error, via, cancelling, cancel, mediaFailed };
}
