// The estimate formulas of ui_logic.estimation ("(num_frames / fps) * 3.5") evaluated without
// eval or new Function (the page's CSP forbids both): numbers, parameter names, + - * /,
// unary minus and parentheses.

type Tok = { kind: "num"; value: number } | { kind: "name"; name: string } | { kind: "op"; op: string };

function lex(src: string): Tok[] {
  const toks: Tok[] = [];
  const re = /\s*(?:(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|([-+*/()]))/y;
  let i = 0;
  while (i < src.length) {
    if (/^\s*$/.test(src.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(src);
    if (!m) throw new Error(`unexpected character at offset ${i} in ${JSON.stringify(src)}`);
    if (m[1] !== undefined) toks.push({ kind: "num", value: Number(m[1]) });
    else if (m[2] !== undefined) toks.push({ kind: "name", name: m[2] });
    else toks.push({ kind: "op", op: m[3] });
    i = re.lastIndex;
  }
  return toks;
}

/**
 * Evaluates formula with vars; a name with no numeric value, a syntax error or a non-finite
 * result (division by zero) gives null.
 */
export function evalFormula(formula: string, vars: Record<string, number | undefined>): number | null {
  let toks: Tok[];
  try {
    toks = lex(formula);
  } catch {
    return null;
  }
  let pos = 0;
  const isOp = (op: string) => pos < toks.length && toks[pos].kind === "op" && (toks[pos] as { op: string }).op === op;
  const sum = (): number => {
    let v = product();
    for (;;) {
      if (isOp("+")) (pos++, (v += product()));
      else if (isOp("-")) (pos++, (v -= product()));
      else return v;
    }
  };
  const product = (): number => {
    let v = unary();
    for (;;) {
      if (isOp("*")) (pos++, (v *= unary()));
      else if (isOp("/")) (pos++, (v /= unary()));
      else return v;
    }
  };
  const unary = (): number => {
    if (isOp("-")) return pos++, -unary();
    if (isOp("+")) return pos++, unary();
    return atom();
  };
  const atom = (): number => {
    const t = toks[pos++];
    if (!t) throw new Error("unexpected end");
    if (t.kind === "num") return t.value;
    if (t.kind === "name") {
      const v = vars[t.name];
      if (v === undefined || !Number.isFinite(v)) throw new Error(`unknown ${t.name}`);
      return v;
    }
    if (t.op === "(") {
      const v = sum();
      if (!isOp(")")) throw new Error("missing )");
      pos++;
      return v;
    }
    throw new Error(`unexpected ${t.op}`);
  };
  try {
    const v = sum();
    if (pos !== toks.length) return null;
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}
