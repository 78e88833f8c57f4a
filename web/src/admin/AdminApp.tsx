// The admins' app at "/admin", behind the admin session.
import { Layout } from "../app/Layout";
import { SessionGate, adminSession } from "../app/SessionGate";
import { useRoute } from "../app/router";
import { AdminPages, adminNav } from "./AdminPages";

/** The admin pages. */
export function AdminApp() {
  const { route } = useRoute();
  return (
    <SessionGate kind={adminSession}>
      {(signOut) => (
        <Layout title="app.admin" route={route} onSignOut={signOut} nav={adminNav}>
          <AdminPages route={route} />
        </Layout>
      )}
    </SessionGate>
  );
}
