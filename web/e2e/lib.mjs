// Shared setup of the browser scenarios: Debian's Chromium driven by playwright-core, the stack's
// address and keys from the Go test (internal/stack/studio_browser_test.go), screenshots.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the scenarios through 'go test ./internal/stack -run TestStudioInChromium'`);
  return v;
}

export const baseURL = env("GOONI_E2E_BASE_URL");
export const apiKey = env("GOONI_E2E_API_KEY");
export const adminKey = env("GOONI_E2E_ADMIN_KEY");
const screenshots = process.env.GOONI_E2E_SCREENSHOTS;
/** A scratch directory for files a scenario makes (uploads, downloads). */
export const artifacts = env("GOONI_E2E_ARTIFACTS");

/** Starts headless Chromium; the flags keep it off the network beyond loopback. */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
}

/**
 * Opens a fresh context and page (own cookies and storage) at path, English and dark unless
 * told otherwise. What went wrong is collected in page.problems: uncaught page errors, console
 * errors, server errors (5xx), requests that never got an answer, and any 4xx of the bundle's own
 * files. A 4xx of an API route is an answer the page shows as an error envelope (a wrong key, an
 * unknown task): scenarios assert on what the page shows instead, so the browser's
 * "Failed to load resource" line for it is not a problem.
 */
export async function openPage(browser, path = "/", { lang = "en", theme = "dark", viewport = { width: 1360, height: 900 } } = {}) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  await context.addInitScript(
    ([l, th]) => {
      if (!localStorage.getItem("gooni.lang")) localStorage.setItem("gooni.lang", l);
      if (!localStorage.getItem("gooni.theme")) localStorage.setItem("gooni.theme", th);
    },
    [lang, theme],
  );
  const page = await context.newPage();
  page.problems = [];
  page.on("pageerror", (e) => page.problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) page.problems.push(`console: ${m.text()}`);
  });
  page.on("response", (r) => {
    const { pathname } = new URL(r.url());
    const ownFile = pathname === "/" || pathname === "/admin" || pathname.startsWith("/assets/");
    if (r.status() >= 500 || (r.status() >= 400 && ownFile)) page.problems.push(`${r.status()} ${r.request().method()} ${pathname}`);
  });
  page.on("requestfailed", (r) => {
    const failure = r.failure()?.errorText ?? "";
    // A stream or fetch the page itself aborted (navigation, cancel, unmount) is not a problem.
    if (!/ERR_ABORTED/.test(failure)) page.problems.push(`request failed: ${r.method()} ${new URL(r.url()).pathname} ${failure}`);
  });
  page.setDefaultTimeout(20_000);
  await page.goto(baseURL + path);
  return page;
}

/** Signs in with the API key through the key form (exchanged for the session cookie). */
export async function signIn(page, key = apiKey) {
  await page.getByTestId("key-input").fill(key);
  await page.getByTestId("key-submit").click();
  await page.getByTestId("key-form").waitFor({ state: "detached" });
}

/** Writes a full-page screenshot to the screenshots directory (docs/screenshots) as name.png. */
export async function shot(page, name) {
  if (!screenshots) return;
  mkdirSync(screenshots, { recursive: true });
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}

/** Everything the page keeps in storage and its URL: none of it may hold a key. */
export async function pageStorage(page) {
  return page.evaluate(() => ({
    url: window.location.href,
    local: JSON.stringify({ ...localStorage }),
    session: JSON.stringify({ ...sessionStorage }),
    cookie: document.cookie,
  }));
}
