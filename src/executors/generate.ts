import { z } from "zod";
import { defineExecutor, type Executor, type ExecutorContext } from "../core/executor.js";
import { InputError, TaskFailure } from "../core/errors.js";
import { ExecutorRegistry } from "../core/registry.js";
import { loadTree, readTreeDocument, ROOT_EXECUTOR } from "../tree/index.js";
import { chat, extractJson } from "./llm.js";
import { abortFailure, deadline, errorText } from "./net-target.js";

/**
 * `generate`: a task tree from a sentence (seed 002's generate_executor, DESIGN §3 trees).
 *
 * 1. The executors the caller allows (see GENERATE_DENIED_BY_DEFAULT) are scored against the
 *    requirement's words; the relevant ones (at most MAX_DESCRIBED, `aggregate` always) are
 *    described to the model with their input JSON Schemas.
 * 2. The answer is parsed as JSON (a fenced block or the outermost object is accepted), safe
 *    fixes are applied (several parentless tasks → one `aggregate` root above them, written into
 *    the tree so the saved file says what will run), and the tree is checked with loadTree, the
 *    validator every tree file goes through, against a registry holding only the allowed executors.
 * 3. When that fails, the model is asked once more with the validator's error; a second failure
 *    is reported with both errors.
 *
 * A generated tree never uses an executor outside the allow-list: an executor the caller may not
 * use is reported like any validation error (and repaired or rejected), never run.
 */

/**
 * Executors a generated tree may not use unless the caller allows them by name: those that run
 * programs or code of the model's choosing on the worker or elsewhere (command, docker, ssh, the
 * agent, MCP stdio servers, another grove) and generate itself (no recursion).
 */
export const GENERATE_DENIED_BY_DEFAULT: readonly string[] = ["command", "docker", "ssh", "agent", "mcp", "grove_api", "generate"];
/** At most this many executors are described in the prompt. */
export const MAX_DESCRIBED = 12;

/** Words that make an executor relevant to a requirement (besides its id, name and description). */
const KEYWORDS: Record<string, string[]> = {
  http: ["api", "rest", "http", "url", "fetch", "download", "webhook", "endpoint", "request", "call", "source", "upload", "post"],
  command: ["command", "shell", "script", "python", "bash", "file", "save", "write", "process", "transform", "filter", "validat", "calculat", "output", "run"],
  aggregate: ["merge", "combine", "aggregat", "collect", "result", "join", "total", "parallel", "final"],
  system_info: ["system", "cpu", "memory", "disk", "resource", "monitor", "metric", "host", "machine"],
  email: ["email", "mail", "notif", "send", "alert", "smtp", "report"],
  llm: ["analy", "summar", "report", "classif", "llm", "ai", "generat", "text", "organiz", "categor", "decide", "threshold", "validat"],
  websocket: ["websocket", "socket", "realtime", "real-time", "stream", "ws"],
  grpc: ["grpc", "rpc", "protobuf", "microservice", "health"],
  mcp: ["mcp", "tool", "context"],
  docker: ["docker", "container", "image", "isolat", "sandbox"],
  ssh: ["ssh", "remote", "server"],
  grove_api: ["grove", "remote", "distribut", "instance"],
  agent: ["agent", "goal", "investigat", "fix"],
};

export const GenerateInput = z.strictObject({
  requirement: z.string().min(1).describe("What the tree should do, in a sentence or a paragraph"),
  allow: z
    .array(z.string().min(1))
    .optional()
    .describe(
      `Executor ids the tree may use (plus aggregate). Default: every registered executor except ${GENERATE_DENIED_BY_DEFAULT.join(", ")}; ["*"] allows all but generate`,
    ),
  model: z.string().regex(/^[a-z-]+:.+/, "must be provider:model").optional().describe("provider:model (default: the worker's GROVE_MODEL)"),
  temperature: z.number().min(0).max(2).optional(),
  max_tokens: z.number().int().positive().optional(),
  timeout_ms: z.number().int().positive().default(300_000).describe("For the whole generation, repair included"),
});

