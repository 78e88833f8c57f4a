// The gallery's toolbar: type, model, sort and page size. Each change goes to the hash query.
import { useI18n } from "../i18n/i18n";
import type { Messages } from "../i18n/en";
import type { ModelInfo } from "./api";
import { SORTS, TYPES, defaultQuery, perPageChoices, type GalleryQuery, type ItemType, type Sort } from "./query";

export function Filters(props: { query: GalleryQuery; models: ModelInfo[]; onChange: (change: Partial<GalleryQuery>) => void }) {
  const { t } = useI18n();
  const { query, models } = props;
  // Models of the chosen type only; the chosen model stays listed even when the catalogue lost it.
  const shown = models.filter((m) => !query.type || m.type === query.type);
  if (query.model && !shown.some((m) => m.id === query.model)) shown.push({ id: query.model, name: query.model, type: query.type || "image", modes: {} });
  const filtered = query.model !== "" || query.type !== "" || query.sort !== defaultQuery.sort;
  return (
    <form className="gallery-filters" aria-label={t("gallery.filters")} onSubmit={(e) => e.preventDefault()}>
      <label>
        {t("gallery.filter.type")}
        <select
          value={query.type}
          onChange={(e) => {
            const type = e.target.value as ItemType | "";
            const model = models.find((m) => m.id === query.model);
            // A model of the other type would leave nothing to show.
            props.onChange(type && model && model.type !== type ? { type, model: "" } : { type });
          }}
          data-testid="gallery-filter-type"
        >
          <option value="">{t("gallery.filter.all")}</option>
          {TYPES.map((ty) => (
            <option key={ty} value={ty}>
              {t(("gallery.type." + ty) as keyof Messages)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t("gallery.filter.model")}
        <select value={query.model} onChange={(e) => props.onChange({ model: e.target.value })} data-testid="gallery-filter-model">
          <option value="">{t("gallery.filter.all")}</option>
          {shown.map((m) => (
            <option key={m.id} value={m.id}>
              {m.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t("gallery.sort")}
        <select value={query.sort} onChange={(e) => props.onChange({ sort: e.target.value as Sort })} data-testid="gallery-sort">
          {SORTS.map((s) => (
            <option key={s} value={s}>
              {t(("gallery.sort." + s) as keyof Messages)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t("gallery.perPage")}
        <select value={query.perPage} onChange={(e) => props.onChange({ perPage: Number(e.target.value) })} data-testid="gallery-per-page">
          {perPageChoices(query.perPage).map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </label>
      {filtered && (
        <button type="button" className="link gallery-reset" onClick={() => props.onChange({ model: "", type: "", sort: defaultQuery.sort })} data-testid="gallery-reset">
          {t("gallery.reset")}
        </button>
      )}
    </form>
  );
}
