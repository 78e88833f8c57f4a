// Dialog focus: back to the element that opened it, or to the page heading when that element
// went away with what the dialog did (a deleted row).
import { useState } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { I18nProvider } from "../i18n/i18n";
import { PageHead } from "./bits";
import { Dialog } from "./Dialog";

afterEach(() => cleanup());

function Rows() {
  const [rows, setRows] = useState(["a", "b"]);
  const [open, setOpen] = useState<string | null>(null);
  return (
    <section>
      <PageHead title="admin.accounts.title" />
      {rows.map((r) => (
        <button key={r} type="button" onClick={() => setOpen(r)} data-testid={"open-" + r}>
          {r}
        </button>
      ))}
      {open && (
        <Dialog title="Delete?" onClose={() => setOpen(null)}>
          <button type="button" onClick={() => setOpen(null)} data-testid="keep">
            keep
          </button>
          <button
            type="button"
            onClick={() => {
              setRows((rs) => rs.filter((x) => x !== open));
              setOpen(null);
            }}
            data-testid="delete"
            data-autofocus
          >
            delete
          </button>
        </Dialog>
      )}
    </section>
  );
}

function show() {
  render(
    <I18nProvider lang="en">
      <Rows />
    </I18nProvider>,
  );
}

describe("Dialog", () => {
  it("moves focus in, and back to the opener when it closes", () => {
    show();
    screen.getByTestId("open-a").focus();
    fireEvent.click(screen.getByTestId("open-a"));
    expect(document.activeElement).toBe(screen.getByTestId("delete"));
    act(() => fireEvent.click(screen.getByTestId("keep")));
    expect(document.activeElement).toBe(screen.getByTestId("open-a"));
  });

  it("gives focus to the page heading when the opener was removed", () => {
    show();
    screen.getByTestId("open-b").focus();
    fireEvent.click(screen.getByTestId("open-b"));
    act(() => fireEvent.click(screen.getByTestId("delete")));
    expect(screen.queryByTestId("open-b")).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole("heading", { name: "GPU worker accounts" }));
    expect(document.activeElement).not.toBe(document.body);
  });
});
