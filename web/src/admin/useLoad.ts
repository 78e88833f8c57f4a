// Loads data for a page: the value, the error (an ApiError with the envelope) and a reload.
// A newer load wins over an older one still in flight, and nothing is set after unmount.
import { useCallback, useEffect, useRef, useState } from "react";
import { isSessionError, onSessionRenewed } from "../api/client";

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  /** Replaces the data in place (after a change the API answered with the new value). */
  setData: (fn: (d: T | undefined) => T | undefined) => void;
}

/**
 * refreshMs reloads while the tab is visible: a number, or a function of the data (e.g. fast
 * while a run is in flight, slow otherwise). Every admin read is one audit row and counts
 * against the admin read rate (60 a minute per IP by default), so pages refresh sparingly, and
 * not at all while the admin session is gone (requests without one count too).
 */
export function useLoad<T>(
  load: () => Promise<T>,
  deps: unknown[],
  opts: { refreshMs?: number | ((data: T | undefined) => number | undefined) } = {},
): Loaded<T> {
  const [data, setDataState] = useState<T>();
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  // The caller names what load depends on, like a useEffect.
  const run = useCallback(load, deps);

  useEffect(() => {
    const n = ++seq.current;
    setLoading(true);
    run()
      .then((d) => {
        if (n !== seq.current) return;
        setDataState(d);
        setError(null);
      })
      .catch((e) => n === seq.current && setError(e))
      .finally(() => n === seq.current && setLoading(false));
  }, [run, tick]);

  // No timed refresh while the admin session is gone: refused reads are audited and rate
  // limited too. Entering the key again loads once at once, and the timer starts again.
  const sessionLost = isSessionError(error);
  const refreshMs = sessionLost ? undefined : typeof opts.refreshMs === "function" ? opts.refreshMs(data) : opts.refreshMs;
  const lostRef = useRef(sessionLost);
  lostRef.current = sessionLost;
  useEffect(() => onSessionRenewed(() => lostRef.current && setTick((t) => t + 1)), []);
  useEffect(() => {
    if (!refreshMs) return;
    const id = window.setInterval(() => {
      if (document.visibilityState === "visible") setTick((t) => t + 1);
    }, refreshMs);
    return () => window.clearInterval(id);
  }, [refreshMs]);

  useEffect(() => () => void (seq.current = -1), []);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  const setData = useCallback((fn: (d: T | undefined) => T | undefined) => setDataState(fn), []);
  return { data, error, loading, reload, setData };
}
