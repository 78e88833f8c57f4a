// The admin pages (hash routes under /admin), rendered inside the admin layout.
import type { NavItem } from "../app/Layout";

/** The admin navigation (hash routes). */
export const adminNav: NavItem[] = [];

export function AdminPages({ route }: { route: string }) {
  return <p>admin {route}</p>;
}
