// What the page says when a request fails must be in the page's language, including the
// envelopes the client makes itself (no answer from the server, an answer that was not JSON).
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, request } from "../api/client";
import { I18nProvider } from "../i18n/i18n";
import { TaskPanel } from "../studio/TaskPanel";
import type { TaskWatch } from "../studio/task";
import { ErrorBox } from "./ErrorBox";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

async function failure(answer: () => Promise<Response>): Promise<unknown> {
  vi.stubGlobal("fetch", vi.fn(answer));
  return request("/gallery").catch((e: unknown) => e);
}

describe("ErrorBox in Russian", () => {
  it("translates the envelope made when the server cannot be reached", async () => {
    const err = await failure(() => Promise.reject(new TypeError("Failed to fetch")));
    expect(err).toBeInstanceOf(ApiError);
    render(
      <I18nProvider lang="ru">
        <ErrorBox error={err} />
      </I18nProvider>,
    );
    const box = screen.getByTestId("error");
    expect(box.getAttribute("data-code")).toBe("network_error");
    expect(box.textContent).toMatch(/Сервер/);
    expect(box.textContent).not.toMatch(/server could not be reached|Check your connection/);
  });

  it("translates what to do after an answer that carried no envelope", async () => {
    const err = await failure(async () => new Response("<html>bad gateway</html>", { status: 502, statusText: "Bad Gateway" }));
    render(
      <I18nProvider lang="ru">
        <ErrorBox error={err} />
      </I18nProvider>,
    );
    const box = screen.getByTestId("error");
    expect(box.getAttribute("data-code")).toBe("http_502");
    expect(box.textContent).not.toMatch(/Try again/);
  });

  it("shows the server's own envelope as it came", () => {
    render(
      <I18nProvider lang="ru">
        <ErrorBox error={new ApiError(409, { code: "task_still_running", detail: "Still running.", user_action: "Wait for it." })} />
      </I18nProvider>,
    );
    expect(screen.getByTestId("error").textContent).toMatch(/Still running\..*Wait for it\./);
  });
});

describe("TaskPanel in Russian", () => {
  it("labels the finished result's facts without English words", () => {
    const watch: TaskWatch = {
      status: {
        task_id: "00000000-0000-4000-8000-000000000001",
        status: "done",
        progress: 100,
        stage: "",
        stage_detail: "",
        result_url: "/results/x?sig=y",
        preview_url: "",
        model: "Pony_V6_XL",
        type: "image",
        mode: "txt2img",
        width: 512,
        height: 512,
        seed: 42,
      },
      error: null,
      via: "stream",
      cancelling: false,
      cancel: async () => {},
      mediaFailed: () => {},
    };
    render(
      <I18nProvider lang="ru">
        <TaskPanel taskId="00000000-0000-4000-8000-000000000001" watch={watch} resumed={false} onDismiss={() => {}} />
      </I18nProvider>,
    );
    const caption = screen.getByTestId("result").querySelector("figcaption")!.textContent!;
    expect(caption).toMatch(/42/);
    expect(caption).not.toMatch(/\bseed\b/i);
  });
});
