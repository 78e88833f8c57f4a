// SessionGate keeps a page behind a browser session: it asks once for a key, exchanges it for
// the httpOnly session cookie (POST {path} with the key in a header) and forgets it. When any
// request later fails because the session is gone, it asks again in a dialog laid over the
// page, so nothing the user typed is lost. A server that gives no answer about the session on
// the first check is shown as such, with a retry, not as a key form.
import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from "react";
import { ApiError, onSessionLost, request, sessionRenewed } from "../api/client";
import { useI18n } from "../i18n/i18n";
import type { Messages } from "../i18n/en";
import { ErrorBox } from "./ErrorBox";

/** Where a kind of session lives: the API path and the header the key travels in. */
export interface SessionKind {
  path: string;
  header: string;
  title: keyof Messages;
  keyLabel: keyof Messages;
}

export const userSession: SessionKind = { path: "/auth/session", header: "X-API-Key", title: "auth.title", keyLabel: "auth.key" };
export const adminSession: SessionKind = { path: "/admin/session", header: "X-Admin-Key", title: "admin.auth.title", keyLabel: "admin.auth.key" };

type State = "checking" | "signed-out" | "signed-in" | "lost" | "unreachable";

/** Renders children once a session exists; children stay mounted while a lost session is renewed. */
export function SessionGate({ kind, children }: { kind: SessionKind; children: (signOut: () => void) => ReactNode }) {
  const [state, setState] = useState<State>("checking");
  // Why the first check got no answer about the session (server down, 5xx): shown with a retry
  // instead of a key form that could only fail the same way.
  const [checkError, setCheckError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let live = true;
    request(kind.path)
      .then(() => live && setState("signed-in"))
      .catch((err) => {
        if (!live) return;
        if (!unanswered(err)) {
          setState("signed-out");
          return;
        }
        setCheckError(err);
        setState("unreachable");
      });
    return () => {
      live = false;
    };
  }, [kind.path, attempt]);
  // The last element focused in the page: focus goes back there once the key is entered again
  // (the element focused when the session went may have been blurred already, e.g. a submit
  // button disabled while its request ran).
  const lastFocus = useRef<HTMLElement | null>(null);
  const wasLost = useRef(false);
  useEffect(() => onSessionLost(() => setState((s) => (s === "signed-in" ? "lost" : s))), []);
  useEffect(() => {
    if (state === "lost") wasLost.current = true;
    if (state !== "signed-in" || !wasLost.current) return;
    wasLost.current = false;
    if (lastFocus.current?.isConnected) lastFocus.current.focus();
  }, [state]);
  const lostTitle = useId();

  const signOut = () => {
    // Signed out either way: a server that cannot be reached must not leave a rejected promise.
    request(kind.path, { method: "DELETE" })
      .catch(() => undefined)
      .finally(() => setState("signed-out"));
  };

  if (state === "checking") return <Centered><KeySpinner /></Centered>;
  if (state === "unreachable")
    return (
      <Centered>
        <Unreachable
          error={checkError}
          onRetry={() => {
            setState("checking");
            setAttempt((a) => a + 1);
          }}
        />
      </Centered>
    );
  if (state === "signed-out")
    return (
      <Centered>
        <KeyForm kind={kind} onDone={() => setState("signed-in")} />
      </Centered>
    );
  return (
    <>
      {/* While the key is asked again the page stays mounted (nothing typed is lost) but inert:
          Tab and clicks cannot reach it behind the dialog. */}
      <div className="session-page" inert={state === "lost"} onFocus={(e) => (lastFocus.current = e.target instanceof HTMLElement ? e.target : null)}>
        {children(signOut)}
      </div>
      {state === "lost" && (
        <div className="modal-backdrop">
          <div className="modal" role="dialog" aria-modal="true" aria-labelledby={lostTitle}>
            <KeyForm
              kind={kind}
              expired
              titleId={lostTitle}
              onDone={() => {
                setState("signed-in");
                sessionRenewed();
              }}
            />
          </div>
        </div>
      )}
    </>
  );
}

function Centered({ children }: { children: ReactNode }) {
  return <div className="centered">{children}</div>;
}

/** True when the server gave no answer about the session: no connection, or a 5xx. */
function unanswered(err: unknown): boolean {
  return !(err instanceof ApiError) || err.status === 0 || err.status >= 500;
}

function Unreachable({ error, onRetry }: { error: unknown; onRetry: () => void }) {
  const { t } = useI18n();
  const retry = useRef<HTMLButtonElement>(null);
  useEffect(() => retry.current?.focus(), []);
  return (
    <div className="card key-form" data-testid="session-unreachable">
      <ErrorBox error={error} />
      <button ref={retry} type="button" className="primary" onClick={onRetry} data-testid="session-retry">
        {t("common.retry")}
      </button>
    </div>
  );
}

function KeySpinner() {
  const { t } = useI18n();
  return <p className="muted">{t("common.loading")}</p>;
}

function KeyForm({ kind, expired, titleId, onDone }: { kind: SessionKind; expired?: boolean; titleId?: string; onDone: () => void }) {
  const { t } = useI18n();
  const input = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => input.current?.focus(), []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const key = input.current?.value.trim() ?? "";
    if (!key) return;
    setBusy(true);
    setError(null);
    try {
      await request(kind.path, { method: "POST", headers: { [kind.header]: key } });
      if (input.current) input.current.value = ""; // the key leaves the page with the request
      onDone();
    } catch (err) {
      setError(err instanceof ApiError ? err : new Error(String(err)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card key-form" onSubmit={submit} data-testid="key-form">
      <h2 id={titleId}>{t(kind.title)}</h2>
      {expired ? <p className="warning">{t("auth.expired")}</p> : <p className="muted">{t("auth.help")}</p>}
      <label>
        {t(kind.keyLabel)}
        <input ref={input} type="password" name="key" autoComplete="off" spellCheck={false} required data-testid="key-input" />
      </label>
      <ErrorBox error={error} />
      <button type="submit" className="primary" disabled={busy} data-testid="key-submit">
        {t("auth.submit")}
      </button>
    </form>
  );
}