export const GenerateOutput = z.object({
  tree: z.record(z.string(), z.unknown()).describe("The tree, in grove format, valid for `grove run`"),
  task_count: z.number().int(),
  executors: z.array(z.string()).describe("The executors the tree uses"),
  attempts: z.number().int().describe("1, or 2 when the first answer was repaired"),
  fixes: z.array(z.string()).describe("What grove changed in the model's answer"),
  described: z.array(z.string()).describe("The executors described to the model"),
  model: z.string(),
});

export type GenerateInputs = z.output<typeof GenerateInput>;
export type GenerateResult = z.infer<typeof GenerateOutput>;

export interface GenerateOptions {
  requirement: string;
  registry: ExecutorRegistry;
  /** The scope the tree is checked for (the caller's). */
  owner: string;
  allow?: readonly string[];
  model?: string;
  temperature?: number;
  maxTokens?: number;
  signal: AbortSignal;
  log?: (message: string) => void;
}

/** The executors a generated tree may use: the allow-list (checked against the registry), or the default. */
export function allowedExecutors(registry: ExecutorRegistry, allow?: readonly string[]): Executor[] {
  const all = registry.list();
  let ids: Set<string>;
  if (allow === undefined) ids = new Set(all.map((e) => e.id).filter((id) => !GENERATE_DENIED_BY_DEFAULT.includes(id)));
  else if (allow.includes("*")) ids = new Set(all.map((e) => e.id).filter((id) => id !== "generate"));
  else {
    for (const id of allow) {
      if (!registry.has(id)) throw new InputError(`allow: executor "${id}" is not registered (registered: ${all.map((e) => e.id).join(", ")})`, "allow");
      if (id === "generate") throw new InputError(`allow: a generated tree cannot use generate itself`, "allow");
    }
    ids = new Set(allow);
  }
  ids.add(ROOT_EXECUTOR);
  return all.filter((e) => ids.has(e.id));
}

function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9][a-z0-9_-]*/g) ?? [];
}

/** Each allowed executor's relevance to the requirement: distinct keyword stems its words start with. */
export function relevantExecutors(requirement: string, allowed: readonly Executor[], max = MAX_DESCRIBED): Executor[] {
  const req = words(requirement);
  const scored = allowed.map((ex) => {
    const stems = new Set([ex.id, ...ex.id.split(/[_.-]/), ...(KEYWORDS[ex.id] ?? []), ...words(ex.name).filter((w) => w.length > 3)]);
    let score = 0;
    for (const stem of stems) if (stem.length > 1 && req.some((w) => w.startsWith(stem))) score++;
    return { ex, score };
  });
  const hits = scored.filter((s) => s.score > 0 || s.ex.id === ROOT_EXECUTOR);
  // Nothing matched but aggregate: describe everything allowed (up to max), the model decides.
  const chosen = hits.length > 1 ? hits : scored;
  return chosen
    .sort((a, b) => (a.ex.id === ROOT_EXECUTOR ? -1 : b.ex.id === ROOT_EXECUTOR ? 1 : b.score - a.score || a.ex.id.localeCompare(b.ex.id)))
    .slice(0, max)
    .map((s) => s.ex);
}

const EXAMPLE = {
  name: "api-health-report",
  tasks: [
    { name: "fetch_status", executor: "http", inputs: { url: "https://api.example.com/status" } },
    { name: "fetch_metrics", executor: "http", inputs: { url: "https://api.example.com/metrics" } },
    {
      name: "report",
      executor: "aggregate",
      dependencies: ["fetch_status", "fetch_metrics"],
    },
  ],
};

/** The system prompt: grove's tree format, its rules, and the described executors with their input schemas. */
export function buildPrompt(described: readonly Executor[]): string {
  const list = described
    .map((e) => `### ${e.id} — ${e.name}\n${e.description}\ninput schema: ${JSON.stringify(e.inputSchema)}`)
    .join("\n\n");
  return [
    "You design task trees for grove, a system that runs trees of tasks. Answer with only one JSON object, no prose and no code fence:",
    '{"name": "<short-name>", "tasks": [{"name": "<unique_name>", "executor": "<executor id>", "inputs": {…}, "dependencies": ["<task name>", …], "parent": "<task name>"}]}',
    "",
    "Rules:",
    "- Task names are unique (lowercase, underscores). Use only the executors listed below; `inputs` must validate against the executor's input schema (every required field, no unknown field).",
    "- `dependencies` names tasks that must finish first; tasks that do not depend on each other run in parallel.",
    "- Exactly one root: one task without `parent` (usually an `aggregate` task that collects the results); every other task names its `parent`, or the root lists it in `dependencies`. A parent runs after all its children.",
    "- No cycles in dependencies or parents.",
    '- To use a result, write "{{ tasks.<name>.result.<field> }}" as an input value (alone it keeps its type; inside a longer string it is inserted as text); this adds the dependency.',
    "- One task per step of the requirement; never invent executors or fields.",
    "",
    `Example:\n${JSON.stringify(EXAMPLE)}`,
    "",
    `Executors:\n\n${list}`,
  ].join("\n");
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function freeName(base: string, taken: Set<string>): string {
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) if (!taken.has(`${base}_${n}`)) return `${base}_${n}`;
}

