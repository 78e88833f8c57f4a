// The creators' app at "/": the studio (#/) and the gallery (#/gallery), behind the API-key session.
import { Layout } from "../app/Layout";
import { SessionGate, userSession } from "../app/SessionGate";
import { useRoute } from "../app/router";
import { Gallery } from "../gallery/Gallery";
import { Studio } from "./Studio";

/** The studio and gallery pages. */
export function StudioApp() {
  const { route } = useRoute();
  return (
    <SessionGate kind={userSession}>
      {(signOut) => (
        <Layout
          title="app.title"
          route={route}
          onSignOut={signOut}
          nav={[
            { route: "/", label: "nav.studio" },
            { route: "/gallery", label: "nav.gallery" },
          ]}
        >
          {route === "/gallery" ? <Gallery /> : <Studio />}
        </Layout>
      )}
    </SessionGate>
  );
}
