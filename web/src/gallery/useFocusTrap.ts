// Keeps keyboard focus inside a modal dialog while it is open and gives it back afterwards.
import { useEffect, useRef, type KeyboardEvent, type RefObject } from "react";

const focusable =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), video[controls], [tabindex]:not([tabindex="-1"])';

/** The elements Tab can reach inside root, in document order. */
export function focusableIn(root: HTMLElement): HTMLElement[] {
  return Array.from(root.querySelectorAll<HTMLElement>(focusable)).filter((el) => !el.hidden && el.getAttribute("aria-hidden") !== "true");
}

/**
 * On mount, remembers the focused element and focuses the dialog's [data-autofocus] element
 * (else its first focusable one, else the dialog); on unmount, returns focus to the remembered
 * element, or to where returnFocus(remembered) points (it may pick another element, e.g. when
 * the remembered one left the page with a deleted card).
 * Returns the keydown handler that wraps Tab and Shift+Tab around the dialog's edges.
 */
export type ReturnFocus = (remembered: HTMLElement | null) => HTMLElement | null | undefined;

export function useFocusTrap(ref: RefObject<HTMLElement | null>, returnFocus?: ReturnFocus) {
  const returnRef = useRef(returnFocus);
  useEffect(() => {
    returnRef.current = returnFocus;
  });
  useEffect(() => {
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const root = ref.current;
    if (root) {
      const first = root.querySelector<HTMLElement>("[data-autofocus]") ?? focusableIn(root)[0] ?? root;
      first.focus();
    }
    return () => {
      const remembered = previous && previous.isConnected ? previous : null;
      const back = returnRef.current ? returnRef.current(remembered) : remembered;
      back?.focus();
    };
  }, [ref]);

  return (e: KeyboardEvent) => {
    if (e.key !== "Tab" || !ref.current) return;
    const items = focusableIn(ref.current);
    if (items.length === 0) {
      e.preventDefault();
      return;
    }
    const first = items[0];
    const last = items[items.length - 1];
    const active = document.activeElement;
    if (e.shiftKey && (active === first || !ref.current.contains(active))) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && (active === last || !ref.current.contains(active))) {
      e.preventDefault();
      first.focus();
    }
  };
}
