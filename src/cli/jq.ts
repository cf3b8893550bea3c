import { InputError } from "../core/errors.js";

// `--jq EXPR` runs the real jq (compiled to WebAssembly, the jq-wasm package) on each output item.
type JqModule = { raw(data: string | object, filter: string, flags?: string[]): Promise<string> };
let jq: Promise<JqModule> | undefined;
const load = () => (jq ??= import("jq-wasm") as unknown as Promise<JqModule>);

/** Every result of `filter` applied to `item` (jq may produce zero, one or many). */
export async function applyJq(filter: string, item: unknown): Promise<unknown[]> {
  const mod = await load();
  let out: string;
  try {
    out = await mod.raw(JSON.stringify(item ?? null), filter, ["-c"]);
  } catch (err) {
    throw new InputError(`--jq ${filter}: ${jqMessage(err)}`, "jq");
  }
  return out
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as unknown);
}

/** Fails fast, before the command runs, when the filter does not compile. */
export async function checkJq(filter: string): Promise<void> {
  await applyJq(filter, null).catch((err: unknown) => {
    // A runtime error on null input (e.g. `.[0]` on null is fine, `keys` is not) is not a syntax error.
    if (err instanceof InputError && /compile error|syntax error/.test(err.message)) throw err;
  });
}

function jqMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const line = text.split("\n").find((l) => l.includes("jq: error")) ?? text.split("\n")[0] ?? text;
  return line.replace(/^.*?jq: error:?\s*/, "").replace(/\s*\(Unix shell quoting issues\?\)/, "").trim();
}
