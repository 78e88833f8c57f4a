import { describe, expect, it } from "vitest";
import { changeQuery, defaultQuery, pageCount, parseQuery, perPageChoices, queryToApi, queryToParams } from "./query";

const p = (s: string) => new URLSearchParams(s);

describe("parseQuery", () => {
  it("gives the defaults for an empty hash query", () => {
    expect(parseQuery(p(""))).toEqual(defaultQuery);
  });

  it("reads every field", () => {
    expect(parseQuery(p("page=3&per_page=2&sort=width&model=pony&type=video"))).toEqual({
      page: 3,
      perPage: 2,
      sort: "width",
      model: "pony",
      type: "video",
    });
  });

  it("falls back to the default for each bad value, keeping the good ones", () => {
    expect(parseQuery(p("page=0&per_page=101&sort=name&type=audio&model=flux"))).toEqual({ ...defaultQuery, model: "flux" });
    expect(parseQuery(p("page=-2&per_page=abc")).page).toBe(1);
    expect(parseQuery(p("page=1.5")).page).toBe(1);
    expect(parseQuery(p("per_page=0")).perPage).toBe(defaultQuery.perPage);
    expect(parseQuery(p("per_page=100")).perPage).toBe(100);
  });
});

describe("queryToParams", () => {
  it("writes nothing for the defaults", () => {
    expect(Object.values(queryToParams(defaultQuery)).filter((v) => v !== undefined)).toEqual([]);
  });

  it("round-trips through the hash query", () => {
    const q = { page: 4, perPage: 12, sort: "height" as const, model: "anisora", type: "video" as const };
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(queryToParams(q))) if (v !== undefined) qs.set(k, String(v));
    expect(parseQuery(qs)).toEqual(q);
  });
});

describe("queryToApi", () => {
  it("always sends page, per_page and sort, and filters only when set", () => {
    expect(queryToApi(defaultQuery)).toEqual({ page: 1, per_page: defaultQuery.perPage, sort: "created_at", model: undefined, type: undefined });
    expect(queryToApi({ ...defaultQuery, model: "pony", type: "image" })).toMatchObject({ model: "pony", type: "image" });
  });
});

describe("changeQuery", () => {
  const onPage3 = { ...defaultQuery, page: 3 };
  it("returns to page 1 when the list changes", () => {
    expect(changeQuery(onPage3, { model: "pony" }).page).toBe(1);
    expect(changeQuery(onPage3, { type: "image" }).page).toBe(1);
    expect(changeQuery(onPage3, { sort: "model" }).page).toBe(1);
    expect(changeQuery(onPage3, { perPage: 48 }).page).toBe(1);
  });
  it("keeps the page when nothing really changed, and moves it when asked", () => {
    expect(changeQuery(onPage3, { sort: "created_at" }).page).toBe(3);
    expect(changeQuery(onPage3, { page: 4 }).page).toBe(4);
    expect(changeQuery(onPage3, { model: "pony", page: 2 }).page).toBe(2);
  });
});

describe("paging helpers", () => {
  it("counts at least one page", () => {
    expect(pageCount(0, 24)).toBe(1);
    expect(pageCount(24, 24)).toBe(1);
    expect(pageCount(25, 24)).toBe(2);
    expect(pageCount(3, 1)).toBe(3);
  });
  it("offers an unusual current page size among the standard ones", () => {
    expect(perPageChoices(24)).toEqual([12, 24, 48, 96]);
    expect(perPageChoices(2)).toEqual([2, 12, 24, 48, 96]);
  });
});
