// A modal dialog over the page (styles.css .modal): focus moves in on open and back on close,
// Escape closes it (unless busy), Tab stays inside. When the element that opened it is gone (the
// row of a deleted account), focus goes to the page's heading instead of being lost to the body.
import { useEffect, useRef, type KeyboardEvent, type ReactNode } from "react";

export function Dialog(props: { title: string; onClose: () => void; children: ReactNode; testId?: string; busy?: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  const titleId = useRef("dlg-" + Math.random().toString(36).slice(2)).current;
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    const first = box.current?.querySelector<HTMLElement>("[data-autofocus]") ?? focusables(box.current)[0];
    first?.focus();
    return () => {
      if (before?.isConnected) before.focus();
      else document.querySelector<HTMLElement>("[data-focus-fallback]")?.focus();
    };
  }, []);

  const onKey = (e: KeyboardEvent) => {
    if (e.key === "Escape" && !props.busy) {
      e.stopPropagation();
      props.onClose();
    }
    if (e.key === "Tab") {
      const f = focusables(box.current);
      if (f.length === 0) return;
      const i = f.indexOf(document.activeElement as HTMLElement);
      if (e.shiftKey && i <= 0) {
        e.preventDefault();
        f[f.length - 1].focus();
      } else if (!e.shiftKey && i === f.length - 1) {
        e.preventDefault();
        f[0].focus();
      }
    }
  };

  return (
    <div className="modal-backdrop" onKeyDown={onKey}>
      <div ref={box} className="modal card admin-dialog" role="dialog" aria-modal="true" aria-labelledby={titleId} data-testid={props.testId}>
        <h2 id={titleId}>{props.title}</h2>
        {props.children}
      </div>
    </div>
  );
}

function focusables(root: HTMLElement | null): HTMLElement[] {
  if (!root) return [];
  return Array.from(
    root.querySelectorAll<HTMLElement>("button:not([disabled]), [href], input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])"),
  );
}
