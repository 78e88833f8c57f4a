// The one HTTP client of the studio and admin pages. It talks only to the public and admin APIs
// of the process that served the page (same origin), authenticates with the httpOnly session
// cookie the API set (never a key kept in the page), and turns every error answer into an
// ApiError carrying the API's envelope {code, detail, user_action, metadata}.

/** The error envelope every Gooni route answers with. */
export interface Envelope {
  code: string;
  detail: string;
  user_action: string;
  metadata?: Record<string, unknown>;
}

/** An answer that was not 2xx, or a request that never got one (code "network_error"). */
export class ApiError extends Error {
  readonly status: number;
  readonly envelope: Envelope;

  constructor(status: number, envelope: Envelope) {
    super(`${envelope.code}: ${envelope.detail}`);
    this.name = "ApiError";
    this.status = status;
    this.envelope = envelope;
  }

  get code(): string {
    return this.envelope.code;
  }
}

/** Session problems that mean "ask for the key again" (public) or "admin key again" (admin). */
export const SESSION_CODES = new Set([
  "session_missing",
  "session_expired",
  "session_revoked",
  "session_invalid",
  "invalid_api_key",
  "admin_session_missing",
  "admin_session_expired",
  "admin_session_invalid",
]);

/** True when err means the browser session is gone and the key must be entered again. */
export function isSessionError(err: unknown): boolean {
  return err instanceof ApiError && (SESSION_CODES.has(err.code) || err.status === 401);
}

type Listener = (err: ApiError) => void;
const sessionListeners = new Set<Listener>();

/** Registers a callback run whenever a request fails because the session is gone. */
export function onSessionLost(fn: Listener): () => void {
  sessionListeners.add(fn);
  return () => sessionListeners.delete(fn);
}

const renewedListeners = new Set<() => void>();

/** Registers a callback run when a lost session was renewed (the key was entered again). */
export function onSessionRenewed(fn: () => void): () => void {
  renewedListeners.add(fn);
  return () => renewedListeners.delete(fn);
}

/** Tells the page that the lost session is back (SessionGate calls it): paused pages load again. */
export function sessionRenewed(): void {
  renewedListeners.forEach((fn) => fn());
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Query parameters; undefined and "" values are left out. */
  query?: Record<string, string | number | boolean | undefined>;
}

/** Sends one request to the API and decodes its JSON answer (undefined for 204). */
export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(opts.query ?? {})) {
    if (v !== undefined && v !== "") url.searchParams.set(k, String(v));
  }
  const headers: Record<string, string> = { Accept: "application/json", ...opts.headers };
  let body: BodyInit | undefined;
  if (opts.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(url.pathname + url.search, {
      method: opts.method ?? "GET",
      headers,
      body,
      credentials: "same-origin",
      signal: opts.signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiError(0, {
      code: "network_error",
      detail: "The server could not be reached.",
      user_action: "Check your connection and try again.",
    });
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!res.ok) {
    const env = isEnvelope(data)
      ? data
      : { code: `http_${res.status}`, detail: res.statusText || "Request failed.", user_action: "Try again." };
    const err = new ApiError(res.status, env);
    if (isSessionError(err)) sessionListeners.forEach((fn) => fn(err));
    throw err;
  }
  return data as T;
}

function isEnvelope(v: unknown): v is Envelope {
  return typeof v === "object" && v !== null && typeof (v as Envelope).code === "string";
}
