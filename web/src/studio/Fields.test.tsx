// An image upload whose file cannot be read (removed or locked meanwhile) says so under the
// field instead of failing silently with an unhandled promise rejection.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { I18nProvider } from "../i18n/i18n";
import type { Problem } from "../settings/form";
import { ImageField } from "./Fields";

const nodeProcess = (globalThis as unknown as { process: { on(e: string, f: (r: unknown) => void): void; off(e: string, f: (r: unknown) => void): void } }).process;

class FailingReader {
  result: string | null = null;
  error = new DOMException("The file could not be read.", "NotReadableError");
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  readAsDataURL() {
    setTimeout(() => this.onerror?.(), 0);
  }
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("ImageField", () => {
  it("reports a file that cannot be read as a problem of the field", async () => {
    vi.stubGlobal("FileReader", FailingReader);
    const rejections: unknown[] = [];
    const onRejection = (r: unknown) => rejections.push(r);
    nodeProcess.on("unhandledRejection", onRejection);
    const problems: Problem[] = [];
    const onChange = vi.fn();
    try {
      render(
        <I18nProvider lang="en">
          <ImageField
            name="reference_image"
            label="Reference"
            spec={{ type: "image_upload", accepts: ["image/png"], max_bytes: 1_000_000 }}
            required={false}
            value={undefined}
            onChange={onChange}
            onProblem={(p) => problems.push(p)}
          />
        </I18nProvider>,
      );
      const file = new File([new Uint8Array([137, 80, 78, 71])], "ref.png", { type: "image/png" });
      fireEvent.change(screen.getByTestId("upload-reference_image"), { target: { files: [file] } });
      await waitFor(() => expect(problems).toEqual([{ field: "reference_image", code: "image_read", vars: { name: "ref.png" } }]));
      await new Promise((r) => setTimeout(r, 20));
      expect(rejections).toEqual([]);
      expect(onChange).not.toHaveBeenCalled();
      expect(screen.getByTestId("upload-reference_image").closest(".field")!.textContent).not.toMatch(/Reading/);
    } finally {
      nodeProcess.off("unhandledRejection", onRejection);
    }
  });
});
