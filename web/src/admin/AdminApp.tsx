// The admins' app at "/admin", behind the admin session.
import { Layout } from "../app/Layout";
import { SessionGate, adminSession } from "../app/SessionGate";
import { useRoute } from "../app/router";

/** The admin pages. */
export function AdminApp() {
  const { route } = useRoute();
  return (
    <SessionGate kind={adminSession}>
      {(signOut) => (
        <Layout title="app.admin" route={route} onSignOut={signOut} nav={[]}>
          <p>admin</p>
        </Layout>
      )}
    </SessionGate>
  );
}
