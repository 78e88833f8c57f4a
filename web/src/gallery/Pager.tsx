// Page controls: first, previous, "page N of M", next, last.
import { useI18n } from "../i18n/i18n";
import { pageCount } from "./query";

export function Pager(props: { page: number; perPage: number; total: number; onPage: (page: number) => void }) {
  const { t } = useI18n();
  const pages = pageCount(props.total, props.perPage);
  const { page } = props;
  return (
    <nav className="gallery-pager" aria-label={t("gallery.paging")} data-testid="gallery-pager">
      <button type="button" onClick={() => props.onPage(1)} disabled={page <= 1} aria-label={t("gallery.first")} data-testid="gallery-first">
        «
      </button>
      <button type="button" onClick={() => props.onPage(Math.min(page - 1, pages))} disabled={page <= 1} data-testid="gallery-prev">
        ‹ {t("gallery.prev")}
      </button>
      <span className="gallery-page" aria-live="polite" data-testid="gallery-page" data-page={page} data-pages={pages}>
        {t("gallery.pageOf", { page, pages })}
      </span>
      <button type="button" onClick={() => props.onPage(page + 1)} disabled={page >= pages} data-testid="gallery-next">
        {t("gallery.next")} ›
      </button>
      <button type="button" onClick={() => props.onPage(pages)} disabled={page >= pages} aria-label={t("gallery.last")} data-testid="gallery-last">
        »
      </button>
    </nav>
  );
}
