// The admin pages (hash routes under /admin), rendered inside the admin layout. Each page is
// its own file; this one only routes.
import { useEffect } from "react";
import type { NavItem } from "../app/Layout";
import { AccountsPage } from "./AccountsPage";
import { AuditPage } from "./AuditPage";
import { HealthPage } from "./HealthPage";
import { MaintenancePage } from "./MaintenancePage";
import { QueuesPage } from "./QueuesPage";
import "./admin.css";

/** The admin navigation (hash routes). */
export const adminNav: NavItem[] = [
  { route: "/accounts", label: "admin.nav.accounts" },
  { route: "/maintenance", label: "admin.nav.maintenance" },
  { route: "/audit", label: "admin.nav.audit" },
  { route: "/queues", label: "admin.nav.queues" },
  { route: "/health", label: "admin.nav.health" },
];

export function AdminPages({ route }: { route: string }) {
  // "/admin" opens the accounts; replace() so Back does not return to the bare page.
  useEffect(() => {
    if (!adminNav.some((n) => n.route === route)) window.location.replace("#/accounts");
  }, [route]);
  switch (route) {
    case "/maintenance":
      return <MaintenancePage />;
    case "/audit":
      return <AuditPage />;
    case "/queues":
      return <QueuesPage />;
    case "/health":
      return <HealthPage />;
    default:
      // "/" and any unknown route: the accounts, the admins' home.
      return <AccountsPage />;
  }
}
