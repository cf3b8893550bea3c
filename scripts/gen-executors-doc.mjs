#!/usr/bin/env node
// Writes docs/executors.md from the built-in executors' schemas (the built registry in dist/).
//   node scripts/gen-executors-doc.mjs           write the file
//   node scripts/gen-executors-doc.mjs --check   exit 1 when the file is stale
// test/executors/docs.test.ts fails when docs/executors.md differs from what this renders.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "docs/executors.md");

/** One example task per executor, shown as a tree (test/readme.test.ts validates every tree block). */
const EXAMPLES = {
  command: { command: "df -h /" },
  http: { url: "https://api.example.com/health", method: "GET", timeout_ms: 5000 },
  aggregate: undefined,
  websocket: { url: "wss://echo.example.com/ws", message: { type: "ping" }, wait_response: true, timeout_ms: 10000 },
  grpc: { server: "api.example.com:443", service: "grpc.health.v1.Health", method: "Check", request: { service: "" }, tls: true },
  mcp: { transport: "stdio", command: ["npx", "-y", "@modelcontextprotocol/server-everything"], operation: "call_tool", tool_name: "echo", arguments: { message: "hi" } },
  email: {
    smtp: { host: "smtp.example.com", port: 587, user: "reports@example.com", password_env: "SMTP_PASSWORD" },
    from: "Reports <reports@example.com>",
    to: ["ops@example.com"],
    subject: "Nightly report",
    text: "All jobs completed.",
    attachments: [{ path: "/var/reports/nightly.csv" }],
  },
  system_info: { resource: "all" },
  docker: {
    image: "python:3.12-slim",
    command: "python -c 'print(42)'",
    env: { LEVEL: "info" },
    volumes: { "/srv/data": "/data" },
    resources: { cpu: "1.0", memory: "512m" },
    timeout_ms: 120000,
  },
  llm: {
    messages: [
      { role: "system", content: "You label support tickets." },
      { role: "user", content: "Label: 'The invoice PDF is blank.'" },
    ],
    temperature: 0,
    response_schema: { type: "object", properties: { label: { type: "string", enum: ["billing", "bug", "other"] } }, required: ["label"] },
  },
  generate: {
    requirement: "Check CPU, memory and disk in parallel and email a summary to ops@example.com",
    allow: ["system_info", "llm", "email"],
  },
};

const esc = (s) => String(s).replace(/\|/g, "\\|").replace(/\n/g, " ");
const code = (s) => `\`${esc(s)}\``;

/** A short type for a JSON Schema: `string`, `"a" | "b"`, `string[]`, `object`, … */
function typeOf(s) {
  if (!s || typeof s !== "object" || Object.keys(s).length === 0) return "any";
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return [...new Set(alts.map(typeOf))].join(" | ");
  if (s.type === "array") return `${wrap(typeOf(s.items))}[]`;
  if (s.type === "integer" || s.type === "number") {
    const lo = s.exclusiveMinimum !== undefined ? `> ${s.exclusiveMinimum}` : s.minimum !== undefined && s.minimum > Number.MIN_SAFE_INTEGER ? `≥ ${s.minimum}` : "";
    const hi = s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER ? `≤ ${s.maximum}` : "";
    const range = [lo, hi].filter(Boolean).join(", ");
    return range ? `${s.type} (${range})` : s.type;
  }
  if (s.type === "object" && s.additionalProperties && typeof s.additionalProperties === "object" && !s.properties) {
    return `{[key]: ${typeOf(s.additionalProperties)}}`;
  }
  return Array.isArray(s.type) ? s.type.join(" | ") : (s.type ?? "any");
}
const wrap = (t) => (t.includes(" | ") ? `(${t})` : t);

/** Table rows for an object schema's properties; nested objects are listed as `parent.child`. */
function rows(schema, prefix = "") {
  const out = [];
  const required = new Set(schema.required ?? []);
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const field = prefix + name;
    const nested = prop.type === "object" && prop.properties ? prop : null;
    const def = prop.default !== undefined ? code(JSON.stringify(prop.default)) : "";
    out.push(`| ${code(field)} | ${esc(nested ? "object" : typeOf(prop))} | ${required.has(name) ? "yes" : ""} | ${def} | ${esc(prop.description ?? "")} |`);
    if (nested) out.push(...rows(nested, `${field}.`));
    if (prop.type === "array" && prop.items?.properties) out.push(...rows(prop.items, `${field}[].`));
  }
  return out;
}