/**
 * Safe repairs of a parsed answer, returned as a new document with a note per change:
 * `{"tree": {...}}` unwrapped; several parentless tasks put under one new `aggregate` root.
 */
export function autoFix(doc: unknown): { doc: unknown; fixes: string[] } {
  const fixes: string[] = [];
  if (isObj(doc) && !("tasks" in doc) && Object.keys(doc).length === 1 && isObj(Object.values(doc)[0]) && "tasks" in (Object.values(doc)[0] as Obj)) {
    fixes.push(`unwrapped the tree from "${Object.keys(doc)[0]}"`);
    doc = Object.values(doc)[0];
  }
  if (isObj(doc) && Array.isArray(doc.tasks) && doc.tasks.every(isObj)) {
    const tasks = doc.tasks as Obj[];
    const names = new Set(tasks.map((t) => t.name).filter((n): n is string => typeof n === "string"));
    const roots = tasks.filter((t) => t.parent === undefined || t.parent === null);
    if (roots.length > 1 && roots.every((t) => typeof t.name === "string")) {
      const root = freeName(typeof doc.name === "string" && /^[A-Za-z0-9_.-]+$/.test(doc.name) ? doc.name.replace(/-/g, "_") : "root", names);
      const rootNames = roots.map((t) => t.name as string);
      doc = {
        ...doc,
        tasks: [...tasks.map((t) => (roots.includes(t) ? { ...t, parent: root } : t)), { name: root, executor: ROOT_EXECUTOR, dependencies: [] }],
      };
      fixes.push(`added the root "${root}" (${ROOT_EXECUTOR}) above ${roots.length} parentless tasks: ${rootNames.join(", ")}`);
    }
  } else if (Array.isArray(doc) && doc.every(isObj)) {
    // apflow rows: the same fix with parent_id.
    const rows = doc as Obj[];
    const roots = rows.filter((r) => r.parent_id === undefined || r.parent_id === null);
    if (roots.length > 1) {
      const taken = new Set(rows.flatMap((r) => [r.id, r.name]).filter((v): v is string => typeof v === "string"));
      const root = freeName("root", taken);
      doc = [...rows.map((r) => (roots.includes(r) ? { ...r, parent_id: root } : r)), { id: root, name: root, schemas: { method: ROOT_EXECUTOR } }];
      fixes.push(`added the root "${root}" (${ROOT_EXECUTOR}) above ${roots.length} parentless tasks`);
    }
  }
  return { doc, fixes };
}

