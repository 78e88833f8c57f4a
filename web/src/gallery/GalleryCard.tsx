// One result in the grid: its preview (a button that opens the lightbox), a video badge with
// length and frame rate, the model and size, and a delete button.
import { useState } from "react";
import { useI18n } from "../i18n/i18n";
import type { GalleryItem } from "./api";
import { formatCreated, formatSeconds, videoInfo } from "./format";

export function GalleryCard(props: {
  item: GalleryItem;
  modelName: string;
  onOpen: () => void;
  onDelete: () => void;
  /** The preview failed to load (its signed URL may have expired). */
  onMediaError?: () => void;
}) {
  const { t, lang } = useI18n();
  const { item } = props;
  // The preview URL that failed: a fresh URL for the same item is tried again.
  const [brokenSrc, setBrokenSrc] = useState<string | null>(null);
  const broken = brokenSrc === item.preview_url;
  const video = videoInfo(item);
  const size = `${item.width} × ${item.height}`;
  return (
    <li
      className="gallery-card"
      data-testid="gallery-item"
      data-id={item.id}
      data-model={item.model}
      data-type={item.type}
      data-width={item.width}
      data-height={item.height}
      data-created={item.created_at}
    >
      <button
        type="button"
        className="gallery-thumb"
        onClick={props.onOpen}
        aria-label={t("gallery.open", { model: props.modelName, size })}
        data-testid="gallery-open"
        data-gallery-id={item.id}
      >
        {broken ? (
          <span className="gallery-thumb-missing muted">{t("gallery.previewMissing")}</span>
        ) : (
          <img
            src={item.preview_url}
            alt=""
            loading="lazy"
            decoding="async"
            onError={() => {
              setBrokenSrc(item.preview_url);
              props.onMediaError?.();
            }}
            data-testid="gallery-preview"
          />
        )}
        {item.type === "video" && (
          <span className="gallery-badge" data-testid="gallery-video-badge">
            ▶ {t("gallery.video")}
            {video.seconds !== undefined && ` · ${formatSeconds(video.seconds)}`}
            {video.fps !== undefined && ` · ${t("gallery.fps", { fps: video.fps })}`}
          </span>
        )}
      </button>
      <div className="gallery-meta">
        <span className="gallery-model" title={props.modelName}>
          {props.modelName}
        </span>
        <span className="muted gallery-size">
          {size} · <time dateTime={item.created_at}>{formatCreated(item.created_at, lang, true)}</time>
        </span>
        <button type="button" className="danger gallery-delete" onClick={props.onDelete} aria-label={`${t("gallery.delete")}: ${props.modelName}, ${size}`} data-testid="gallery-delete">
          {t("gallery.delete")}
        </button>
      </div>
    </li>
  );
}
