// The gallery page against a fake API: the hash query drives the request, the lightbox keeps
// the keyboard, and delete asks first, shows the envelope on refusal and drops the item.
import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { sessionRenewed } from "../api/client";
import { I18nProvider } from "../i18n/i18n";
import type { GalleryItem } from "./api";
import { Gallery } from "./Gallery";

function item(n: number, extra: Partial<GalleryItem> = {}): GalleryItem {
  return {
    id: `00000000-0000-4000-8000-00000000000${n}`,
    model: "pony",
    type: "image",
    mode: "txt2img",
    prompt: `prompt ${n}`,
    parameters: {},
    width: 512,
    height: 512,
    seed: n,
    created_at: "2026-01-02T03:04:05Z",
    preview_url: `/preview/${n}?exp=1&sig=x`,
    result_url: `/results/${n}?exp=1&sig=x`,
    ...extra,
  };
}

const models = [
  { id: "pony", name: "Pony Diffusion V6 XL", type: "image", modes: [{ id: "txt2img", label: "Text to Image" }] },
  { id: "anisora", name: "Index-AniSora V3.2", type: "video" },
];

let items: GalleryItem[];
let deleteAnswer: { status: number; body?: unknown };
let calls: { method: string; url: string }[];
let sessionGone: boolean;
let signings: number;

function json(status: number, body: unknown) {
  return new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

beforeEach(() => {
  items = [item(1), item(2), item(3, { type: "video", model: "anisora", parameters: { num_frames: 80, fps: 16 } })];
  deleteAnswer = { status: 204 };
  calls = [];
  sessionGone = false;
  signings = 0;
  window.location.hash = "#/gallery";
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      const method = init?.method ?? "GET";
      calls.push({ method, url });
      const u = new URL(url, "http://localhost");
      if (u.pathname === "/models") return json(200, models);
      if (u.pathname === "/gallery") {
        if (sessionGone) return json(401, { code: "session_expired", detail: "The session has expired.", user_action: "Enter the key again." });
        const perPage = Number(u.searchParams.get("per_page"));
        const page = Number(u.searchParams.get("page"));
        // Every answer signs its URLs afresh, as the server does.
        const sig = ++signings;
        const slice = items
          .slice((page - 1) * perPage, page * perPage)
          .map((it) => ({ ...it, preview_url: `${it.preview_url}&n=${sig}`, result_url: `${it.result_url}&n=${sig}` }));
        return json(200, { items: slice, total: items.length, page, per_page: perPage, has_more: page * perPage < items.length });
      }
      if (method === "DELETE") {
        if (deleteAnswer.status === 204) items = items.filter((it) => !url.endsWith(it.id));
        return json(deleteAnswer.status, deleteAnswer.body);
      }
      return json(404, { code: "route_not_found", detail: "no", user_action: "" });
    }),
  );
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function renderGallery() {
  return render(
    <I18nProvider lang="en">
      <Gallery />
    </I18nProvider>,
  );
}

const galleryCalls = () => calls.filter((c) => c.method === "GET" && c.url.startsWith("/gallery"));

async function setHash(h: string) {
  await act(async () => {
    window.location.hash = h;
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  });
}

