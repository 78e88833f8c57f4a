// The gallery's calls to the public API: GET /gallery, DELETE /gallery/{id} and the model
// names from GET /models. Every failure is an ApiError carrying the server's envelope.
import { request } from "../api/client";
import type { ItemType } from "./query";

/** One finished result (GET /gallery items); the URLs are signed and need no key. */
export interface GalleryItem {
  id: string;
  model: string;
  type: ItemType;
  mode: string;
  prompt: string;
  negative_prompt?: string;
  parameters: Record<string, unknown>;
  width: number;
  height: number;
  seed: number;
  created_at: string;
  preview_url: string;
  result_url: string;
}

export interface GalleryPage {
  items: GalleryItem[];
  total: number;
  page: number;
  per_page: number;
  has_more: boolean;
}

/** The part of a GET /models entry the gallery uses. */
export interface ModelInfo {
  id: string;
  name: string;
  type: ItemType;
  /** Mode id → its label from the catalogue ("txt2img" → "Text to Image"). */
  modes: Record<string, string>;
}

/** One page of GET /gallery; query is queryToApi() of the view state. */
export function fetchGallery(query: Record<string, string | number | undefined>, signal?: AbortSignal): Promise<GalleryPage> {
  return request<GalleryPage>("/gallery", { query, signal });
}

export function deleteGalleryItem(id: string): Promise<void> {
  return request<void>("/gallery/" + encodeURIComponent(id), { method: "DELETE" });
}

export async function fetchModels(signal?: AbortSignal): Promise<ModelInfo[]> {
  const models = await request<{ id: string; name?: string; type: ItemType; modes?: { id?: string; label?: string }[] }[]>("/models", { signal });
  return (models ?? []).map((m) => ({
    id: m.id,
    name: m.name || m.id,
    type: m.type,
    modes: Object.fromEntries((m.modes ?? []).filter((md) => md.id).map((md) => [md.id, md.label || md.id])),
  }));
}
