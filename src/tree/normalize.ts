import { InputError } from "../core/errors.js";
import { uuidv7 } from "../core/ids.js";
import type { ExecutorRegistry } from "../core/registry.js";
import { describeIssues, validate } from "../core/validation.js";
import { normalizeScope, scopeContains } from "../core/scope.js";
import { DEFAULT_PRIORITY, DEFAULT_RETRY, type NewTask, type NewTree, type RetryPolicy } from "../core/types.js";
import { expandFleets, type FleetMachine } from "./fleet.js";
import { checkCycles, checkExecutorsAndInputs, oneLine, quote, resolveReferences, type ResolvedTask } from "./validate.js";

// Both tree formats of DESIGN §3 are read into one draft shape (names and references still as
// written), the draft is checked (validate.ts), and only then turned into rows with fresh ids.

/** apflow executor ids and the grove executors they stand for (DESIGN §3). */
export const APFLOW_EXECUTOR_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  command_executor: "command",
  rest_executor: "http",
  aggregate_results_executor: "aggregate",
  ssh_executor: "ssh",
  docker_executor: "docker",
  grpc_executor: "grpc",
  websocket_executor: "websocket",
  mcp_executor: "mcp",
  apflow_api_executor: "grove_api",
  generate_executor: "generate",
  llm_executor: "llm",
});

/** The executor a root added by grove runs (it collects its children's results). */
export const ROOT_EXECUTOR = "aggregate";

export interface DraftDependency {
  /** A task name (grove) or an apflow id or name, as written. */
  ref: string;
  required: boolean;
  /** Where it was written, relative to the task: `dependencies[0]`. */
  field: string;
}

/** One task as read from a file, before references are resolved. */
export interface DraftTask {
  /** Where the task is in the file: `tasks[2]`, `tasks[0].children[1]`. */
  where: string;
  name: string;
  /** The apflow `id`, used only to resolve references. */
  key?: string;
  executor: string;
  /** The executor id as written when an apflow alias was applied. */
  executorAsWritten?: string;
  /** An apflow row without a name, named after its executor. */
  unnamed?: boolean;
  inputs: Record<string, unknown>;
  dependencies: DraftDependency[];
  /** An explicit parent reference (`parent` or `parent_id`). */
  parent?: { ref: string; field: string };
  /** Index of the task whose `children` array holds this one. */
  enclosing?: number;
  priority: number;
  retry: RetryPolicy;
  timeout_ms: number | null;
  lease_ms: number | null;
  placement: Record<string, string>;
}

export interface DraftTree {
  format: "grove" | "apflow";
  name?: string;
  owner?: string;
  inputs: Record<string, unknown>;
  tasks: DraftTask[];
}

export interface LoadTreeOptions {
  registry: ExecutorRegistry;
  /** The caller's scope: the tree's owner, or the scope a file's `owner` must lie within. */
  owner: string;
  /** The tree's name when the file gives none (e.g. the file's base name). */
  defaultName: string;
  newId?: () => string;
  /**
   * The machines the caller sees (MachineRegistry.fleetView): lets fleet tasks (`machines: […]`,
   * `labels: {…}`) be checked and expanded. Without it, names are not checked and labels fail.
   * "on-demand": the caller has not read them; a tree with fleet tasks throws MachinesNeeded.
   */
  machines?: readonly FleetMachine[] | "on-demand";
}

type Obj = Record<string, unknown>;