describe("Gallery", () => {
  it("shows the items, marks videos, and asks the server for what the hash says", async () => {
    renderGallery();
    const cards = await screen.findAllByTestId("gallery-item");
    expect(cards).toHaveLength(3);
    expect(screen.getByTestId("gallery-total").textContent).toBe("3 results");
    expect(within(cards[2]).getByTestId("gallery-video-badge").textContent).toContain("5 s · 16 fps");
    expect(within(cards[0]).queryByTestId("gallery-video-badge")).toBeNull();
    expect(await within(cards[2]).findByText("Index-AniSora V3.2")).toBeTruthy();

    await setHash("#/gallery?model=pony&sort=width&per_page=2&page=2");
    await waitFor(() => expect(galleryCalls().at(-1)?.url).toBe("/gallery?page=2&per_page=2&sort=width&model=pony"));
  });

  it("writes filter changes to the hash and returns to page 1", async () => {
    await setHash("#/gallery?page=2&per_page=2");
    renderGallery();
    await screen.findAllByTestId("gallery-item");
    fireEvent.change(screen.getByTestId("gallery-filter-type"), { target: { value: "video" } });
    expect(window.location.hash).toBe("#/gallery?type=video&per_page=2");
  });

  it("pages with the pager", async () => {
    await setHash("#/gallery?per_page=2");
    renderGallery();
    await screen.findAllByTestId("gallery-item");
    expect(screen.getByTestId("gallery-page").textContent).toBe("Page 1 of 2");
    fireEvent.click(screen.getByTestId("gallery-next"));
    expect(window.location.hash).toBe("#/gallery?per_page=2&page=2");
  });

  it("shows an empty state", async () => {
    items = [];
    renderGallery();
    expect((await screen.findByTestId("gallery-empty")).textContent).toContain("Nothing here yet.");
  });

  it("opens the lightbox, moves with arrows, closes with Esc and gives focus back", async () => {
    renderGallery();
    const opens = await screen.findAllByTestId("gallery-open");
    opens[0].focus();
    fireEvent.click(opens[0]);
    const box = screen.getByTestId("gallery-lightbox");
    expect(box.getAttribute("role")).toBe("dialog");
    expect(document.activeElement).toBe(screen.getByTestId("gallery-lightbox-close"));
    expect(screen.getByTestId("gallery-prompt").textContent).toBe("prompt 1");
    expect(screen.getByTestId("gallery-details").textContent).toContain("Text to Image");
    const download = screen.getByTestId("gallery-download");
    expect(download.getAttribute("href")).toBe(items[0].result_url + "&n=1");
    expect(download.getAttribute("download")).toMatch(/^gooni-pony-00000000\.png$/);

    fireEvent.keyDown(box, { key: "ArrowRight" });
    fireEvent.keyDown(box, { key: "ArrowRight" });
    expect(screen.getByTestId("gallery-lightbox").getAttribute("data-id")).toBe(items[2].id);
    expect(screen.getByTestId("gallery-lightbox-video").getAttribute("src")).toBe(items[2].result_url + "&n=1");
    fireEvent.keyDown(box, { key: "ArrowRight" }); // the last one stays
    expect(screen.getByTestId("gallery-lightbox").getAttribute("data-id")).toBe(items[2].id);

    // The image is a toggle button between fitted and actual pixels, named for what it does next.
    fireEvent.keyDown(box, { key: "ArrowLeft" });
    fireEvent.keyDown(box, { key: "ArrowLeft" });
    const zoom = screen.getByTestId("gallery-lightbox-zoom");
    expect(zoom.tagName).toBe("BUTTON");
    expect(zoom.getAttribute("aria-pressed")).toBe("false");
    expect(zoom.getAttribute("aria-label")).toBe("Show at actual size");
    fireEvent.click(zoom);
    expect(zoom.getAttribute("aria-pressed")).toBe("true");
    expect(zoom.getAttribute("aria-label")).toBe("Fit to the window");
    expect(zoom.parentElement?.classList.contains("actual")).toBe(true);
    fireEvent.keyDown(box, { key: "ArrowRight" });
    fireEvent.keyDown(box, { key: "ArrowRight" });

    // Tab from the last control wraps to the first.
    const delBtn = screen.getByTestId("gallery-lightbox-delete");
    delBtn.focus();
    fireEvent.keyDown(delBtn, { key: "Tab" });
    expect(box.contains(document.activeElement)).toBe(true);

    fireEvent.keyDown(box, { key: "Escape" });
    expect(screen.queryByTestId("gallery-lightbox")).toBeNull();
    // Focus returns to the card last shown.
    expect(document.activeElement).toBe(screen.getAllByTestId("gallery-open")[2]);
  });

  it("deletes after confirmation and the item disappears", async () => {
    renderGallery();
    const cards = await screen.findAllByTestId("gallery-item");
    fireEvent.click(within(cards[1]).getByTestId("gallery-delete"));
    const dialog = screen.getByTestId("gallery-confirm");
    expect(document.activeElement).toBe(screen.getByTestId("gallery-confirm-cancel"));
    fireEvent.click(screen.getByTestId("gallery-confirm-delete"));
    await waitFor(() => expect(screen.queryByTestId("gallery-confirm")).toBeNull());
    expect(dialog.isConnected).toBe(false);
    expect(calls.some((c) => c.method === "DELETE" && c.url === `/gallery/${"00000000-0000-4000-8000-000000000002"}`)).toBe(true);
    await waitFor(() => expect(screen.getAllByTestId("gallery-item")).toHaveLength(2));
    expect(screen.getByTestId("gallery-total").textContent).toBe("2 results");
  });

  it("cancelling the confirmation keeps the item; Esc closes it", async () => {
    renderGallery();
    const cards = await screen.findAllByTestId("gallery-item");
    fireEvent.click(within(cards[0]).getByTestId("gallery-delete"));
    fireEvent.keyDown(screen.getByTestId("gallery-confirm"), { key: "Escape" });
    expect(screen.queryByTestId("gallery-confirm")).toBeNull();
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);
    expect(screen.getAllByTestId("gallery-item")).toHaveLength(3);
  });

  it("shows a refusal's detail and user_action and keeps the item", async () => {
    deleteAnswer = {
      status: 409,
      body: { code: "task_still_running", detail: "The task is still running.", user_action: "Cancel it first, then delete it.", metadata: { status: "processing" } },
    };
    renderGallery();
    const cards = await screen.findAllByTestId("gallery-item");
    fireEvent.click(within(cards[0]).getByTestId("gallery-delete"));
    fireEvent.click(screen.getByTestId("gallery-confirm-delete"));
    const err = await within(screen.getByTestId("gallery-confirm")).findByTestId("error");
    expect(err.getAttribute("data-code")).toBe("task_still_running");
    expect(err.textContent).toContain("Cancel it first, then delete it.");
    expect(screen.getAllByTestId("gallery-item")).toHaveLength(3);
  });

  it("shows a failed listing through the error box", async () => {
    await setHash("#/gallery?model=Nope");
    (fetch as unknown as ReturnType<typeof vi.fn>).mockImplementation(async (url: string) =>
      url.startsWith("/models")
        ? json(200, models)
        : json(422, { code: "validation_error", detail: "model: is not a model of the catalogue", user_action: "Fix the fields." }),
    );
    renderGallery();
    const err = await screen.findByTestId("error");
    expect(err.getAttribute("data-code")).toBe("validation_error");
    expect(screen.getByTestId("gallery-retry")).toBeTruthy();
  });

  it("loads again by itself once a lost session is renewed", async () => {
    sessionGone = true;
    renderGallery();
    await waitFor(() => expect(screen.getByTestId("error").getAttribute("data-code")).toBe("session_expired"));
    const before = galleryCalls().length;
    sessionGone = false;
    act(() => sessionRenewed());
    expect(await screen.findAllByTestId("gallery-item")).toHaveLength(3);
    expect(galleryCalls().length).toBe(before + 1);
    // A renewal after a good load does not reload the page again.
    act(() => sessionRenewed());
    await new Promise((r) => setTimeout(r, 20));
    expect(galleryCalls().length).toBe(before + 1);
  });

  it("loads the page again for fresh signed URLs when a medium fails on a page older than a minute", async () => {
    renderGallery();
    const previews = await screen.findAllByTestId("gallery-preview");
    const before = galleryCalls().length;
    // Failing right after the page arrived: the medium is missing, not expired; no reload.
    fireEvent.error(previews[0]);
    expect(screen.getAllByTestId("gallery-item")[0].textContent).toContain("Preview unavailable");
    await new Promise((r) => setTimeout(r, 20));
    expect(galleryCalls().length).toBe(before);

    // An hour later (the URLs may have expired): the lightbox's image fails and the page is read again.
    const now = Date.now();
    const clock = vi.spyOn(Date, "now").mockReturnValue(now + 3_600_000);
    fireEvent.click(screen.getAllByTestId("gallery-open")[1]);
    fireEvent.error(screen.getByTestId("gallery-lightbox-image"));
    await waitFor(() => expect(galleryCalls().length).toBe(before + 1));
    await waitFor(() => expect(screen.getByTestId("gallery-lightbox-image").getAttribute("src")).toMatch(/&n=2$/));
    // The card whose old URL failed shows its fresh preview.
    expect(within(screen.getAllByTestId("gallery-item")[0]).getByTestId("gallery-preview").getAttribute("src")).toMatch(/&n=2$/);
    // The fresh page fails at once: no second reload.
    fireEvent.error(screen.getByTestId("gallery-lightbox-image"));
    await new Promise((r) => setTimeout(r, 20));
    expect(galleryCalls().length).toBe(before + 1);
    clock.mockRestore();
  });
});