/** The cross-field rules an input schema carries (`allOf` if/then, a top-level `anyOf` of requireds). */
function rules(schema) {
  const out = [];
  for (const r of schema.allOf ?? []) {
    const [[field, cond]] = Object.entries(r.if?.properties ?? {});
    if (!field || !r.then?.required) continue;
    out.push(`- with ${code(field)} ${cond.enum.map((v) => code(v)).join(" or ")}: ${r.then.required.map((f) => code(f)).join(", ")} required`);
  }
  if (Array.isArray(schema.anyOf) && schema.anyOf.every((a) => Array.isArray(a.required))) {
    out.push(`- at least one of ${schema.anyOf.map((a) => a.required.map((f) => code(f)).join(" + ")).join(", ")}`);
  }
  return out;
}

export function renderExecutorsDoc(executors) {
  const lines = [
    "# Built-in executors",
    "",
    "<!-- Generated by scripts/gen-executors-doc.mjs from the executors' schemas: do not edit by hand. -->",
    "",
    "Every task names an `executor` and gives it `inputs`, which are validated against the executor's",
    "input schema before the task runs (a bad field fails the tree before anything starts, naming",
    "the field). `grove executors schema <id>` prints the full JSON Schema.",
    "",
    "Executors that reach the network (`http`, `websocket`, `grpc`, `mcp` over HTTP, `email`) refuse",
    "loopback, private and link-local addresses unless private networks are allowed",
    "(`--allow-private-network` or `GROVE_ALLOW_PRIVATE_NETWORK=1`). The `mcp` executor's stdio server",
    "command is checked by the command policy (docs/policy.md) with `no_sudo` and `no_delete` always on.",
    "",
    ...executors.map((e) => `- [\`${e.id}\`](#${e.id.replace(/[^a-z0-9_-]/gi, "").toLowerCase()}): ${esc(e.name)}`),
    "",
  ];
  for (const e of executors) {
    lines.push(`## ${e.id}`, "", `**${e.name}**${e.cancelable ? " (cancelable)" : ""}. ${e.description}`, "");
    lines.push("Inputs:", "", "| field | type | required | default | description |", "|---|---|---|---|---|");
    const inputRows = rows(e.inputSchema);
    lines.push(...(inputRows.length > 0 ? inputRows : ["| (any) | | | | every input is passed through |"]), "");
    const extra = rules(e.inputSchema);
    if (extra.length > 0) lines.push("Also required:", "", ...extra, "");
    if (e.outputSchema) {
      lines.push("Output:", "", "| field | type | always | description |", "|---|---|---|---|");
      const required = new Set(e.outputSchema.required ?? []);
      for (const [name, prop] of Object.entries(e.outputSchema.properties ?? {})) {
        lines.push(`| ${code(name)} | ${esc(typeOf(prop))} | ${required.has(name) ? "yes" : ""} | ${esc(prop.description ?? "")} |`);
      }
      lines.push("");
    }
    const example = EXAMPLES[e.id];
    if (example) {
      lines.push("Example:", "", "```json", JSON.stringify({ name: `${e.id}-example`, tasks: [{ name: e.id.replace(/_/g, "-"), executor: e.id, inputs: example }] }, null, 2), "```", "");
    }
  }
  return lines.join("\n");
}

async function main() {
  const { builtinExecutors } = await import(pathToFileURL(join(ROOT, "dist/executors/index.js")).href);
  const text = renderExecutorsDoc(builtinExecutors);
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(OUT, "utf8");
    } catch {
      // missing counts as stale
    }
    if (current !== text) {
      process.stderr.write("docs/executors.md is stale: run `npm run build && node scripts/gen-executors-doc.mjs`\n");
      process.exit(1);
    }
    return;
  }
  writeFileSync(OUT, text);
  process.stdout.write(`wrote ${OUT}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
