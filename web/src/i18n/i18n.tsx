// English and Russian for every string the pages show. The language is the user's choice
// (persisted in localStorage under "gooni.lang" — a preference, never a secret), defaulting to
// the browser's language. Catalogue texts (model names, labels, help) come from the settings
// file as written there.
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import { en, type Messages } from "./en";
import { ru } from "./ru";

export type Lang = "en" | "ru";
export const LANGS: Lang[] = ["en", "ru"];
const dictionaries: Record<Lang, Messages> = { en, ru };
const storageKey = "gooni.lang";

/** Returns the message for key in lang with {name} placeholders filled from vars. */
export function translate(lang: Lang, key: keyof Messages, vars?: Record<string, string | number>): string {
  let s: string = dictionaries[lang][key] ?? en[key] ?? String(key);
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
  return s;
}

function initialLang(): Lang {
  const saved = typeof localStorage !== "undefined" ? localStorage.getItem(storageKey) : null;
  if (saved === "en" || saved === "ru") return saved;
  const nav = typeof navigator !== "undefined" ? navigator.language : "en";
  return nav.toLowerCase().startsWith("ru") ? "ru" : "en";
}

interface I18n {
  lang: Lang;
  setLang: (l: Lang) => void;
  t: (key: keyof Messages, vars?: Record<string, string | number>) => string;
}

const I18nContext = createContext<I18n>({ lang: "en", setLang: () => {}, t: (k, v) => translate("en", k, v) });

/** Provides the chosen language and t() to the tree. */
export function I18nProvider({ children, lang: fixed }: { children: ReactNode; lang?: Lang }) {
  const [lang, setLangState] = useState<Lang>(fixed ?? initialLang());
  const setLang = useCallback((l: Lang) => {
    setLangState(l);
    localStorage.setItem(storageKey, l);
    document.documentElement.lang = l;
  }, []);
  const value = useMemo<I18n>(() => ({ lang, setLang, t: (k, v) => translate(lang, k, v) }), [lang, setLang]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

/** The current language, its setter and t(). */
export function useI18n(): I18n {
  return useContext(I18nContext);
}
