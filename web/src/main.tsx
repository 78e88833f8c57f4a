// Entry point: "/admin" serves the admin pages, every other page path the studio.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { AdminApp } from "./admin/AdminApp";
import { I18nProvider } from "./i18n/i18n";
import { StudioApp } from "./studio/StudioApp";
import "./styles.css";

const isAdmin = window.location.pathname === "/admin" || window.location.pathname.startsWith("/admin/");

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <I18nProvider>{isAdmin ? <AdminApp /> : <StudioApp />}</I18nProvider>
  </StrictMode>,
);
