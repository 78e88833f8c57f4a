// Admin pages: sign in with the admin key, create a GPU worker account (its token shown once,
// then gone from the page), disable and enable it, start a maintenance workflow and follow its
// run to the Temporal Web UI, find the creation in the audit log, and ask the queues page why
// an unknown task is queued.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { adminKey, launch, openPage, pageStorage, shot, signIn } from "./lib.mjs";

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

test("an admin manages accounts, maintenance, the audit log and queue diagnostics", async () => {
  const page = await openPage(browser, "/admin");
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(page.url()).origin });
  await page.getByTestId("key-form").waitFor();
  await signIn(page, adminKey);

  // The accounts page is the default.
  await page.getByTestId("page-accounts").waitFor();
  assert.match(page.url(), /#\/accounts$/);

  // Create an account; the token is shown once with a copy button.
  const label = `e2e admin ${Date.now()}`;
  await page.getByTestId("account-new").click();
  const form = page.getByTestId("create-form");
  await form.waitFor();
  await page.getByTestId("create-label").fill(label);
  const lanes = page.locator('[data-testid^="create-lane-"]');
  await lanes.first().waitFor();
  await lanes.first().check();
  await page.getByTestId("create-limit").fill("2");
  await page.getByTestId("create-submit").click();

  const dialog = page.getByTestId("token-dialog");
  await dialog.waitFor();
  const token = await page.getByTestId("token-value").inputValue();
  assert.match(token, /^[0-9a-f-]{36}\.[A-Za-z0-9_-]{40,}$/, "a worker token <account id>.<secret>");
  const accountId = token.split(".")[0];
  await dialog.getByText("shown only once").waitFor();
  const copy = page.getByTestId("token-copy");
  assert.equal(await copy.count(), 1, "a copy button");
  await copy.click();
  await page.waitForFunction(() => {
    const b = document.querySelector('[data-testid="token-copy"]');
    const note = document.querySelector('[data-testid="token-dialog"] [aria-live]');
    return b?.textContent === "Copied" || (note?.textContent ?? "").trim().length > 0;
  });
  await page.getByTestId("token-close").click();
  await dialog.waitFor({ state: "detached" });

  // Closed: the token is nowhere in the page, its storage or its URL.
  assert.ok(!(await page.content()).includes(token.split(".")[1]), "the token's secret is still in the page");
  const inputs = await page.evaluate(() => Array.from(document.querySelectorAll("input")).map((i) => i.value).join("\n"));
  assert.ok(!inputs.includes(token), "the token is still in an input");
  for (const [where, value] of Object.entries(await pageStorage(page))) {
    assert.ok(!value.includes(token.split(".")[1]), `the token is in ${where}`);
  }

  // The account is listed, waiting for its worker.
  const row = page.locator(`[data-testid="account-row"][data-account-id="${accountId}"]`);
  await row.waitFor();
  assert.equal(await row.getAttribute("data-label"), label);
  assert.equal(await row.getAttribute("data-status"), "pending");
  assert.match(await row.getByTestId("account-status").innerText(), /Waiting for a worker/);

  // Disable it, then enable it again.
  await row.getByTestId("account-disable").click();
  await page.getByTestId("confirm-dialog").waitFor();
  await page.getByTestId("confirm-reason").fill("browser test");
  await page.getByTestId("confirm-ok").click();
  await page.locator(`[data-testid="account-row"][data-account-id="${accountId}"][data-status="disabled"]`).waitFor();
  assert.match(await row.getByTestId("account-status").innerText(), /Disabled/);
  await row.getByTestId("account-enable").click();
  await page.getByTestId("confirm-ok").click();
  await page.locator(`[data-testid="account-row"][data-account-id="${accountId}"][data-status="pending"]`).waitFor();
  assert.match(await page.getByTestId("notice").innerText(), /enabled/);

  // Russian, then back to English.
  await page.getByTestId("lang").selectOption("ru");
  assert.equal(await page.getByTestId("nav-accounts").innerText(), "Аккаунты");
  await page.getByTestId("lang").selectOption("en");
  await shot(page, "admin-accounts");

  // Maintenance: start reconcile and follow its run to the Temporal Web UI.
  await page.getByTestId("nav-maintenance").click();
  await page.getByTestId("page-maintenance").waitFor();
  for (const name of ["cleanup", "reconcile", "warmup", "audit-retention", "rotate-keys", "health-sweep"]) {
    await page.getByTestId(`wf-${name}-start`).waitFor();
  }
  await page.getByTestId("wf-reconcile-start").click();
  const started = page.getByTestId("maintenance-started");
  await started.waitFor();
  const startedLink = started.getByTestId("run-link");
  const workflowId = await startedLink.getAttribute("data-workflow-id");
  assert.ok(workflowId, "the started run names its workflow");
  assert.ok((await startedLink.getAttribute("href")).includes(encodeURIComponent(workflowId)), "the link names the workflow");
  assert.equal(await startedLink.getAttribute("target"), "_blank");
  assert.equal(await startedLink.getAttribute("rel"), "noopener noreferrer");
  const runRow = page.locator(`[data-testid="run-row"][data-workflow-id="${workflowId}"]`).first();
  await runRow.waitFor({ timeout: 30_000 });
  const runHref = await runRow.getByTestId("run-link").getAttribute("href");
  assert.ok(runHref.includes(encodeURIComponent(workflowId)), `the run's Temporal link ${runHref} names ${workflowId}`);
  await page.waitForFunction(
    (id) => document.querySelector(`[data-testid="run-row"][data-workflow-id="${id}"] [data-testid="run-status"]`)?.textContent === "Completed",
    workflowId,
    { timeout: 30_000 },
  );
  await shot(page, "admin-maintenance");

  // The audit log lists the account's creation; the action filter keeps only such rows.
  await page.getByTestId("nav-audit").click();
  await page.getByTestId("page-audit").waitFor();
  await page.locator(`[data-testid="audit-row"][data-action="accounts.create"][data-target="${accountId}"]`).waitFor();
  await page.getByTestId("audit-action").fill("accounts.create");
  await page.getByTestId("audit-apply").click();
  await page.waitForURL(/#\/audit\?action=accounts\.create/);
  await page.waitForFunction(() => {
    const rows = Array.from(document.querySelectorAll('[data-testid="audit-row"]'));
    return rows.length > 0 && rows.every((r) => r.getAttribute("data-action") === "accounts.create");
  });
  await page.locator(`[data-testid="audit-row"][data-target="${accountId}"]`).waitFor();
  await page.getByTestId("audit-action").fill("");
  await page.getByTestId("audit-apply").click();
  await page.waitForURL(/#\/audit$/);
  await page.locator(`[data-testid="audit-row"][data-action="accounts.enable"][data-target="${accountId}"]`).waitFor();
  await shot(page, "admin-audit");

  // Queues: the lanes render, and the why-box answers with the API's envelope.
  await page.getByTestId("nav-queues").click();
  await page.getByTestId("page-queues").waitFor();
  await page.getByTestId("lane-row").first().waitFor();
  await page.getByTestId("why-input").fill(randomUUID());
  await page.getByTestId("why-submit").click();
  const whyError = page.getByTestId("why-result").getByTestId("error");
  await whyError.waitFor();
  assert.equal(await whyError.getAttribute("data-code"), "task_not_found");
  assert.match(await whyError.innerText(), /What to do/);
  await shot(page, "admin-queues");

  // Clean up: delete the account (confirmed), and it leaves the list.
  await page.getByTestId("nav-accounts").click();
  await row.getByTestId("account-delete").click();
  await page.getByTestId("confirm-ok").click();
  await row.waitFor({ state: "detached" });
  // The row that opened the dialog is gone: focus lands on the page's heading, not the body.
  await page.waitForFunction(() => document.activeElement?.matches('[data-testid="page-accounts"] h2'), null, { timeout: 5_000 });

  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("the admin pages fit a phone, in Russian and the light theme, and show the system's health", async () => {
  const page = await openPage(browser, "/admin#/health", { lang: "ru", theme: "light", viewport: { width: 390, height: 844 } });
  await signIn(page, adminKey);
  await page.getByTestId("page-health").waitFor();
  const status = page.getByTestId("health-status");
  await status.waitFor();
  assert.match(await status.innerText(), /Всё в порядке|Есть проблемы/);
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), "light");
  for (const nav of ["accounts", "maintenance", "audit", "queues", "health"]) {
    await page.getByTestId(`nav-${nav}`).click();
    await page.getByTestId(`page-${nav}`).waitFor();
    await page.getByTestId("loading").waitFor({ state: "detached" });
    // Wide tables scroll inside their own box; the page itself never scrolls sideways.
    const { overflow, culprit } = await page.evaluate(() => {
      const w = document.documentElement.clientWidth;
      // The outermost element sticking out names the culprit in a failure.
      const clipped = (el) => {
        for (let p = el.parentElement; p; p = p.parentElement) if (getComputedStyle(p).overflowX !== "visible") return true;
        return false;
      };
      const out = Array.from(document.querySelectorAll("body *")).find((el) => el.getBoundingClientRect().right > w + 1 && !clipped(el));
      const name = out ? `${out.tagName.toLowerCase()}.${out.className} ${(out.textContent ?? "").slice(0, 40)}` : "";
      return { overflow: document.documentElement.scrollWidth - w, culprit: name };
    });
    assert.ok(overflow <= 1, `#/${nav} is ${overflow}px wider than the phone (${culprit})`);
  }
  await page.getByTestId("nav-accounts").click();
  assert.equal(await page.getByTestId("account-new").innerText(), "Новый аккаунт");
  await shot(page, "admin-phone-ru-light");
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
