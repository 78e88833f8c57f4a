// Gallery: results made through the real API show up with their previews, and can be filtered,
// sorted, paged, opened in the lightbox, downloaded and deleted.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { apiKey, baseURL, launch, openPage, shot, signIn } from "./lib.mjs";

const run = Date.now().toString(36);
let browser;
let page;
/** The results this scenario makes: a square and a wide Pony image and a tall Flux one. */
const made = {};

async function api(method, path, body) {
  const res = await fetch(baseURL + path, {
    method,
    headers: { "X-API-Key": apiKey, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function generate(name, body) {
  const res = await api("POST", "/generate", { mode: "txt2img", prompt: `gallery e2e ${name} ${run}`, seed: 1000 + Object.keys(made).length, ...body });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  made[name] = { id: res.body.task_id, ...body };
}

async function waitDone(id) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const { status, body } = await api("GET", `/status/${id}`);
    assert.equal(status, 200, JSON.stringify(body));
    if (body.status === "done") return;
    assert.ok(!["failed", "cancelled"].includes(body.status), `task ${id} ended ${body.status}: ${body.error_msg}`);
    assert.ok(Date.now() < deadline, `task ${id} not done in time (${body.status} ${body.stage})`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

const card = (id) => page.locator(`[data-testid="gallery-item"][data-id="${id}"]`);
const shownIds = () => page.getByTestId("gallery-item").evaluateAll((els) => els.map((e) => e.dataset.id));
const shownAttr = (attr) => page.getByTestId("gallery-item").evaluateAll((els, a) => els.map((e) => e.dataset[a]), attr);

/** Runs action (which changes the view) and waits until the page shows the answer to its GET /gallery. */
async function listed(action) {
  const answered = page.waitForResponse((r) => new URL(r.url()).pathname === "/gallery" && r.request().method() === "GET");
  await action();
  const res = await answered;
  assert.equal(res.status(), 200, await res.text());
  await page.waitForFunction(() => !document.querySelector('[data-testid="gallery-grid"][data-loading="true"]') && !document.querySelector('[data-testid="gallery-loading"]'));
  return res.json();
}

async function previewLoaded(id) {
  const img = card(id).getByTestId("gallery-preview");
  await img.waitFor();
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
}

before(async () => {
  browser = await launch();
  await generate("square", { model: "pony", width: 512, height: 512, steps: 20 });
  await generate("wide", { model: "pony", width: 768, height: 512, steps: 20 });
  await generate("tall", { model: "flux", width: 512, height: 640, steps: 15 });
  await Promise.all(Object.values(made).map((m) => waitDone(m.id)));
  page = await openPage(browser, "/#/gallery");
  await signIn(page);
});

after(async () => {
  await page?.context().close();
  await browser?.close();
});

test("the gallery lists the new results with their previews", async () => {
  await page.getByTestId("gallery").waitFor();
  for (const m of Object.values(made)) await previewLoaded(m.id);
  const total = Number(await page.getByTestId("gallery-total").getAttribute("data-total"));
  assert.ok(total >= 3, `total ${total}`);
  // Newest first: the three come first, last-made on top.
  const ids = await shownIds();
  assert.deepEqual(ids.slice(0, 3), [made.tall.id, made.wide.id, made.square.id]);
  await shot(page, "gallery");
});

test("filters by model and type, kept in the hash", async () => {
  const body = await listed(() => page.getByTestId("gallery-filter-model").selectOption("pony"));
  assert.ok(body.items.every((it) => it.model === "pony"));
  assert.match(page.url(), /#\/gallery\?model=pony$/);
  let ids = await shownIds();
  assert.ok(ids.includes(made.square.id) && ids.includes(made.wide.id) && !ids.includes(made.tall.id), ids.join());
  assert.deepEqual([...new Set(await shownAttr("model"))], ["pony"]);

  await listed(() => page.getByTestId("gallery-filter-model").selectOption("flux"));
  ids = await shownIds();
  assert.ok(ids.includes(made.tall.id) && !ids.includes(made.square.id), ids.join());

  // Videos only: none of the three images; the list is empty or videos only.
  await listed(() => page.getByTestId("gallery-filter-model").selectOption(""));
  await listed(() => page.getByTestId("gallery-filter-type").selectOption("video"));
  assert.match(page.url(), /type=video/);
  ids = await shownIds();
  assert.ok(!Object.values(made).some((m) => ids.includes(m.id)), ids.join());
  for (const ty of await shownAttr("type")) assert.equal(ty, "video");
  if (ids.length === 0) await page.getByTestId("gallery-empty").waitFor();

  await listed(() => page.getByTestId("gallery-filter-type").selectOption("image"));
  ids = await shownIds();
  assert.ok(Object.values(made).every((m) => ids.includes(m.id)), ids.join());

  // A reload keeps the filter.
  await listed(() => page.reload());
  assert.equal(await page.getByTestId("gallery-filter-type").inputValue(), "image");
});

test("sorts by width, height and model", async () => {
  await listed(() => page.getByTestId("gallery-sort").selectOption("width"));
  assert.match(page.url(), /sort=width/);
  const widths = (await shownAttr("width")).map(Number);
  assert.deepEqual(widths, [...widths].sort((a, b) => b - a));
  let ids = await shownIds();
  assert.ok(ids.indexOf(made.wide.id) < ids.indexOf(made.square.id), "768 wide before 512");

  await listed(() => page.getByTestId("gallery-sort").selectOption("height"));
  const heights = (await shownAttr("height")).map(Number);
  assert.deepEqual(heights, [...heights].sort((a, b) => b - a));
  ids = await shownIds();
  assert.ok(ids.indexOf(made.tall.id) < ids.indexOf(made.square.id), "640 tall before 512");

  await listed(() => page.getByTestId("gallery-sort").selectOption("model"));
  ids = await shownIds();
  assert.ok(ids.indexOf(made.wide.id) < ids.indexOf(made.tall.id), "Pony before Flux (model, descending)");

  await listed(() => page.getByTestId("gallery-reset").click());
  assert.match(page.url(), /#\/gallery$/);
});

test("pages through results one at a time; reload and back keep the page", async () => {
  await listed(() => page.goto(baseURL + "/#/gallery?model=pony&per_page=1"));
  const pager = page.getByTestId("gallery-page");
  const pages = Number(await pager.getAttribute("data-pages"));
  assert.ok(pages >= 2, `pages ${pages}`);
  assert.equal(await page.getByTestId("gallery-per-page").inputValue(), "1");
  const first = await shownIds();
  assert.deepEqual(first, [made.wide.id]);

  await listed(() => page.getByTestId("gallery-next").click());
  assert.match(page.url(), /page=2/);
  assert.equal(await pager.getAttribute("data-page"), "2");
  assert.deepEqual(await shownIds(), [made.square.id]);

  await listed(() => page.reload());
  assert.equal(await pager.getAttribute("data-page"), "2");
  assert.deepEqual(await shownIds(), [made.square.id]);

  await listed(() => page.goBack());
  assert.equal(await pager.getAttribute("data-page"), "1");
  assert.deepEqual(await shownIds(), first);

  // A bigger page size returns to page 1 with more on it.
  await listed(() => page.getByTestId("gallery-per-page").selectOption("24"));
  assert.doesNotMatch(page.url(), /page=|per_page=/);
  assert.ok((await shownIds()).length >= 2);
});

test("the lightbox shows the result, moves with the arrows, downloads, and closes with Esc", async () => {
  await listed(() => page.goto(baseURL + "/#/gallery"));
  const open = card(made.wide.id).getByTestId("gallery-open");
  await open.click();
  const box = page.getByTestId("gallery-lightbox");
  await box.waitFor();
  assert.equal(await box.getAttribute("data-id"), made.wide.id);
  assert.equal(await box.getAttribute("role"), "dialog");
  const img = box.getByTestId("gallery-lightbox-image");
  await page.waitForFunction((el) => el.complete && el.naturalWidth === 768, await img.elementHandle());
  const details = await box.getByTestId("gallery-details").textContent();
  assert.ok(details.includes("768 × 512") && details.includes("Text to Image") && details.includes("Pony"), details);
  assert.match(await box.getByTestId("gallery-prompt").textContent(), new RegExp(`gallery e2e wide ${run}`));
  // Focus starts inside the dialog.
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), "gallery-lightbox-close");
  await shot(page, "gallery-lightbox");

  // ← and → move between the page's results (newest first: tall, wide, square).
  await page.keyboard.press("ArrowRight");
  assert.equal(await box.getAttribute("data-id"), made.square.id);
  await page.keyboard.press("ArrowLeft");
  await page.keyboard.press("ArrowLeft");
  assert.equal(await box.getAttribute("data-id"), made.tall.id);
  await page.keyboard.press("ArrowRight");
  assert.equal(await box.getAttribute("data-id"), made.wide.id);

  // The image is a toggle button: Enter shows actual pixels, Space fits it again.
  const zoom = box.getByTestId("gallery-lightbox-zoom");
  await zoom.focus();
  assert.equal(await zoom.getAttribute("aria-pressed"), "false");
  await page.keyboard.press("Enter");
  assert.equal(await zoom.getAttribute("aria-pressed"), "true");
  assert.equal(await zoom.getAttribute("aria-label"), "Fit to the window");
  assert.equal(await box.getAttribute("data-id"), made.wide.id);
  await page.keyboard.press("Space");
  assert.equal(await zoom.getAttribute("aria-pressed"), "false");

  // Tab stays in the dialog.
  for (let i = 0; i < 8; i++) await page.keyboard.press("Tab");
  assert.ok(await page.evaluate(() => document.querySelector('[data-testid="gallery-lightbox"]').contains(document.activeElement)));

  const link = box.getByTestId("gallery-download");
  assert.match(await link.getAttribute("download"), /^gooni-pony-[0-9a-f]{8}\.png$/);
  const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
  assert.match(download.suggestedFilename(), /^gooni-pony-[0-9a-f]{8}\.png$/);
  assert.equal(await download.failure(), null);

  await page.keyboard.press("Escape");
  await box.waitFor({ state: "detached" });
  // Focus returns to the card shown last.
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.galleryId), made.wide.id);
});

test("delete asks first, then the result is gone from the page and the API", async () => {
  // Cancel keeps it.
  await card(made.square.id).getByTestId("gallery-delete").click();
  const dialog = page.getByTestId("gallery-confirm");
  await dialog.waitFor();
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
  assert.equal(await card(made.square.id).count(), 1);

  const before = Number(await page.getByTestId("gallery-total").getAttribute("data-total"));
  await card(made.square.id).getByTestId("gallery-delete").click();
  await dialog.waitFor();
  const deleted = page.waitForResponse((r) => r.request().method() === "DELETE" && r.url().endsWith(`/gallery/${made.square.id}`));
  await dialog.getByTestId("gallery-confirm-delete").click();
  assert.equal((await deleted).status(), 204);
  await dialog.waitFor({ state: "detached" });
  await card(made.square.id).waitFor({ state: "detached" });
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid="gallery-total"]')?.dataset.total) === n, before - 1);

  // Deleting from the lightbox works too.
  await card(made.tall.id).getByTestId("gallery-open").click();
  await page.getByTestId("gallery-lightbox-delete").click();
  await page.getByTestId("gallery-confirm-delete").click();
  await page.getByTestId("gallery-lightbox").waitFor({ state: "detached" });
  await card(made.tall.id).waitFor({ state: "detached" });

  const { status, body } = await api("GET", "/gallery?per_page=100");
  assert.equal(status, 200);
  const ids = body.items.map((it) => it.id);
  assert.ok(!ids.includes(made.square.id) && !ids.includes(made.tall.id), "deleted items still listed by the API");
  assert.ok(ids.includes(made.wide.id));
});

test("fits a phone screen, in the light theme too", async () => {
  const phone = await openPage(browser, "/#/gallery", { theme: "light", viewport: { width: 390, height: 844 } });
  await signIn(phone);
  await phone.locator(`[data-testid="gallery-item"][data-id="${made.wide.id}"]`).waitFor();
  assert.equal(await phone.evaluate(() => document.documentElement.dataset.theme), "light");
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
  await phone.locator(`[data-testid="gallery-item"][data-id="${made.wide.id}"]`).getByTestId("gallery-open").click();
  const box = phone.getByTestId("gallery-lightbox");
  await box.waitFor();
  const rect = await box.boundingBox();
  assert.ok(rect.x >= 0 && rect.x + rect.width <= 390, JSON.stringify(rect));
  await phone.keyboard.press("Escape");
  await box.waitFor({ state: "detached" });
  assert.deepEqual(phone.problems, []);
  await phone.context().close();
});

test("speaks Russian", async () => {
  await page.getByTestId("lang").selectOption("ru");
  assert.equal(await page.locator("#gallery-title").textContent(), "Галерея");
  assert.match(await page.getByTestId("gallery-page").textContent(), /^Страница 1 из \d+$/);
  await page.getByTestId("lang").selectOption("en");
  assert.deepEqual(page.problems, []);
});
