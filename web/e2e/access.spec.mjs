// Access: the key is entered once, exchanged for the httpOnly session, and kept nowhere in the page.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { adminKey, apiKey, launch, openPage, pageStorage, signIn } from "./lib.mjs";

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

test("the API key becomes a session and is kept nowhere the page can read", async () => {
  const page = await openPage(browser, "/");
  await page.getByTestId("key-form").waitFor();
  await signIn(page);
  const stored = await pageStorage(page);
  for (const [where, value] of Object.entries(stored)) {
    assert.ok(!value.includes(apiKey), `the API key is in ${where}`);
  }
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === "gg_session");
  assert.ok(session, "the session cookie is set");
  assert.equal(session.httpOnly, true);

  // A reload keeps the session: no key asked again.
  await page.reload();
  await page.getByTestId("sign-out").waitFor();
  assert.equal(await page.getByTestId("key-form").count(), 0);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("a wrong key shows the envelope's detail and what to do", async () => {
  const page = await openPage(browser, "/");
  await page.getByTestId("key-input").fill("not-the-key-at-all");
  await page.getByTestId("key-submit").click();
  const err = page.getByTestId("error");
  await err.waitFor();
  assert.equal(await err.getAttribute("data-code"), "invalid_api_key");
  await page.context().close();
});

test("the admin pages take the admin key, not the API key", async () => {
  const page = await openPage(browser, "/admin");
  await page.getByTestId("key-input").fill(apiKey);
  await page.getByTestId("key-submit").click();
  await page.getByTestId("error").waitFor();
  await signIn(page, adminKey);
  const stored = await pageStorage(page);
  for (const [where, value] of Object.entries(stored)) {
    assert.ok(!value.includes(adminKey), `the admin key is in ${where}`);
  }
  await page.context().close();
});
