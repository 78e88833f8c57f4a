// The studio: generate an image, see it, find it in the gallery and delete it, watch progress move, cancel a video, resume a task
// after a reload, catch bad values before anything is sent, keep the form through a lost
// session, and speak Russian. Runs against the real stack (see lib.mjs).
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { artifacts, baseURL, launch, openPage, shot as fullShot, signIn } from "./lib.mjs";

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

/** A full-page screenshot from the top (the sticky header would otherwise land mid-page). */
async function shot(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await fullShot(page, name);
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Opens the studio signed in, with a clean form. */
async function studio(opts) {
  const page = await openPage(browser, "/", opts);
  await signIn(page);
  await page.getByTestId("studio-form").waitFor();
  return page;
}

/** Records every POST /generate the page sends. */
function watchSubmissions(page) {
  const sent = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && new URL(r.url()).pathname === "/generate") sent.push({ headers: r.headers(), body: r.postDataJSON() });
  });
  return sent;
}

/** Picks type, model and mode and fills the prompt. */
async function choose(page, { type, model, mode, prompt }) {
  await page.getByTestId("type-" + type).click();
  await page.getByTestId("model").selectOption(model);
  await page.getByTestId("mode-" + mode).check();
  if (prompt !== undefined) await page.getByTestId("field-prompt").fill(prompt);
}

/** Shows the advanced parameters and fills them. */
async function fillAdvanced(page, values) {
  const toggle = page.getByTestId("advanced");
  if (!(await toggle.isChecked())) await toggle.check();
  for (const [name, v] of Object.entries(values)) {
    const el = page.getByTestId("field-" + name);
    if ((await el.evaluate((e) => e.tagName)) === "SELECT") await el.selectOption(String(v));
    else await el.fill(String(v));
  }
}

const panel = (page) => page.getByTestId("task-panel");
const status = (page) => panel(page).getAttribute("data-status");
const progress = async (page) => Number(await panel(page).getAttribute("data-progress"));

/** Waits until the task panel shows one of the statuses. */
async function waitStatus(page, statuses, timeout = 90_000) {
  await page.waitForFunction(
    (want) => want.includes(document.querySelector('[data-testid="task-panel"]')?.getAttribute("data-status")),
    statuses,
    { timeout, polling: 100 },
  );
}

