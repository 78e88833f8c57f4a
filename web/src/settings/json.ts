// Reads the catalogue text. JSON.parse turns "1.0" into 1, but the Go loader (settings/jsonobj.go
// fileNumber) treats a number written with a fraction or exponent as a float and one without as
// an int, and that decides whether a fixed parameter's override must be a whole number. So the
// text is also scanned once for the literal of every fixed value.
import type { Settings, SettingsFile } from "./types";

/** Parses the text of inference_settings.json (GET /settings) into Settings. */
export function parseSettings(text: string): Settings {
  const file = JSON.parse(text) as SettingsFile;
  const literals = numberLiterals(text);
  const fixedKinds: Settings["fixedKinds"] = {};
  for (const section of ["image_models", "video_models"] as const) {
    for (const [key, model] of Object.entries(file[section] ?? {})) {
      for (const [name, fixed] of Object.entries(model.fixed_parameters ?? {})) {
        const v = fixed.value;
        let kind: Settings["fixedKinds"][string];
        if (typeof v === "boolean") kind = "bool";
        else if (typeof v === "string") kind = "string";
        else {
          const lit = literals.get(`${section}/${key}/fixed_parameters/${name}/value`) ?? String(v);
          kind = /[.eE]/.test(lit) ? "float" : "int";
        }
        fixedKinds[`${key}.${name}`] = kind;
      }
    }
  }
  return { file, fixedKinds };
}

/**
 * Every number literal of a JSON text keyed by its path ("a/b/0/c"). A small recursive-descent
 * scanner: the text has already been parsed by JSON.parse, so it is known to be valid.
 */
export function numberLiterals(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\r\n".includes(text[i])) i++;
  };
  const str = (): string => {
    const start = i;
    i++; // opening quote
    while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        const k = str();
        ws();
        i++; // colon
        value(path ? `${path}/${k}` : k);
        ws();
        if (text[i++] === "}") return;
      }
    } else if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (let n = 0; ; n++) {
        value(`${path}/${n}`);
        ws();
        if (text[i++] === "]") return;
      }
    } else if (c === '"') {
      str();
    } else {
      const start = i;
      while (i < text.length && !",]} \t\r\n".includes(text[i])) i++;
      const lit = text.slice(start, i);
      if (lit !== "true" && lit !== "false" && lit !== "null") out.set(path, lit);
    }
  };
  value("");
  return out;
}
