// The gallery's view state (page, per_page, sort, model, type) lives in the hash query
// (#/gallery?page=2&model=pony), so a reload or the back button keeps it. These helpers
// read it leniently (a bad value falls back to its default) and write only non-defaults.

export const SORTS = ["created_at", "model", "width", "height"] as const;
export type Sort = (typeof SORTS)[number];
export const TYPES = ["image", "video"] as const;
export type ItemType = (typeof TYPES)[number];

/** Page sizes offered in the picker; any 1..100 from the hash is honoured too. */
export const PER_PAGE_CHOICES = [12, 24, 48, 96] as const;
export const DEFAULT_PER_PAGE = 24;
export const MAX_PER_PAGE = 100;

export interface GalleryQuery {
  page: number;
  perPage: number;
  sort: Sort;
  /** A model id, or "" for every model. */
  model: string;
  /** "image", "video", or "" for both. */
  type: ItemType | "";
}

export const defaultQuery: GalleryQuery = { page: 1, perPage: DEFAULT_PER_PAGE, sort: "created_at", model: "", type: "" };

function wholeNumber(v: string | null, min: number, max: number): number | undefined {
  if (v === null || !/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return n >= min && n <= max ? n : undefined;
}

/** Reads the view state from the hash query; missing or bad values take their defaults. */
export function parseQuery(params: URLSearchParams): GalleryQuery {
  const sort = params.get("sort");
  const type = params.get("type");
  return {
    page: wholeNumber(params.get("page"), 1, 2 ** 31) ?? defaultQuery.page,
    perPage: wholeNumber(params.get("per_page"), 1, MAX_PER_PAGE) ?? defaultQuery.perPage,
    sort: (SORTS as readonly string[]).includes(sort ?? "") ? (sort as Sort) : defaultQuery.sort,
    model: (params.get("model") ?? "").trim(),
    type: (TYPES as readonly string[]).includes(type ?? "") ? (type as ItemType) : "",
  };
}

/** The hash query for q: only what differs from the defaults, in a stable order. */
export function queryToParams(q: GalleryQuery): Record<string, string | number | undefined> {
  return {
    model: q.model || undefined,
    type: q.type || undefined,
    sort: q.sort !== defaultQuery.sort ? q.sort : undefined,
    per_page: q.perPage !== defaultQuery.perPage ? q.perPage : undefined,
    page: q.page !== defaultQuery.page ? q.page : undefined,
  };
}

/** The GET /gallery query for q (per_page always sent, so the page size never depends on the server's default). */
export function queryToApi(q: GalleryQuery): Record<string, string | number | undefined> {
  return {
    page: q.page,
    per_page: q.perPage,
    sort: q.sort,
    model: q.model || undefined,
    type: q.type || undefined,
  };
}

/**
 * Applies a change to q. Changing what is shown (filters, sort, page size) returns to page 1,
 * since the old page number means something else in the new list.
 */
export function changeQuery(q: GalleryQuery, change: Partial<GalleryQuery>): GalleryQuery {
  const next = { ...q, ...change };
  const reorders = (["model", "type", "sort", "perPage"] as const).some((k) => k in change && change[k] !== q[k]);
  if (reorders && !("page" in change)) next.page = 1;
  return next;
}

/** The number of pages for total items (at least 1, so "page 1 of 1" reads right when empty). */
export function pageCount(total: number, perPage: number): number {
  return Math.max(1, Math.ceil(total / Math.max(1, perPage)));
}

/** The page-size choices to offer: the standard ones plus the current one if it is unusual. */
export function perPageChoices(current: number): number[] {
  const all = new Set<number>([...PER_PAGE_CHOICES, current]);
  return [...all].sort((a, b) => a - b);
}