/** Parses, fixes and validates one answer; the validator's error, or the tree. */
export function checkAnswer(
  text: string,
  allowed: readonly Executor[],
  owner: string,
): { ok: true; tree: Obj; fixes: string[]; count: number; executors: string[] } | { ok: false; error: string } {
  const parsed = extractJson(text);
  if (!parsed.ok) return { ok: false, error: parsed.error };
  const { doc, fixes } = autoFix(parsed.value);
  const allowedIds = new Set(allowed.map((e) => e.id));
  let draft;
  try {
    draft = readTreeDocument(doc);
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  for (const t of draft.tasks) {
    if (!allowedIds.has(t.executor)) {
      return {
        ok: false,
        error: `task "${t.name}": executor "${t.executor}" is not allowed in a generated tree (allowed: ${[...allowedIds].join(", ")})`,
      };
    }
  }
  const registry = new ExecutorRegistry();
  for (const e of allowed) registry.register(e);
  let loaded;
  try {
    loaded = loadTree(doc, { registry, owner, defaultName: "generated" });
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  const tree: Obj = Array.isArray(doc) ? { name: loaded.name, tasks: doc } : (doc as Obj);
  return { ok: true, tree, fixes, count: loaded.tasks.length, executors: [...new Set(loaded.tasks.map((t) => t.executor))].sort() };
}

/** The whole generation: prompt, answer, check, one repair. Throws TaskFailure when the tree stays invalid. */
export async function generateTree(opts: GenerateOptions): Promise<GenerateResult> {
  const allowed = allowedExecutors(opts.registry, opts.allow);
  const described = relevantExecutors(opts.requirement, allowed);
  opts.log?.(`describing ${described.map((e) => e.id).join(", ")} to the model`);
  const messages: { role: "system" | "user" | "assistant"; content: string }[] = [
    { role: "system", content: buildPrompt(described) },
    { role: "user", content: `Requirement: ${opts.requirement}` },
  ];
  const chatOpts = { model: opts.model, temperature: opts.temperature, maxTokens: opts.maxTokens, signal: opts.signal };
  const first = await chat(messages, chatOpts);
  let result = checkAnswer(first.text, allowed, opts.owner);
  let attempts = 1;
  const errors: string[] = [];
  if (!result.ok) {
    errors.push(result.error);
    opts.log?.(`the generated tree is invalid (${result.error}); asking the model to repair it`);
    attempts = 2;
    const second = await chat(
      [
        ...messages,
        { role: "assistant", content: first.text },
        {
          role: "user",
          content: `grove's validator rejected that tree: ${result.error}\nAnswer with the corrected tree: the whole JSON object only.`,
        },
      ],
      chatOpts,
    );
    result = checkAnswer(second.text, allowed, opts.owner);
    if (!result.ok) errors.push(result.error);
  }
  if (!result.ok) {
    throw new TaskFailure("executor_error", `the generated tree is invalid after one repair: ${errors[1]} (first answer: ${errors[0]})`, { errors });
  }
  return {
    tree: result.tree,
    task_count: result.count,
    executors: result.executors,
    attempts,
    fixes: result.fixes,
    described: described.map((e) => e.id),
    model: first.model,
  };
}

export interface GenerateExecutorOptions {
  /** The registry whose executors the tree may use; default: the built-ins. */
  registry?: ExecutorRegistry;
}

export function makeGenerateExecutor(opts: GenerateExecutorOptions = {}): Executor {
  return defineExecutor({
    id: "generate",
    name: "Generate a task tree",
    description:
      "Asks a model (GROVE_MODEL or model) for a grove task tree that meets the requirement, built from the input " +
      "schemas of the relevant registered executors; the answer is validated like a tree file, repaired once, and " +
      `returned as {tree}. Only allowed executors are used (default: all but ${GENERATE_DENIED_BY_DEFAULT.join(", ")}).`,
    input: GenerateInput,
    output: GenerateOutput,
    cancelable: true,
    async execute(inputs, ctx: ExecutorContext): Promise<GenerateResult> {
      const timeoutMs = inputs.timeout_ms ?? 300_000;
      const { signal, done } = deadline(ctx.signal, timeoutMs, "generate");
      try {
        let registry = opts.registry;
        if (!registry) {
          registry = new ExecutorRegistry();
          const { registerBuiltins } = await import("./index.js");
          registerBuiltins(registry);
        }
        const allow = inputs.allow;
        try {
          allowedExecutors(registry, allow);
        } catch (err) {
          if (err instanceof InputError) throw new TaskFailure("validation_error", `inputs.${err.message}`);
          throw err;
        }
        return await generateTree({
          requirement: inputs.requirement,
          registry,
          owner: ctx.task.owner,
          allow,
          model: inputs.model,
          temperature: inputs.temperature,
          maxTokens: inputs.max_tokens,
          signal,
          log: (m) => ctx.log(m),
        });
      } catch (err) {
        if (signal.aborted) throw abortFailure(signal, "generate");
        if (err instanceof TaskFailure) throw err;
        throw new TaskFailure("executor_error", `generate failed: ${errorText(err)}`);
      } finally {
        done();
      }
    },
  });
}

export const generate = makeGenerateExecutor();
