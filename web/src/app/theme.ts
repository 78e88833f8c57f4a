// Dark and light themes: CSS variables keyed by <html data-theme>, defaulting to the system's
// preference; the user's choice is a preference kept in localStorage ("gooni.theme").
import { useCallback, useEffect, useState } from "react";

export type Theme = "dark" | "light";
const storageKey = "gooni.theme";

function initialTheme(): Theme {
  const saved = localStorage.getItem(storageKey);
  if (saved === "dark" || saved === "light") return saved;
  return window.matchMedia?.("(prefers-color-scheme: light)").matches ? "light" : "dark";
}

/** The current theme and a toggle; applies it to the document. */
export function useTheme(): [Theme, () => void] {
  const [theme, setTheme] = useState<Theme>(initialTheme);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  const toggle = useCallback(() => {
    setTheme((t) => {
      const next = t === "dark" ? "light" : "dark";
      localStorage.setItem(storageKey, next);
      return next;
    });
  }, []);
  return [theme, toggle];
}
