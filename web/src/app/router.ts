// Hash routing (#/gallery, #/accounts…): the page path stays "/" or "/admin", so client routes
// never collide with API routes (GET /admin/accounts is the API) and a reload keeps the view.
import { useEffect, useState } from "react";

/** The route part of location.hash: "#/gallery?page=2" → "/gallery". */
export function currentRoute(): string {
  const h = window.location.hash.replace(/^#/, "");
  const path = h.split("?")[0];
  return path === "" ? "/" : path;
}

/** The query part of location.hash as URLSearchParams. */
export function routeParams(): URLSearchParams {
  const h = window.location.hash.replace(/^#/, "");
  const i = h.indexOf("?");
  return new URLSearchParams(i >= 0 ? h.slice(i + 1) : "");
}

/** Navigates to route (with optional query) by setting the hash. */
export function navigate(route: string, params?: Record<string, string | number | undefined>): void {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) if (v !== undefined && v !== "") q.set(k, String(v));
  const qs = q.toString();
  window.location.hash = "#" + route + (qs ? "?" + qs : "");
}

/** The current route, re-rendering on hash changes. */
export function useRoute(): { route: string; params: URLSearchParams } {
  const [state, setState] = useState(() => ({ route: currentRoute(), params: routeParams() }));
  useEffect(() => {
    const on = () => setState({ route: currentRoute(), params: routeParams() });
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return state;
}