const GROVE_TREE_KEYS = ["name", "inputs", "owner", "tasks", "description", "$schema"];
const GROVE_TASK_KEYS = [
  "name",
  "executor",
  "inputs",
  "dependencies",
  "parent",
  "children",
  "priority",
  "retry",
  "timeout_ms",
  "lease_ms",
  "placement",
];
const RETRY_KEYS = ["max_attempts", "backoff", "base_ms", "max_ms"];
const DEPENDENCY_KEYS = ["task", "required"];

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  const s = v === undefined ? "undefined" : JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}…` : s;
}

/** Who an error is about: `task "fetch"` once the name is known, the file location before. */
interface Subject {
  label: string;
  path: string;
}

function fail(subject: Subject, field: string, message: string): never {
  throw new InputError(oneLine(`${subject.label}: ${field} ${message}`), `${subject.path}.${field}`);
}

function unknownKey(subject: Subject, key: string, known: readonly string[], prefix = ""): never {
  const hint = closest(key, known);
  throw new InputError(
    `${subject.label}: unknown key ${quote(prefix + key)}${hint ? ` (did you mean ${quote(prefix + hint)}?)` : ""}`,
    `${subject.path}.${prefix}${key}`,
  );
}

/** The known word within edit distance 2 of a typo (or extending it: timeout → timeout_ms), if any. */
function closest(word: string, known: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  if (lower.length >= 4) {
    const extended = known.find((k) => k.toLowerCase().startsWith(lower));
    if (extended) return extended;
  }
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(word.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

// ---- fields shared by both formats ----

function readInputs(subject: Subject, value: unknown, field = "inputs"): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (!isObj(value)) fail(subject, field, `must be an object, got ${show(value)}`);
  return structuredClone(value);
}

function readPriority(subject: Subject, value: unknown): number {
  if (value === undefined || value === null) return DEFAULT_PRIORITY; // 0 is a priority, not "unset"
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    fail(subject, "priority", `must be an integer ≥ 0 (0 is the most urgent), got ${show(value)}`);
  }
  return value;
}

function nonNegativeInt(subject: Subject, field: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    fail(subject, field, `must be an integer ≥ ${min}, got ${show(value)}`);
  }
  return value;
}

function readRetry(subject: Subject, value: unknown): RetryPolicy {
  if (value === undefined || value === null) return { ...DEFAULT_RETRY };
  if (!isObj(value)) fail(subject, "retry", `must be an object {max_attempts, backoff, base_ms, max_ms}, got ${show(value)}`);
  for (const key of Object.keys(value)) if (!RETRY_KEYS.includes(key)) unknownKey(subject, key, RETRY_KEYS, "retry.");
  const retry: RetryPolicy = { ...DEFAULT_RETRY };
  if (value.max_attempts !== undefined) retry.max_attempts = nonNegativeInt(subject, "retry.max_attempts", value.max_attempts, 1);
  if (value.backoff !== undefined) {
    if (value.backoff !== "fixed" && value.backoff !== "exponential") {
      fail(subject, "retry.backoff", `must be one of ["fixed","exponential"], got ${show(value.backoff)}`);
    }
    retry.backoff = value.backoff;
  }
  if (value.base_ms !== undefined) retry.base_ms = nonNegativeInt(subject, "retry.base_ms", value.base_ms, 0);
  if (value.max_ms !== undefined) retry.max_ms = nonNegativeInt(subject, "retry.max_ms", value.max_ms, 0);
  if (retry.max_ms < retry.base_ms) {
    fail(subject, "retry.max_ms", `(${retry.max_ms}) must be ≥ retry.base_ms (${retry.base_ms})`);
  }
  return retry;
}

function readTimeout(subject: Subject, value: unknown): number | null {
  if (value === undefined || value === null) return null;
  return nonNegativeInt(subject, "timeout_ms", value, 1);
}

function readLease(subject: Subject, value: unknown): number | null {
  if (value === undefined || value === null) return null;
  return nonNegativeInt(subject, "lease_ms", value, 100);
}

function readPlacement(subject: Subject, value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObj(value)) fail(subject, "placement", `must be an object of string labels, got ${show(value)}`);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") fail(subject, `placement.${k}`, `must be a string, got ${show(v)}`);
  }
  return { ...(value as Record<string, string>) };
}

function readName(where: string, value: unknown, field: string): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new InputError(
      value === undefined ? `${where}: ${field} is required` : `${where}: ${field} must be a non-empty string, got ${show(value)}`,
      `${where}.${field}`,
    );
  }
  return value;
}

// ---- grove format ----

function readGroveDependencies(subject: Subject, value: unknown): DraftDependency[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(subject, "dependencies", `must be an array, got ${show(value)}`);
  return value.map((d, i): DraftDependency => {
    const field = `dependencies[${i}]`;
    if (typeof d === "string" && d !== "") return { ref: d, required: true, field };
    if (!isObj(d)) fail(subject, field, `must be a task name or {"task": name, "required": bool}, got ${show(d)}`);
    for (const key of Object.keys(d)) if (!DEPENDENCY_KEYS.includes(key)) unknownKey(subject, key, DEPENDENCY_KEYS, `${field}.`);
    if (typeof d.task !== "string" || d.task === "") fail(subject, `${field}.task`, `must be a task name, got ${show(d.task)}`);
    if (d.required !== undefined && typeof d.required !== "boolean") {
      fail(subject, `${field}.required`, `must be true or false, got ${show(d.required)}`);
    }
    return { ref: d.task, required: d.required ?? true, field };
  });
}

function readGroveTask(raw: unknown, where: string, enclosing: number | undefined, out: DraftTask[]): void {
  if (!isObj(raw)) throw new InputError(`${where}: a task must be an object, got ${show(raw)}`, where);
  const name = readName(where, raw.name, "name");
  const subject: Subject = { label: `task ${quote(name)}`, path: where };
  for (const key of Object.keys(raw)) if (!GROVE_TASK_KEYS.includes(key)) unknownKey(subject, key, GROVE_TASK_KEYS);
  if (typeof raw.executor !== "string" || raw.executor === "") {
    fail(subject, "executor", raw.executor === undefined ? "is required" : `must be an executor id, got ${show(raw.executor)}`);
  }
  let parent: DraftTask["parent"];
  if (raw.parent !== undefined && raw.parent !== null) {
    if (typeof raw.parent !== "string" || raw.parent === "") fail(subject, "parent", `must be a task name, got ${show(raw.parent)}`);
    parent = { ref: raw.parent, field: "parent" };
  }
  const task: DraftTask = {
    where,
    name,
    executor: raw.executor,
    inputs: readInputs(subject, raw.inputs),
    dependencies: readGroveDependencies(subject, raw.dependencies),
    parent,
    enclosing,
    priority: readPriority(subject, raw.priority),
    retry: readRetry(subject, raw.retry),
    timeout_ms: readTimeout(subject, raw.timeout_ms),
    lease_ms: readLease(subject, raw.lease_ms),
    placement: readPlacement(subject, raw.placement),
  };
  const index = out.length;
  out.push(task);
  if (raw.children === undefined || raw.children === null) return;
  if (!Array.isArray(raw.children)) fail(subject, "children", `must be an array of tasks, got ${show(raw.children)}`);
  raw.children.forEach((child, i) => readGroveTask(child, `${where}.children[${i}]`, index, out));
}

/** Reads a grove-format document (`{name?, inputs?, owner?, tasks: [...]}`) into a draft. */
export function readGroveTree(doc: Obj): DraftTree {
  const top: Subject = { label: "tree", path: "" };
  for (const key of Object.keys(doc)) {
    if (!GROVE_TREE_KEYS.includes(key)) {
      const hint = closest(key, GROVE_TREE_KEYS);
      throw new InputError(`tree: unknown key ${quote(key)}${hint ? ` (did you mean ${quote(hint)}?)` : ""}`, key);
    }
  }
  if (!Array.isArray(doc.tasks)) throw new InputError(`tree: tasks must be an array, got ${show(doc.tasks)}`, "tasks");
  let name: string | undefined;
  if (doc.name !== undefined && doc.name !== null) name = readName("tree", doc.name, "name");
  let owner: string | undefined;
  if (doc.owner !== undefined && doc.owner !== null) {
    if (typeof doc.owner !== "string") throw new InputError(`tree: owner must be a scope path, got ${show(doc.owner)}`, "owner");
    owner = doc.owner;
  }
  const tasks: DraftTask[] = [];
  doc.tasks.forEach((raw, i) => readGroveTask(raw, `tasks[${i}]`, undefined, tasks));
  return { format: "grove", name, owner, inputs: readInputs(top, doc.inputs), tasks };
}

// ---- apflow format ----

function apflowRef(value: unknown): string | undefined {
  if (typeof value === "string" && value !== "") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

function readApflowDependencies(subject: Subject, value: unknown): DraftDependency[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(subject, "dependencies", `must be an array, got ${show(value)}`);
  return value.map((d, i): DraftDependency => {
    const field = `dependencies[${i}]`;
    const bare = apflowRef(d);
    if (bare !== undefined) return { ref: bare, required: true, field };
    if (!isObj(d)) fail(subject, field, `must be a task id or name, or {"id": …, "required": bool}, got ${show(d)}`);
    const ref = apflowRef(d.id) ?? apflowRef(d.name) ?? apflowRef(d.task);
    if (ref === undefined) fail(subject, field, `needs an "id" or a "name", got ${show(d)}`);
    if (d.required !== undefined && d.required !== null && typeof d.required !== "boolean") {
      fail(subject, `${field}.required`, `must be true or false, got ${show(d.required)}`);
    }
    return { ref, required: d.required ?? true, field };
  });
}

function readApflowRow(raw: unknown, where: string): DraftTask {
  if (!isObj(raw)) throw new InputError(`${where}: a task must be an object, got ${show(raw)}`, where);
  const pre: Subject = { label: raw.name !== undefined ? `task ${quote(String(raw.name))}` : where, path: where };
  let key: string | undefined;
  if (raw.id !== undefined && raw.id !== null) {
    key = apflowRef(raw.id);
    if (key === undefined) fail(pre, "id", `must be a string, got ${show(raw.id)}`);
  }
  let params: Obj = {};
  if (raw.params !== undefined && raw.params !== null) {
    if (!isObj(raw.params)) fail(pre, "params", `must be an object, got ${show(raw.params)}`);
    params = { ...raw.params };
  }
  let method: unknown;
  if (raw.schemas !== undefined && raw.schemas !== null) {
    if (!isObj(raw.schemas)) fail(pre, "schemas", `must be an object, got ${show(raw.schemas)}`);
    method = raw.schemas.method;
  }
  const fromParams = params.executor_id;
  delete params.executor_id;
  const executorId = fromParams ?? method ?? raw.name;
  if (typeof executorId !== "string" || executorId === "") {
    if (executorId === undefined || executorId === null) {
      fail(pre, "schemas.method", "is required (the executor id: schemas.method, params.executor_id or name)");
    }
    const field = fromParams !== undefined ? "params.executor_id" : method !== undefined ? "schemas.method" : "name";
    fail(pre, field, `must be an executor id, got ${show(executorId)}`);
  }
  const executor = Object.hasOwn(APFLOW_EXECUTOR_ALIASES, executorId) ? APFLOW_EXECUTOR_ALIASES[executorId]! : executorId;
  const unnamed = raw.name === undefined || raw.name === null;
  const name = unnamed ? executor : readName(where, raw.name, "name");
  const subject: Subject = { label: `task ${quote(name)}`, path: where };
  let parent: DraftTask["parent"];
  if (raw.parent_id !== undefined && raw.parent_id !== null) {
    const ref = apflowRef(raw.parent_id);
    if (ref === undefined) fail(subject, "parent_id", `must be a task id or name, got ${show(raw.parent_id)}`);
    parent = { ref, field: "parent_id" };
  }
  const inputs = readInputs(subject, raw.inputs);
  return {
    where,
    name,
    key,
    executor,
    executorAsWritten: executor === executorId ? undefined : executorId,
    unnamed: unnamed || undefined,
    inputs: { ...structuredClone(params), ...inputs },
    dependencies: readApflowDependencies(subject, raw.dependencies),
    parent,
    priority: readPriority(subject, raw.priority),
    retry: readRetry(subject, raw.retry),
    timeout_ms: readTimeout(subject, raw.timeout_ms),
    lease_ms: readLease(subject, raw.lease_ms),
    placement: readPlacement(subject, raw.placement),
  };
}

/** Reads an apflow-format document (an array of task rows) into a draft. Unknown row keys are ignored. */
export function readApflowTree(rows: unknown[]): DraftTree {
  return { format: "apflow", inputs: {}, tasks: rows.map((raw, i) => readApflowRow(raw, `tasks[${i}]`)) };
}

/** Detects the format of a parsed tree file and reads it into a draft (no references checked yet). */
export function readTreeDocument(doc: unknown): DraftTree {
  if (Array.isArray(doc)) return readApflowTree(doc);
  if (isObj(doc) && "tasks" in doc) return readGroveTree(doc);
  throw new InputError(
    `tree: expected an object with a "tasks" array (grove format) or an array of tasks (apflow format), got ${
      isObj(doc) ? "an object without tasks" : show(doc)
    }`,
  );
}

// ---- loadTree ----

/**
 * Reads a parsed tree file (grove or apflow format), checks every rule of DESIGN §3/§4 and
 * returns the rows to insert. Throws one-line InputErrors naming the task and field; nothing
 * is returned unless the whole tree is valid.
 */
export function loadTree(doc: unknown, opts: LoadTreeOptions): NewTree {
  const draft = readTreeDocument(doc);
  if (draft.tasks.length === 0) throw new InputError("tree: tasks is empty (a tree needs at least one task)", "tasks");

  let callerScope: string;
  try {
    callerScope = normalizeScope(opts.owner);
  } catch (err) {
    throw new InputError(`owner: ${(err as Error).message}`, "owner");
  }
  let owner = callerScope;
  if (draft.owner !== undefined) {
    try {
      owner = normalizeScope(draft.owner);
    } catch (err) {
      throw new InputError(`tree: owner ${(err as Error).message}`, "owner");
    }
    if (!scopeContains(callerScope, owner)) {
      throw new InputError(`tree: owner ${quote(owner)} is outside your scope ${quote(callerScope)}`, "owner");
    }
  }

  expandFleets(draft, opts.registry, owner, opts.machines);
  const tasks = resolveReferences(draft);
  checkCycles(tasks);
  checkExecutorsAndInputs(tasks, opts.registry, APFLOW_EXECUTOR_ALIASES);

  const name = draft.name ?? (opts.defaultName || "tree");
  const newId = opts.newId ?? (() => uuidv7());
  const treeId = newId();
  const ids = tasks.map(() => newId());
  const rows: NewTask[] = tasks.map((t, i) => toRow(t, ids[i]!, t.parentIndex === null ? null : ids[t.parentIndex]!, ids));

  const tops = tasks.flatMap((t, i) => (t.parentIndex === null ? [i] : []));
  let rootId: string;
  if (tops.length === 1) {
    rootId = ids[tops[0]!]!;
  } else {
    const rootName = freeName(name, new Set(tasks.map((t) => t.name)));
    const executor = opts.registry.get(ROOT_EXECUTOR);
    const list = oneLine(tops.map((i) => tasks[i]!.name).join(", "));
    if (!executor) {
      throw new InputError(
        `tree: ${tops.length} tasks have no parent (${list}); the root grove adds above them needs the executor ${quote(ROOT_EXECUTOR)}, which is not registered`,
      );
    }
    const check = validate(executor.inputSchema, {});
    if (!check.ok) {
      throw new InputError(
        `tree: ${tops.length} tasks have no parent (${list}); the root grove adds above them cannot run: executor ${quote(ROOT_EXECUTOR)} rejects empty inputs (${describeIssues(check.issues)})`,
      );
    }
    rootId = newId();
    for (const i of tops) rows[i]!.parent_id = rootId;
    rows.push({
      id: rootId,
      parent_id: null,
      name: rootName,
      executor: ROOT_EXECUTOR,
      inputs: {},
      dependencies: tops.map((i) => ({ task: ids[i]!, required: true })),
      priority: DEFAULT_PRIORITY,
      retry: { ...DEFAULT_RETRY },
      timeout_ms: null,
      lease_ms: null,
      placement: {},
    });
  }
  return { id: treeId, name, owner, inputs: draft.inputs, root_id: rootId, tasks: rows };
}

function toRow(t: ResolvedTask, id: string, parentId: string | null, ids: string[]): NewTask {
  return {
    id,
    parent_id: parentId,
    name: t.name,
    executor: t.executor,
    inputs: t.inputs,
    dependencies: t.deps.map((d) => ({ task: ids[d.index]!, required: d.required })),
    priority: t.priority,
    retry: t.retry,
    timeout_ms: t.timeout_ms,
    lease_ms: t.lease_ms,
    placement: t.placement,
  };
}

function freeName(name: string, taken: Set<string>): string {
  if (!taken.has(name)) return name;
  let candidate = `${name}_root`;
  for (let n = 2; taken.has(candidate); n++) candidate = `${name}_root${n}`;
  return candidate;
}
