import { InputError } from "../core/errors.js";
import type { ExecutorRegistry } from "../core/registry.js";
import { checkExpression, findTemplates, parsePath } from "../core/templates.js";
import { validate } from "../core/validation.js";
import type { DraftTask, DraftTree } from "./normalize.js";

// The rules of DESIGN §3/§4 that a tree must pass before anything is stored. Each check throws
// the first problem as a one-line InputError naming the task and the field.

export type DependencyOrigin = "declared" | "template" | "child";

export interface ResolvedDependency {
  /** Index of the dependency in the task list. */
  index: number;
  required: boolean;
  origin: DependencyOrigin;
  /** The field that created the edge: `dependencies[0]`, `inputs.url`, `children`. */
  field: string;
}

export interface ResolvedTask extends DraftTask {
  parentIndex: number | null;
  /** One entry per dependency task: declared ones, then template-derived, then children. */
  deps: ResolvedDependency[];
}

/** A quoted name or value for a one-line message (JSON escapes keep it on one line). */
export function quote(s: string): string {
  return JSON.stringify(s);
}

function taskLabel(t: DraftTask): string {
  return `task ${quote(t.name)}`;
}

/** Error messages are one line: line breaks from user text (keys, templates) are escaped. */
export function oneLine(message: string): string {
  return message.replace(/\r/g, "\\r").replace(/\n/g, "\\n");
}

function fail(t: DraftTask, field: string, message: string): never {
  throw new InputError(oneLine(`${taskLabel(t)}: ${field} ${message}`), `${t.where}.${field}`);
}

/**
 * Checks that names (and apflow ids) are unique and that every reference resolves: parents,
 * dependencies and `{{ tasks.<name>… }}` templates. Returns the tasks with their edges: declared
 * dependencies, a required one per template-referenced task not already declared, and the
 * implicit edge from a parent to each child (required unless declared `required: false`).
 */
export function resolveReferences(draft: DraftTree): ResolvedTask[] {
  const tasks = draft.tasks;
  const byName = new Map<string, number>();
  const byKey = new Map<string, number>();
  tasks.forEach((t, i) => {
    const seen = byName.get(t.name);
    if (seen !== undefined) {
      const unnamed = tasks[seen]!.unnamed || t.unnamed ? " (a row without a name is named after its executor)" : "";
      throw new InputError(`duplicate task name ${quote(t.name)} (${tasks[seen]!.where} and ${t.where})${unnamed}`, `${t.where}.name`);
    }
    byName.set(t.name, i);
    if (t.key !== undefined) {
      const seenKey = byKey.get(t.key);
      if (seenKey !== undefined) {
        throw new InputError(`duplicate task id ${quote(t.key)} (${tasks[seenKey]!.where} and ${t.where})`, `${t.where}.id`);
      }
      byKey.set(t.key, i);
    }
  });
  // apflow references are ids first, then names; grove references are names.
  const lookup = (ref: string): number | undefined => byKey.get(ref) ?? byName.get(ref);

  const depSets: Set<number>[] = [];
  const resolved: ResolvedTask[] = tasks.map((t, i) => {
    let parentIndex: number | null = t.enclosing ?? null;
    if (t.parent) {
      const p = lookup(t.parent.ref);
      if (p === undefined) fail(t, t.parent.field, `${quote(t.parent.ref)} does not exist`);
      if (p === i) fail(t, t.parent.field, `${quote(t.parent.ref)} is the task itself`);
      if (t.enclosing !== undefined && p !== t.enclosing) {
        fail(t, t.parent.field, `${quote(t.parent.ref)} contradicts the enclosing task ${quote(tasks[t.enclosing]!.name)} (it is listed in its children)`);
      }
      parentIndex = p;
    }
    const deps: ResolvedDependency[] = [];
    const byIndex = new Map<number, ResolvedDependency>();
    for (const d of t.dependencies) {
      const j = lookup(d.ref);
      if (j === undefined) fail(t, d.field, `${quote(d.ref)} does not exist`);
      const existing = byIndex.get(j);
      if (existing) {
        existing.required ||= d.required; // listed twice: required wins
        continue;
      }
      const dep: ResolvedDependency = { index: j, required: d.required, origin: "declared", field: d.field };
      byIndex.set(j, dep);
      deps.push(dep);
    }
    for (const use of findTemplates(t.inputs)) {
      const field = `inputs.${use.field}`;
      const problem = checkExpression(use.expression);
      if (problem) fail(t, field, `has a bad template: ${problem}`);
      const [root, target] = parsePath(use.expression);
      if (root !== "tasks" || typeof target !== "string") continue;
      const j = byName.get(target);
      if (j === undefined) fail(t, field, `references task ${quote(target)}, which does not exist`);
      if (j === i) fail(t, field, `references the task itself (${quote(`{{ ${use.expression} }}`)})`);
      if (byIndex.has(j)) continue;
      const dep: ResolvedDependency = { index: j, required: true, origin: "template", field };
      byIndex.set(j, dep);
      deps.push(dep);
    }
    depSets.push(new Set(byIndex.keys()));
    return { ...t, parentIndex, deps };
  });

  resolved.forEach((t, i) => {
    if (t.parentIndex === null) return;
    const declared = depSets[t.parentIndex]!;
    if (declared.has(i)) return; // declared: its `required` stands
    declared.add(i);
    resolved[t.parentIndex]!.deps.push({ index: i, required: true, origin: "child", field: "children" });
  });
  return resolved;
}

