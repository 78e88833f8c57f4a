// The gallery page (#/gallery): the server's finished results with filters, sort and paging
// (all kept in the hash query), a lightbox, and delete with confirmation.
import { useMemo, useRef, useState } from "react";
import { ApiError } from "../api/client";
import { ErrorBox } from "../app/ErrorBox";
import { navigate, useRoute } from "../app/router";
import { useI18n } from "../i18n/i18n";
import { deleteGalleryItem, type GalleryItem } from "./api";
import { ConfirmDelete } from "./ConfirmDelete";
import { Filters } from "./Filters";
import { GalleryCard } from "./GalleryCard";
import { Lightbox } from "./Lightbox";
import { Pager } from "./Pager";
import { changeQuery, defaultQuery, parseQuery, queryToParams, type GalleryQuery } from "./query";
import { useGallery, useModels } from "./useGallery";
import type { ReturnFocus } from "./useFocusTrap";
import "./gallery.css";

export function Gallery() {
  const { t } = useI18n();
  const { params } = useRoute();
  const search = params.toString();
  const query = useMemo(() => parseQuery(new URLSearchParams(search)), [search]);
  const { data, loading, error, reload, drop, mediaFailed } = useGallery(query);
  const models = useModels();
  const [openId, setOpenId] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<GalleryItem | null>(null);
  const [notice, setNotice] = useState("");
  const heading = useRef<HTMLHeadingElement>(null);

  const byId = useMemo(() => new Map(models.map((m) => [m.id, m])), [models]);
  const modelName = (id: string) => byId.get(id)?.name ?? id;
  const modeLabel = (model: string, mode: string) => byId.get(model)?.modes[mode] ?? mode;
  const setQuery = (change: Partial<GalleryQuery>) => {
    setNotice("");
    navigate("/gallery", queryToParams(changeQuery(query, change)));
  };

  const items = data?.items ?? [];
  const openIndex = openId ? items.findIndex((it) => it.id === openId) : -1;
  // Focus after a dialog: the card last shown in the lightbox (←/→ may have moved on), else the
  // element that opened the dialog, else (its card was deleted) the first card or the heading.
  const lastShown = useRef<string | null>(null);
  const show = (id: string | null) => {
    if (id) lastShown.current = id;
    setOpenId(id);
  };
  const cardButton = (id: string | null) =>
    Array.from(document.querySelectorAll<HTMLElement>("[data-gallery-id]")).find((el) => id !== null && el.dataset.galleryId === id);
  const firstCard = () => document.querySelector<HTMLElement>('[data-testid="gallery-open"]') ?? heading.current;
  const afterLightbox: ReturnFocus = (remembered) => cardButton(lastShown.current) ?? remembered ?? firstCard();
  const afterConfirm: ReturnFocus = (remembered) => remembered ?? firstCard();

  const remove = async (item: GalleryItem) => {
    try {
      await deleteGalleryItem(item.id);
    } catch (err) {
      // Already gone (deleted elsewhere) is the outcome asked for; anything else stays in the dialog.
      if (!(err instanceof ApiError && err.code === "not_found")) throw err;
    }
    const lastOnPage = items.length === 1 && query.page > 1;
    drop(item.id);
    setConfirming(null);
    if (openId === item.id) setOpenId(null);
    setNotice(t("gallery.deleted"));
    if (lastOnPage) setQuery({ page: query.page - 1 });
    else reload(); // refill the page from the next one
  };

  const filtered = query.model !== "" || query.type !== "";
  const empty = data !== null && items.length === 0;

  return (
    <section className="gallery" aria-labelledby="gallery-title" data-testid="gallery">
      <div className="gallery-head">
        <h2 id="gallery-title" ref={heading} tabIndex={-1}>
          {t("gallery.title")}
        </h2>
        {data && (
          <span className="muted" data-testid="gallery-total" data-total={data.total}>
            {t("gallery.total", { total: data.total })}
          </span>
        )}
        <span className="sr-only" role="status">
          {notice}
        </span>
      </div>
      <Filters query={query} models={models} onChange={setQuery} />
      <ErrorBox error={error} />
      {error !== null && (
        <button type="button" onClick={reload} data-testid="gallery-retry">
          {t("common.retry")}
        </button>
      )}
      {data === null && loading && (
        <p className="muted gallery-loading" data-testid="gallery-loading">
          {t("common.loading")}
        </p>
      )}
      {empty && !loading && (
        <div className="card gallery-empty" data-testid="gallery-empty">
          {data.total > 0 ? (
            <>
              <p>{t("gallery.pageEmpty")}</p>
              <button type="button" onClick={() => setQuery({ page: 1 })}>
                {t("gallery.toFirst")}
              </button>
            </>
          ) : filtered ? (
            <>
              <p>{t("gallery.emptyFiltered")}</p>
              <button type="button" onClick={() => setQuery({ model: "", type: "", sort: defaultQuery.sort })}>
                {t("gallery.reset")}
              </button>
            </>
          ) : (
            <>
              <p>{t("gallery.empty")}</p>
              <p className="muted">{t("gallery.emptyHint")}</p>
              <a href="#/">{t("gallery.toStudio")}</a>
            </>
          )}
        </div>
      )}
      {items.length > 0 && (
        <ul className={"gallery-grid" + (loading ? " loading" : "")} aria-busy={loading} data-testid="gallery-grid" data-loading={loading}>
          {items.map((item) => (
            <GalleryCard
              key={item.id}
              item={item}
              modelName={modelName(item.model)}
              onOpen={() => show(item.id)}
              onDelete={() => setConfirming(item)}
              onMediaError={mediaFailed}
            />
          ))}
        </ul>
      )}
      {data && data.total > 0 && (
        <Pager page={query.page} perPage={query.perPage} total={data.total} onPage={(page) => setQuery({ page })} />
      )}
      {openIndex >= 0 && (
        <Lightbox
          items={items}
          index={openIndex}
          modelName={modelName}
          modeLabel={modeLabel}
          onIndex={(i) => show(items[i]?.id ?? null)}
          onClose={() => setOpenId(null)}
          onDelete={setConfirming}
          onMediaError={mediaFailed}
          returnFocus={afterLightbox}
          covered={confirming !== null}
        />
      )}
      {confirming && <ConfirmDelete item={confirming} onConfirm={remove} onClose={() => setConfirming(null)} returnFocus={afterConfirm} />}
    </section>
  );
}