test("an image is generated with live progress, shown with a download link, found in the gallery and deleted there", async () => {
  const page = await studio();
  const sent = watchSubmissions(page);
  await choose(page, { type: "image", model: "Pony_V6_XL", mode: "txt2img", prompt: "a lighthouse at dusk, oil painting" });
  // The "Quick test" quality preset sets the size and scales the default steps (25 × 0.7 → the minimum, 20).
  await fillAdvanced(page, { width: 1024, height: 1024, steps: 40 });
  await page.getByTestId("quality-quick_test").click();
  assert.equal(await page.getByTestId("quality-quick_test").getAttribute("aria-pressed"), "true");
  for (const [name, v] of [["width", "512"], ["height", "512"], ["steps", "20"]]) {
    assert.equal(await page.getByTestId("field-" + name).inputValue(), v, name);
  }
  assert.match(await page.getByTestId("estimate").innerText(), /8 s/);
  await shot(page, "studio");

  await page.getByTestId("submit").click();
  await panel(page).waitFor();
  assert.equal(sent.length, 1);
  assert.match(sent[0].headers["idempotency-key"], uuid, "a fresh UUID as Idempotency-Key");
  assert.deepEqual(
    { model: sent[0].body.model, mode: sent[0].body.mode, width: sent[0].body.width, height: sent[0].body.height, steps: sent[0].body.steps },
    { model: "pony", mode: "txt2img", width: 512, height: 512, steps: 20 },
  );
  const taskId = await page.getByTestId("task-id").innerText();
  assert.match(page.url(), new RegExp(`#/\\?task=${taskId}$`), "the task is in the hash");

  // Progress moves: sample it while the task runs.
  const seen = [];
  const steps = new Set();
  let shotTaken = false;
  for (let i = 0; i < 600; i++) {
    const s = await status(page);
    const p = await progress(page);
    if (seen.at(-1) !== p) seen.push(p);
    if (s === "processing" && p > 0) {
      steps.add(await page.getByTestId("task-step").innerText());
      assert.equal(await panel(page).getAttribute("data-via"), "stream", "updates come from the event stream");
      if (!shotTaken && p >= 20) {
        await shot(page, "studio-progress");
        shotTaken = true;
      }
    }
    if (s === "done" || s === "failed" || s === "cancelled") break;
    await page.waitForTimeout(100);
  }
  assert.equal(await status(page), "done");
  const moving = seen.filter((p) => p > 0 && p < 100);
  assert.ok(moving.length >= 3, `progress moved through several values: ${seen.join(", ")}`);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i] >= seen[i - 1], `progress never goes back: ${seen.join(", ")}`);
  assert.ok([...steps].some((x) => /^step \d+\/20$/.test(x)), `the step is shown: ${[...steps].join(", ")}`);
  assert.notEqual(await page.getByTestId("task-stage").innerText(), "—");

  const img = page.getByTestId("result-image");
  await img.waitFor();
  await page.waitForFunction(() => {
    const el = document.querySelector('[data-testid="result-image"]');
    return el && el.complete && el.naturalWidth > 0;
  });
  assert.equal(await img.evaluate((el) => el.naturalWidth), 512);
  const link = page.getByTestId("result-download");
  assert.equal(await link.getAttribute("download"), "");
  const href = await link.getAttribute("href");
  assert.match(href, new RegExp(`/results/${taskId}\\?.*sig=`), "a signed result URL from the status");
  const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
  assert.ok(await download.path(), "the download completes");
  await shot(page, "studio-result");

  // The same result is in the gallery, and deleting it there removes it.
  await page.getByTestId("nav-gallery").click();
  const card = page.locator(`[data-testid="gallery-item"][data-id="${taskId}"]`);
  await card.waitFor();
  await page.waitForFunction((id) => {
    const img = document.querySelector(`[data-testid="gallery-item"][data-id="${id}"] [data-testid="gallery-preview"]`);
    return img && img.complete && img.naturalWidth > 0;
  }, taskId);
  await card.getByTestId("gallery-delete").click();
  await page.getByTestId("gallery-confirm-delete").click();
  await card.waitFor({ state: "detached" });
  // The context's requests carry the session cookie: the API no longer knows the task.
  const gone = await page.request.get(`${baseURL}/status/${taskId}`);
  assert.equal(gone.status(), 404);
  assert.equal((await gone.json()).code, "task_not_found");
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("a video can be cancelled while it runs", async () => {
  const page = await studio();
  await choose(page, { type: "video", model: "Index-AniSora_V3.2", mode: "t2v", prompt: "waves rolling onto a beach" });
  // The fixed steps are shown locked with their warning; the unlocked guidance_scale is editable.
  assert.equal(await page.getByTestId("field-steps").isDisabled(), true);
  assert.equal(await page.getByTestId("field-guidance_scale").isDisabled(), false);
  await fillAdvanced(page, { width: 512, height: 512, fps: 16 });
  await page.getByTestId("duration-3").click();
  assert.equal(await page.getByTestId("field-num_frames").inputValue(), "49");
  await page.getByTestId("submit").click();
  await waitStatus(page, ["processing"]);
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="task-panel"]')?.getAttribute("data-progress")) > 0, null, {
    polling: 50,
  });
  await page.getByTestId("task-cancel").click();
  await waitStatus(page, ["cancelled"], 30_000);
  await page.getByTestId("task-cancelled").waitFor();
  assert.equal(await page.getByTestId("result").count(), 0);
  assert.ok((await progress(page)) < 100);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("a finished video plays in a player that can seek", async () => {
  const page = await studio();
  await choose(page, { type: "video", model: "Phr00t_WAN_Rapid_AllInOne_NSFW_v12", mode: "t2v", prompt: "a paper boat on a stream" });
  await fillAdvanced(page, { width: 512, height: 512, fps: 8, num_frames: 49 });
  await page.getByTestId("submit").click();
  await waitStatus(page, ["done"]);
  const video = page.getByTestId("result-video");
  await video.waitFor();
  assert.equal(await video.getAttribute("controls"), "");
  await page.waitForFunction(() => {
    const v = document.querySelector('[data-testid="result-video"]');
    return v && v.readyState >= 1 && v.duration > 0;
  });
  const seeked = await video.evaluate(
    (v) =>
      new Promise((resolve) => {
        v.addEventListener("seeked", () => resolve(v.currentTime), { once: true });
        v.currentTime = v.duration / 2;
      }),
  );
  assert.ok(seeked > 0, "the player seeks (the server answers Range requests)");
  assert.match(await page.getByTestId("result-download").getAttribute("href"), /\/results\/.*sig=/);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("a reload while a task runs keeps watching it and keeps the form", async () => {
  const page = await studio();
  await choose(page, { type: "image", model: "Pony_V6_XL", mode: "txt2img", prompt: "a red fox in snow" });
  await fillAdvanced(page, { width: 512, height: 512, steps: 20 });
  await page.getByTestId("submit").click();
  await waitStatus(page, ["processing"]);
  const taskId = await page.getByTestId("task-id").innerText();

  await page.reload();
  await panel(page).waitFor();
  assert.equal(await page.getByTestId("task-id").innerText(), taskId);
  assert.equal(await page.getByTestId("field-prompt").inputValue(), "a red fox in snow");
  assert.equal(await page.getByTestId("field-steps").inputValue(), "20");
  await waitStatus(page, ["done"]);
  await page.getByTestId("result-image").waitFor();

  // Closing the result forgets the task: a reload shows the empty panel.
  await page.getByTestId("task-dismiss").click();
  await page.reload();
  await page.getByTestId("task-empty").waitFor();
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("a task that no longer exists says so and can be closed", async () => {
  const page = await openPage(browser, "/#/?task=00000000-0000-4000-8000-000000000000");
  await signIn(page);
  const err = page.getByTestId("task-panel").getByTestId("error");
  await err.waitFor();
  assert.equal(await err.getAttribute("data-code"), "task_not_found");
  assert.equal(await page.getByTestId("task-cancel").count(), 0);
  await page.getByTestId("task-dismiss").click();
  await page.getByTestId("task-empty").waitFor();
  assert.doesNotMatch(page.url(), /task=/);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("bad values are shown next to their fields and nothing is sent", async () => {
  const page = await studio();
  const sent = watchSubmissions(page);
  await choose(page, { type: "image", model: "Pony_V6_XL", mode: "txt2img", prompt: "" });
  await fillAdvanced(page, { steps: 61, width: 700 });
  await page.getByTestId("submit").click();
  await page.getByTestId("field-error-prompt").waitFor();
  assert.match(await page.getByTestId("field-error-steps").innerText(), /between 20 and 60/);
  assert.match(await page.getByTestId("field-error-width").innerText(), /multiple of 16/);
  assert.equal(await page.getByTestId("field-prompt").getAttribute("aria-invalid"), "true");
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("data-testid")), "field-prompt", "focus goes to the first problem");

  // A file of the wrong type is refused before anything is uploaded.
  await page.getByTestId("mode-img2img").check();
  const gif = join(artifacts, "not-accepted.gif");
  writeFileSync(gif, Buffer.from("R0lGODlhAQABAAAAACw=", "base64"));
  await page.getByTestId("upload-reference_image").setInputFiles(gif);
  assert.match(await page.getByTestId("field-error-reference_image").innerText(), /image\/gif/);
  assert.equal(await page.getByTestId("thumb-reference_image").count(), 0);
  // A PNG is accepted and shown as a thumbnail.
  const png = join(artifacts, "ref.png");
  writeFileSync(png, Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==", "base64"));
  await page.getByTestId("upload-reference_image").setInputFiles(png);
  await page.getByTestId("thumb-reference_image").waitFor();
  assert.equal(await page.getByTestId("field-error-reference_image").count(), 0);

  assert.equal(sent.length, 0, "nothing was submitted");
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("a lost session asks for the key again without losing the form", async () => {
  const page = await studio();
  const sent = watchSubmissions(page);
  await choose(page, { type: "image", model: "Flux_dev_nf4", mode: "txt2img", prompt: "a quiet harbour" });
  await fillAdvanced(page, { width: 512, height: 512, steps: 15 });
  await page.context().clearCookies();
  await page.getByTestId("submit").click();
  await page.getByTestId("key-form").waitFor();
  // The form stays behind the dialog but out of reach: Tab keeps to the dialog.
  assert.equal(await page.getByTestId("studio-form").evaluate((f) => f.closest("[inert]") !== null), true, "the page behind is inert");
  await page.getByTestId("key-input").focus();
  for (let i = 0; i < 4; i++) {
    await page.keyboard.press("Tab");
    const inForm = await page.evaluate(() => !!document.activeElement?.closest('[data-testid="studio-form"]'));
    assert.equal(inForm, false, "Tab reached the form behind the key dialog");
  }
  await signIn(page);
  // Focus returns to the button that was pressed when the session turned out to be gone.
  await page.waitForFunction(() => document.activeElement?.getAttribute("data-testid") === "submit", null, { timeout: 5_000 });
  assert.equal(await page.getByTestId("field-prompt").inputValue(), "a quiet harbour");
  // The retry of the same request reuses its Idempotency-Key.
  await page.getByTestId("submit").click();
  await panel(page).waitFor();
  assert.equal(sent.length, 2);
  assert.equal(sent[1].headers["idempotency-key"], sent[0].headers["idempotency-key"]);
  await waitStatus(page, ["done"]);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("a submission whose answer was lost is sent again with its Idempotency-Key after a visit to the gallery, and runs once", async () => {
  const page = await studio();
  const sent = watchSubmissions(page);
  await choose(page, { type: "image", model: "Flux_dev_nf4", mode: "txt2img", prompt: `lost answer ${Date.now()}` });
  await fillAdvanced(page, { width: 512, height: 512, steps: 15 });
  // The server gets the first request and starts the task; its answer never reaches the page.
  let created;
  await page.route(
    "**/generate",
    async (route) => {
      created = await (await route.fetch()).json();
      await route.abort("connectionreset");
    },
    { times: 1 },
  );
  await page.getByTestId("submit").click();
  await page.locator('[data-testid="error"][data-code="network_error"]').waitFor();
  assert.match(created?.task_id ?? "", uuid, "the server made a task");
  // The user looks at the gallery and comes back: the form is there, and so is the pending key.
  await page.getByTestId("nav-gallery").click();
  await page.waitForURL(/#\/gallery/);
  await page.getByTestId("nav-").click();
  await page.getByTestId("studio-form").waitFor();
  await page.getByTestId("submit").click();
  await panel(page).waitFor();
  assert.equal(sent.length, 2);
  assert.equal(sent[1].headers["idempotency-key"], sent[0].headers["idempotency-key"]);
  assert.equal(await page.getByTestId("task-id").innerText(), created.task_id, "the same task, not a second one");
  await waitStatus(page, ["done"]);
  // A new submission after that one gets a new key.
  assert.equal(await page.evaluate(() => sessionStorage.getItem("gooni.studio.attempt")), null);
  assert.deepEqual(page.problems.filter((p) => !/net::ERR_CONNECTION_RESET|Failed to load resource/.test(p)), []);
  await page.context().close();
});

test("the studio speaks Russian and has a light theme", async () => {
  const page = await studio({ lang: "ru", theme: "light" });
  await choose(page, { type: "video", model: "Index-AniSora_V3.2", mode: "arbitrary_frame" });
  assert.equal(await page.getByTestId("submit").innerText(), "Сгенерировать");
  assert.equal(await page.getByTestId("type-video").innerText(), "Видео");
  await page.getByTestId("keyframe-add").click();
  await page.getByTestId("keyframe-frame-0").waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), "light");
  await shot(page, "studio-light");
  await page.getByTestId("lang").selectOption("en");
  assert.equal(await page.getByTestId("submit").innerText(), "Generate");
  await page.getByTestId("lang").selectOption("ru");
  // A keyframe past the clip's last frame is caught with a Russian message.
  await page.getByTestId("field-prompt").fill("танцующий кот");
  await page.getByTestId("keyframe-frame-0").fill("81");
  await page.getByTestId("submit").click();
  assert.match(await page.getByTestId("field-error-arbitrary_frames[0].frame_index").innerText(), /за пределами/);
  // On a phone the two columns stack and nothing is wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByTestId("advanced").check();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the studio is ${overflow}px wider than the phone`);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