/**
 * Finds a cycle in a directed graph (iteratively, so deep chains do not overflow the stack).
 * Returns the nodes of the first cycle found, first node repeated at the end, rotated so that it
 * starts at its lowest index; null when the graph is acyclic.
 */
export function findCycle(count: number, edges: (node: number) => readonly number[]): number[] | null {
  // `edges` is called once per step: it should return a precomputed array.
  const state = new Uint8Array(count); // 0 unseen, 1 on the current path, 2 done
  for (let start = 0; start < count; start++) {
    if (state[start] !== 0) continue;
    const path: number[] = [start];
    const next: number[] = [0];
    state[start] = 1;
    while (path.length > 0) {
      const top = path.length - 1;
      const node = path[top]!;
      const out = edges(node);
      if (next[top]! < out.length) {
        const m = out[next[top]!++]!;
        if (state[m] === 1) {
          const cycle = path.slice(path.indexOf(m));
          let low = 0;
          for (let k = 1; k < cycle.length; k++) if (cycle[k]! < cycle[low]!) low = k;
          const rotated = [...cycle.slice(low), ...cycle.slice(0, low)];
          return [...rotated, rotated[0]!];
        }
        if (state[m] === 0) {
          state[m] = 1;
          path.push(m);
          next.push(0);
        }
      } else {
        state[node] = 2;
        path.pop();
        next.pop();
      }
    }
  }
  return null;
}

/**
 * Rejects a cycle among dependencies, template references and the implicit parent → child
 * edges. `a → b` in the message reads "a waits for b"; edges the file does not spell out are
 * explained in parentheses.
 */
export function checkCycles(tasks: ResolvedTask[]): void {
  const adjacency = tasks.map((t) => t.deps.map((d) => d.index));
  const cycle = findCycle(tasks.length, (i) => adjacency[i]!);
  if (!cycle) return;
  const notes: string[] = [];
  for (let k = 0; k + 1 < cycle.length; k++) {
    const from = tasks[cycle[k]!]!;
    const to = tasks[cycle[k + 1]!]!;
    const edge = from.deps.find((d) => d.index === cycle[k + 1])!;
    if (edge.origin === "child") notes.push(`${quote(from.name)} waits for its child ${quote(to.name)}`);
    if (edge.origin === "template") notes.push(`${quote(from.name)} uses tasks.${to.name} in ${edge.field}`);
  }
  const names = cycle.map((i) => tasks[i]!.name).join(" → ");
  const first = tasks[cycle[0]!]!;
  const firstEdge = first.deps.find((d) => d.index === cycle[1]);
  throw new InputError(
    oneLine(`dependency cycle: ${names}${notes.length ? ` (${notes.join("; ")})` : ""}`),
    firstEdge && firstEdge.origin !== "child" ? `${first.where}.${firstEdge.field}` : first.where,
  );
}

const JSON_TYPE = "(?:string|number|integer|boolean|object|array|null)";
/** Ajv's message for the `type` keyword: "must be integer", "must be string,null". */
const TYPE_ISSUE = new RegExp(`^must be ${JSON_TYPE}(?:,${JSON_TYPE})*$`);

/**
 * Checks that every executor is registered and that every task's inputs validate against its
 * executor's input schema. Fields holding exactly one `{{ … }}` template are resolved at run
 * time, so their errors do not count here; a string with a template inside stays a string: only
 * a type mismatch counts for it (its text is checked after resolution, DESIGN §3).
 */
export function checkExecutorsAndInputs(
  tasks: readonly DraftTask[],
  registry: ExecutorRegistry,
  /** Executor ids users may write by habit (apflow's), for a "did you mean" hint. */
  aliases: Readonly<Record<string, string>> = {},
): void {
  for (const t of tasks) {
    const executor = registry.get(t.executor);
    if (!executor) {
      const asWritten = t.executorAsWritten ? ` (apflow ${quote(t.executorAsWritten)})` : "";
      const alias = Object.hasOwn(aliases, t.executor) ? aliases[t.executor] : undefined;
      const known = registry.list().map((e) => e.id);
      const hint =
        alias && registry.has(alias)
          ? ` (did you mean ${quote(alias)}?)`
          : known.length > 0
            ? ` (registered: ${known.join(", ")})`
            : " (no executors are registered)";
      fail(t, "executor", `${quote(t.executor)}${asWritten} is not registered${hint}`);
    }
    const uses = findTemplates(t.inputs);
    const exact = new Set(uses.filter((u) => u.exact).map((u) => u.field));
    const interpolated = new Set(uses.filter((u) => !u.exact).map((u) => u.field));
    const result = validate(executor.inputSchema, t.inputs, exact);
    // A string with a template inside stays a string, so a type error is certain; its text is
    // not known yet, so pattern, format, enum and length are checked after resolution.
    const issues = result.ok ? [] : result.issues.filter((i) => !interpolated.has(i.field) || TYPE_ISSUE.test(i.message));
    if (issues.length > 0) {
      const issue = issues[0]!;
      const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
      const field = issue.field ? `inputs.${issue.field}` : "inputs";
      fail(t, field, `${issue.message}${more}`);
    }
  }
}
