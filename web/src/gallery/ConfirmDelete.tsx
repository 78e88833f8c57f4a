// The "delete this result?" dialog. It stays open on failure and shows the API's envelope
// (e.g. 409 task_still_running with its user_action) so the user knows what to do.
import { useId, useRef, useState, type KeyboardEvent } from "react";
import { ErrorBox } from "../app/ErrorBox";
import { useI18n } from "../i18n/i18n";
import type { GalleryItem } from "./api";
import { useFocusTrap, type ReturnFocus } from "./useFocusTrap";

export function ConfirmDelete(props: {
  item: GalleryItem;
  onConfirm: (item: GalleryItem) => Promise<void>;
  onClose: () => void;
  returnFocus?: ReturnFocus;
}) {
  const { t } = useI18n();
  const ref = useRef<HTMLDivElement>(null);
  const titleId = useId();
  const bodyId = useId();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const trap = useFocusTrap(ref, props.returnFocus);

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await props.onConfirm(props.item);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      if (!busy) props.onClose();
      return;
    }
    e.stopPropagation(); // keys typed here never move the lightbox behind
    trap(e);
  };

  return (
    <div className="modal-backdrop gallery-confirm-backdrop" onMouseDown={(e) => e.target === e.currentTarget && !busy && props.onClose()}>
      <div
        ref={ref}
        className="modal card gallery-confirm"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={bodyId}
        tabIndex={-1}
        onKeyDown={onKeyDown}
        data-testid="gallery-confirm"
      >
        <h2 id={titleId}>{t("gallery.deleteTitle")}</h2>
        <p id={bodyId}>{t("gallery.deleteBody", { kind: t(props.item.type === "video" ? "gallery.kind.video" : "gallery.kind.image") })}</p>
        <ErrorBox error={error} />
        <div className="gallery-confirm-actions">
          <button type="button" onClick={props.onClose} disabled={busy} data-autofocus data-testid="gallery-confirm-cancel">
            {t("common.cancel")}
          </button>
          <button type="button" className="danger" onClick={confirm} disabled={busy} data-testid="gallery-confirm-delete">
            {busy ? t("gallery.deleting") : t("common.delete")}
          </button>
        </div>
      </div>
    </div>
  );
}
