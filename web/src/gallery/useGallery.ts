// Loads the gallery page the view state names, cancelling a stale request when it changes, and
// lets the page drop a deleted item at once (before the reload that refills the page). A load
// refused for a lost session runs again when the session is renewed, and a page whose media stop
// loading after their signed URLs expired is loaded again for fresh ones.
import { useCallback, useEffect, useRef, useState } from "react";
import { isSessionError, onSessionRenewed } from "../api/client";
import { mayHaveExpired } from "../api/signedUrls";
import { fetchGallery, fetchModels, type GalleryItem, type GalleryPage, type ModelInfo } from "./api";
import { queryToApi, type GalleryQuery } from "./query";

export interface GalleryState {
  data: GalleryPage | null;
  loading: boolean;
  error: unknown;
  reload: () => void;
  /** Removes an item from the shown page and the total, as the server just did. */
  drop: (id: string) => void;
  /** A medium of the page failed to load: reloads the page when its signed URLs may have expired. */
  mediaFailed: () => void;
}

export function useGallery(query: GalleryQuery): GalleryState {
  const key = JSON.stringify(queryToApi(query));
  const [data, setData] = useState<GalleryPage | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [generation, setGeneration] = useState(0);
  // A page that failed because the session was gone loads again once the key is entered again.
  const sessionLost = useRef(false);
  const loadedAt = useRef(0); // when the shown page (and its signed URLs) arrived; 0 while loading
  useEffect(() => onSessionRenewed(() => sessionLost.current && setGeneration((g) => g + 1)), []);

  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    loadedAt.current = 0;
    fetchGallery(JSON.parse(key), ctl.signal)
      .then((page) => {
        sessionLost.current = false;
        loadedAt.current = Date.now();
        setData(page);
        setError(null);
      })
      .catch((err) => {
        if (ctl.signal.aborted) return;
        sessionLost.current = isSessionError(err);
        setError(err);
      })
      .finally(() => {
        if (!ctl.signal.aborted) setLoading(false);
      });
    return () => ctl.abort();
  }, [key, generation]); // the query by its API form; generation forces a reload

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  const drop = useCallback((id: string) => {
    setData((d) => (d ? { ...d, items: d.items.filter((it: GalleryItem) => it.id !== id), total: Math.max(0, d.total - 1) } : d));
  }, []);
  const mediaFailed = useCallback(() => {
    if (mayHaveExpired(loadedAt.current)) reload();
  }, [reload]);
  return { data, loading, error, reload, drop, mediaFailed };
}

/** The catalogue's models for the model filter and display names; [] until loaded or on failure. */
export function useModels(): ModelInfo[] {
  const [models, setModels] = useState<ModelInfo[]>([]);
  useEffect(() => {
    const ctl = new AbortController();
    fetchModels(ctl.signal)
      .then(setModels)
      .catch(() => {
        // Names are a nicety: without them the filter lists the ids the gallery shows.
      });
    return () => ctl.abort();
  }, []);
  return models;
}
