// SessionGate against a fake API: signing out never leaves a rejected promise behind, and a lost
// session puts the key dialog over a page that keyboard focus cannot reach, then hands focus back.
import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, onTestFinished, vi } from "vitest";
import { onSessionRenewed, request } from "../api/client";
import { I18nProvider } from "../i18n/i18n";
import { SessionGate, userSession } from "./SessionGate";

// The test process (Node): where a promise nobody handled ends up.
const nodeProcess = (globalThis as unknown as { process: { on(e: string, f: (r: unknown) => void): void; off(e: string, f: (r: unknown) => void): void } }).process;

let sessionOk: boolean;
let deleteFails: boolean;
let serverDown: boolean;

function json(status: number, body: unknown) {
  return new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

beforeEach(() => {
  sessionOk = true;
  deleteFails = false;
  serverDown = false;
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      const method = init?.method ?? "GET";
      if (serverDown) throw new TypeError("Failed to fetch");
      if (url === "/auth/session" && method === "DELETE") {
        if (deleteFails) throw new TypeError("Failed to fetch");
        return json(204, null);
      }
      if (url === "/auth/session" && method === "POST") {
        sessionOk = true;
        return json(200, { expires_at: "2099-01-01T00:00:00Z" });
      }
      if (!sessionOk) return json(401, { code: "session_expired", detail: "The session has expired.", user_action: "Sign in again." });
      return json(200, {});
    }),
  );
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function page() {
  return render(
    <I18nProvider lang="en">
      <SessionGate kind={userSession}>
        {(signOut) => (
          <form data-testid="page">
            <input data-testid="prompt" defaultValue="a quiet harbour" />
            <button type="button" onClick={signOut} data-testid="sign-out">
              out
            </button>
          </form>
        )}
      </SessionGate>
    </I18nProvider>,
  );
}

describe("SessionGate", () => {
  it("signs out even when the server cannot be reached, without an unhandled rejection", async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    nodeProcess.on("unhandledRejection", onRejection);
    try {
      page();
      await screen.findByTestId("sign-out");
      deleteFails = true;
      fireEvent.click(screen.getByTestId("sign-out"));
      await screen.findByTestId("key-form");
      await new Promise((r) => setTimeout(r, 20));
      expect(rejections).toEqual([]);
    } finally {
      nodeProcess.off("unhandledRejection", onRejection);
    }
  });

  it("keeps the page mounted but out of keyboard reach while the session is renewed, then gives focus back", async () => {
    const renewed = vi.fn();
    const off = onSessionRenewed(renewed);
    onTestFinished(() => void off());
    page();
    const prompt = await screen.findByTestId("prompt");
    prompt.focus();
    sessionOk = false;
    await act(async () => {
      await request("/gallery").catch(() => {});
    });
    const dialog = await screen.findByRole("dialog");
    // The form is still there with what was typed, but inert: Tab cannot wander behind the dialog.
    expect((screen.getByTestId("prompt") as HTMLInputElement).value).toBe("a quiet harbour");
    expect(screen.getByTestId("page").closest("[inert]")).not.toBeNull();
    expect(dialog.getAttribute("aria-labelledby")).toBeTruthy();
    expect(document.getElementById(dialog.getAttribute("aria-labelledby")!)?.textContent).toMatch(/API key/);
    await waitFor(() => expect(dialog.contains(document.activeElement)).toBe(true)); // focused in an effect

    fireEvent.change(screen.getByTestId("key-input"), { target: { value: "k" } });
    fireEvent.submit(screen.getByTestId("key-form"));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(renewed).toHaveBeenCalledTimes(1); // paused pages (admin refresh) load again
    expect(screen.getByTestId("page").closest("[inert]")).toBeNull();
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId("prompt"))); // restored in an effect
  });

  it("says the server cannot be reached on the first check, with a retry, instead of asking for the key", async () => {
    serverDown = true;
    page();
    const box = await screen.findByTestId("session-unreachable");
    expect(screen.queryByTestId("key-form")).toBeNull();
    expect(screen.getByTestId("error").getAttribute("data-code")).toBe("network_error");
    expect(box.textContent).toContain("could not be reached");
    // Focus moves to the retry in an effect after the box is shown.
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId("session-retry")));

    serverDown = false;
    fireEvent.click(screen.getByTestId("session-retry"));
    await screen.findByTestId("page"); // the session was there all along
    expect(screen.queryByTestId("session-unreachable")).toBeNull();
  });

  it("asks for the key when the first check finds no session", async () => {
    sessionOk = false;
    page();
    await screen.findByTestId("key-form");
    expect(screen.queryByTestId("session-unreachable")).toBeNull();
  });
});
