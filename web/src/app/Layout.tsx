// The page frame: title, navigation, language and theme switches, sign-out.
import type { ReactNode } from "react";
import { LANGS, useI18n, type Lang } from "../i18n/i18n";
import { useTheme } from "./theme";
import type { Messages } from "../i18n/en";

export interface NavItem {
  route: string;
  label: keyof Messages;
}

/** Frames a page with a header holding nav (hash routes), language, theme and sign-out. */
export function Layout(props: {
  title: keyof Messages;
  nav: NavItem[];
  route: string;
  onSignOut?: () => void;
  children: ReactNode;
}) {
  const { t, lang, setLang } = useI18n();
  const [theme, toggleTheme] = useTheme();
  return (
    <div className="app">
      <header className="topbar">
        <h1 className="brand">{t(props.title)}</h1>
        <nav aria-label={t("nav.label")}>
          {props.nav.map((n) => (
            <a key={n.route} href={"#" + n.route} aria-current={props.route === n.route ? "page" : undefined} data-testid={"nav-" + n.route.replace(/\//g, "") }>
              {t(n.label)}
            </a>
          ))}
        </nav>
        <div className="toolbar">
          <label className="inline">
            <span className="sr-only">{t("lang.label")}</span>
            <select value={lang} onChange={(e) => setLang(e.target.value as Lang)} data-testid="lang">
              {LANGS.map((l) => (
                <option key={l} value={l}>
                  {l === "en" ? "English" : "Русский"}
                </option>
              ))}
            </select>
          </label>
          <button type="button" onClick={toggleTheme} title={t("theme.toggle")} data-testid="theme">
            {theme === "dark" ? t("theme.light") : t("theme.dark")}
          </button>
          {props.onSignOut && (
            <button type="button" onClick={props.onSignOut} data-testid="sign-out">
              {t("nav.logout")}
            </button>
          )}
        </div>
      </header>
      <main>{props.children}</main>
    </div>
  );
}
