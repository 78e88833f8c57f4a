// The condition language must agree with settings/expr.go (cases from settings/expr_test.go).
import { describe, expect, it } from "vitest";
import { evalExpr, parseExpr } from "./expr";
import { evalFormula } from "./arith";

describe("visible_if / required_if conditions", () => {
  const cases: [string, string, boolean][] = [
    ["mode == i2v", "i2v", true],
    ["mode == i2v", "t2v", false],
    ["mode != i2v", "t2v", true],
    ["mode == i2v || mode == arbitrary_frame", "arbitrary_frame", true],
    ["mode == i2v || mode == arbitrary_frame", "first_last_frame", false],
    ["mode == 'i2v'", "i2v", true],
    ['mode == "first_last_frame"', "first_last_frame", true],
    ["mode == a || mode == b && mode == c", "a", true], // && binds tighter
    ["(mode == a || mode == b) && mode == c", "a", false],
    ["mode != a && mode != b", "c", true],
    ["mode != a && mode != b", "b", false],
  ];
  for (const [src, mode, want] of cases) {
    it(`${src} in ${mode} is ${want}`, () => expect(evalExpr(parseExpr(src), { mode })).toBe(want));
  }
  for (const bad of ["", "mode", "mode ==", "model == x", "mode == x ||", "(mode == x", "mode == x)", "mode = x", 'mode == "x', "mode == x $"]) {
    it(`rejects ${JSON.stringify(bad)}`, () => expect(() => parseExpr(bad)).toThrow());
  }
});

describe("estimate formulas", () => {
  it("evaluates arithmetic over parameters", () => {
    expect(evalFormula("(num_frames / fps) * 3.5", { num_frames: 81, fps: 16 })).toBeCloseTo(17.71875);
    expect(evalFormula("steps * 0.4", { steps: 25 })).toBeCloseTo(10);
    expect(evalFormula("-a + 2 * (b - 1)", { a: 1, b: 3 })).toBe(3);
    expect(evalFormula("1e1 / 4", {})).toBe(2.5);
  });
  it("gives null for unknown names, junk and division by zero", () => {
    expect(evalFormula("steps * 0.4", {})).toBeNull();
    expect(evalFormula("steps *", { steps: 1 })).toBeNull();
    expect(evalFormula("alert(1)", { alert: 1 })).toBeNull();
    expect(evalFormula("1 / 0", {})).toBeNull();
    expect(evalFormula("a; b", { a: 1, b: 2 })).toBeNull();
  });
});
