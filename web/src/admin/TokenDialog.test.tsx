import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { I18nProvider } from "../i18n/i18n";
import { TokenDialog } from "./TokenDialog";

const token = "6ac2d359-8756-40c7-a014-fc4ffd776b04.c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA";

function show(onClose = () => {}) {
  return render(
    <I18nProvider lang="en">
      <TokenDialog label="studio-a" token={token} onClose={onClose} />
    </I18nProvider>,
  );
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("TokenDialog", () => {
  it("shows the token once with a warning and copies it to the clipboard", async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    vi.stubGlobal("navigator", { ...navigator, clipboard: { writeText } });
    show();
    expect((screen.getByTestId("token-value") as HTMLInputElement).value).toBe(token);
    expect(screen.getByRole("note").textContent).toMatch(/shown only once/);
    fireEvent.click(screen.getByTestId("token-copy"));
    await waitFor(() => expect(screen.getByTestId("token-copy").textContent).toBe("Copied"));
    expect(writeText).toHaveBeenCalledWith(token);
  });

  it("selects the token for Ctrl+C when the clipboard is refused", async () => {
    vi.stubGlobal("navigator", { ...navigator, clipboard: { writeText: vi.fn().mockRejectedValue(new Error("denied")) } });
    document.execCommand = vi.fn().mockReturnValue(false);
    show();
    fireEvent.click(screen.getByTestId("token-copy"));
    await waitFor(() => expect(screen.getByText(/press Ctrl\+C/)).toBeTruthy());
    const input = screen.getByTestId("token-value") as HTMLInputElement;
    expect(document.activeElement).toBe(input);
    expect(input.selectionStart).toBe(0);
    expect(input.selectionEnd).toBe(token.length);
  });

  it("closes on Escape and on the done button", () => {
    const onClose = vi.fn();
    show(onClose);
    fireEvent.keyDown(screen.getByTestId("token-dialog"), { key: "Escape" });
    fireEvent.click(screen.getByTestId("token-close"));
    expect(onClose).toHaveBeenCalledTimes(2);
  });
});
