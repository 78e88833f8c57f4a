// The lightbox: one result at full size (an image, or a video player that can seek) with its
// details, download and delete. A modal dialog: Esc closes, ←/→ move between the page's
// results, Tab stays inside, and focus returns to the card that opened it.
import { useId, useRef, useState, type KeyboardEvent } from "react";
import { useI18n } from "../i18n/i18n";
import type { GalleryItem } from "./api";
import { downloadName, formatCreated, formatSeconds, videoInfo } from "./format";
import { useFocusTrap, type ReturnFocus } from "./useFocusTrap";

export function Lightbox(props: {
  items: GalleryItem[];
  index: number;
  modelName: (id: string) => string;
  modeLabel: (model: string, mode: string) => string;
  onIndex: (i: number) => void;
  onClose: () => void;
  onDelete: (item: GalleryItem) => void;
  /** The result failed to load (its signed URL may have expired). */
  onMediaError?: () => void;
  returnFocus?: ReturnFocus;
  /** True while another dialog (the delete confirmation) is on top: keys belong to it. */
  covered?: boolean;
}) {
  const { t } = useI18n();
  const ref = useRef<HTMLDivElement>(null);
  const titleId = useId();
  const trap = useFocusTrap(ref, props.returnFocus);
  const item = props.items[props.index];
  const count = props.items.length;
  if (!item) return null;
  const hasPrev = props.index > 0;
  const hasNext = props.index < count - 1;

  const onKeyDown = (e: KeyboardEvent) => {
    if (props.covered) return;
    if (e.key === "Escape") {
      e.preventDefault();
      props.onClose();
      return;
    }
    const target = e.target as HTMLElement;
    // Arrow keys seek in a focused video and move the caret in fields: leave them alone there.
    const ownsArrows = target.closest("video, input, select, textarea") !== null;
    if (!ownsArrows && e.key === "ArrowLeft" && hasPrev) {
      e.preventDefault();
      props.onIndex(props.index - 1);
    } else if (!ownsArrows && e.key === "ArrowRight" && hasNext) {
      e.preventDefault();
      props.onIndex(props.index + 1);
    } else {
      trap(e);
    }
  };

  return (
    <div className="modal-backdrop gallery-lightbox-backdrop" onMouseDown={(e) => e.target === e.currentTarget && props.onClose()}>
      <div
        ref={ref}
        className="modal card gallery-lightbox"
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        tabIndex={-1}
        onKeyDown={onKeyDown}
        data-testid="gallery-lightbox"
        data-id={item.id}
      >
        <header className="gallery-lightbox-head">
          <h2 id={titleId}>
            {props.modelName(item.model)}
            <span className="muted gallery-lightbox-pos" data-testid="gallery-lightbox-position">
              {t("gallery.position", { n: props.index + 1, count })}
            </span>
          </h2>
          <div className="gallery-lightbox-nav">
            <button type="button" onClick={() => props.onIndex(props.index - 1)} disabled={!hasPrev} aria-label={t("gallery.prevItem")} data-testid="gallery-lightbox-prev">
              ←
            </button>
            <button type="button" onClick={() => props.onIndex(props.index + 1)} disabled={!hasNext} aria-label={t("gallery.nextItem")} data-testid="gallery-lightbox-next">
              →
            </button>
            <button type="button" onClick={props.onClose} data-autofocus data-testid="gallery-lightbox-close">
              {t("common.close")}
            </button>
          </div>
        </header>
        <div className="gallery-lightbox-body">
          <Media key={item.id} item={item} onError={props.onMediaError} />
          <Details item={item} modelName={props.modelName} modeLabel={props.modeLabel} />
        </div>
        <footer className="gallery-lightbox-actions">
          <a className="gallery-button" href={item.result_url} download={downloadName(item)} data-testid="gallery-download">
            {t("common.download")}
          </a>
          <button type="button" className="danger" onClick={() => props.onDelete(item)} data-testid="gallery-lightbox-delete">
            {t("gallery.delete")}
          </button>
          <span className="muted gallery-keys">{t("gallery.keys")}</span>
        </footer>
      </div>
    </div>
  );
}

/** The result itself: a seekable video, or the image fitted to the screen; the image is a toggle
 * button (click, Enter or Space) between fitted and actual pixels. */
function Media({ item, onError }: { item: GalleryItem; onError?: () => void }) {
  const { t } = useI18n();
  const [actual, setActual] = useState(false);
  if (item.type === "video") {
    return (
      <div className="gallery-lightbox-media">
        <video controls preload="metadata" poster={item.preview_url} src={item.result_url} onError={onError} data-testid="gallery-lightbox-video">
          {t("gallery.video")}
        </video>
      </div>
    );
  }
  return (
    <div className={"gallery-lightbox-media" + (actual ? " actual" : "")}>
      <button
        type="button"
        className="gallery-zoom"
        aria-pressed={actual}
        aria-label={t(actual ? "gallery.zoomFit" : "gallery.zoomActual")}
        title={t(actual ? "gallery.zoomFit" : "gallery.zoomActual")}
        onClick={() => setActual((a) => !a)}
        data-testid="gallery-lightbox-zoom"
      >
        <img
          src={item.result_url}
          alt={item.prompt || t("gallery.lightbox")}
          width={item.width || undefined}
          height={item.height || undefined}
          onError={onError}
          data-testid="gallery-lightbox-image"
        />
      </button>
    </div>
  );
}

function Details({ item, modelName, modeLabel }: { item: GalleryItem; modelName: (id: string) => string; modeLabel: (model: string, mode: string) => string }) {
  const { t, lang } = useI18n();
  const video = videoInfo(item);
  const rows: [string, string][] = [
    [t("gallery.detail.model"), modelName(item.model)],
    [t("gallery.detail.mode"), modeLabel(item.model, item.mode)],
    [t("gallery.detail.size"), `${item.width} × ${item.height}`],
    [t("gallery.detail.seed"), String(item.seed)],
    [t("gallery.detail.created"), formatCreated(item.created_at, lang)],
  ];
  if (video.seconds !== undefined) rows.push([t("gallery.detail.duration"), formatSeconds(video.seconds)]);
  if (video.fps !== undefined) rows.push([t("gallery.detail.fps"), t("gallery.fps", { fps: video.fps })]);
  return (
    <div className="gallery-details" data-testid="gallery-details">
      <dl>
        {rows.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      {item.prompt && (
        <>
          <h3>{t("gallery.detail.prompt")}</h3>
          <p className="gallery-prompt" data-testid="gallery-prompt">{item.prompt}</p>
        </>
      )}
      {item.negative_prompt && (
        <>
          <h3>{t("gallery.detail.negative")}</h3>
          <p className="gallery-prompt">{item.negative_prompt}</p>
        </>
      )}
    </div>
  );
}
