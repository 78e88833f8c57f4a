// visible_if / required_if conditions, parsed and evaluated exactly like settings/expr.go:
//
//   expr    = and { "||" and }
//   and     = primary { "&&" primary }
//   primary = "(" expr ")" | VAR ( "==" | "!=" ) VALUE
//   VALUE   = bare word [A-Za-z0-9_.-]+ | "double quoted" | 'single quoted'
//
// The only variable is "mode"; the right-hand side is always a literal. && binds tighter than ||.

export type Expr =
  | { kind: "cmp"; variable: string; value: string; negate: boolean }
  | { kind: "bool"; and: boolean; left: Expr; right: Expr };

const variables = ["mode"];

type Tok = { kind: "word" | "string" | "op"; text: string; off: number };

function isWordChar(c: string): boolean {
  return /^[A-Za-z0-9_.-]$/.test(c);
}

function lex(src: string): Tok[] {
  const toks: Tok[] = [];
  for (let i = 0; i < src.length; ) {
    const c = src[i];
    const two = src.slice(i, i + 2);
    if (c === " " || c === "\t" || c === "\n" || c === "\r") i++;
    else if (c === "(" || c === ")") toks.push({ kind: "op", text: c, off: i++ });
    else if (two === "==" || two === "!=" || two === "&&" || two === "||") {
      toks.push({ kind: "op", text: two, off: i });
      i += 2;
    } else if (c === '"' || c === "'") {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw new Error(`unterminated string at offset ${i}`);
      toks.push({ kind: "string", text: src.slice(i + 1, end), off: i });
      i = end + 1;
    } else if (isWordChar(c)) {
      let j = i;
      while (j < src.length && isWordChar(src[j])) j++;
      toks.push({ kind: "word", text: src.slice(i, j), off: i });
      i = j;
    } else throw new Error(`unexpected character ${JSON.stringify(c)} at offset ${i}`);
  }
  if (toks.length === 0) throw new Error("empty condition");
  return toks;
}

/** Parses a condition; throws an Error naming the problem, like the Go parser. */
export function parseExpr(src: string): Expr {
  const toks = lex(src);
  let pos = 0;
  const peekOp = (op: string) => pos < toks.length && toks[pos].kind === "op" && toks[pos].text === op;
  const or = (): Expr => {
    let left = and();
    while (peekOp("||")) {
      pos++;
      left = { kind: "bool", and: false, left, right: and() };
    }
    return left;
  };
  const and = (): Expr => {
    let left = primary();
    while (peekOp("&&")) {
      pos++;
      left = { kind: "bool", and: true, left, right: primary() };
    }
    return left;
  };
  const primary = (): Expr => {
    if (pos >= toks.length) throw new Error("unexpected end of condition");
    if (peekOp("(")) {
      pos++;
      const inner = or();
      if (!peekOp(")")) throw new Error("missing ')'");
      pos++;
      return inner;
    }
    const v = toks[pos];
    if (v.kind !== "word" || !variables.includes(v.text)) {
      throw new Error(`expected a variable (${variables.join(", ")}) at offset ${v.off}, found ${JSON.stringify(v.text)}`);
    }
    pos++;
    if (!peekOp("==") && !peekOp("!=")) throw new Error(`expected == or != after ${JSON.stringify(v.text)}`);
    const op = toks[pos++].text;
    if (pos >= toks.length || toks[pos].kind === "op") throw new Error(`expected a value after ${op}`);
    const lit = toks[pos++].text;
    return { kind: "cmp", variable: v.text, value: lit, negate: op === "!=" };
  };
  const root = or();
  if (pos < toks.length) throw new Error(`unexpected ${JSON.stringify(toks[pos].text)} at offset ${toks[pos].off}`);
  return root;
}

/** Evaluates a parsed condition with the given variables. */
export function evalExpr(e: Expr, env: Record<string, string>): boolean {
  if (e.kind === "cmp") return ((env[e.variable] ?? "") === e.value) !== e.negate;
  return e.and ? evalExpr(e.left, env) && evalExpr(e.right, env) : evalExpr(e.left, env) || evalExpr(e.right, env);
}

const cache = new Map<string, Expr>();

/** Whether condition src holds in mode (parsed once and cached). */
export function holdsInMode(src: string, mode: string): boolean {
  let e = cache.get(src);
  if (!e) {
    e = parseExpr(src);
    cache.set(src, e);
  }
  return evalExpr(e, { mode });
}
