// Fleets (DESIGN §9): a task whose executor takes a `machine` input may instead give
// `machines: ["a", "b"]` or `labels: {k: v}` in its inputs. Before references are resolved, such a
// task is expanded into
//   - one child per machine, named `<task>@<machine>`, with the same inputs and `machine` set
//     (and the task's dependencies, priority, retry, timeout, lease and placement), and
//   - the task itself, now a `fleet` task: it depends on those children (required: false, so it
//     always runs) and returns one result per machine, keyed by machine name.
// Labels are matched against the machine registry, which the caller reads beforehand and passes
// as a snapshot (loadTree stays synchronous and store-free); names are checked against it too.
// Without a snapshot, names are taken as written (checked when the task runs) and labels are an
// error. The expansion is done once, when the tree is created: adding a machine later does not
// change a stored tree.
import { InputError } from "../core/errors.js";
import type { ExecutorRegistry } from "../core/registry.js";
import { scopeContains } from "../core/scope.js";
import { DEFAULT_PRIORITY, DEFAULT_RETRY } from "../core/types.js";
import type { DraftTask, DraftTree } from "./normalize.js";

/** A machine as the fan-out sees it: from MachineRegistry.fleetView() ("local" included). */
export interface FleetMachine {
  name: string;
  owner: string;
  labels: Record<string, string>;
}

export const FLEET_EXECUTOR = "fleet";

const quote = (s: string) => JSON.stringify(s);

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function takesMachine(registry: ExecutorRegistry, executor: string, key: string): boolean {
  const props = registry.get(executor)?.inputSchema.properties;
  return isObj(props) && "machine" in props && !(key in props);
}

/** The machines a tree owned by `owner` may use, by name: the nearest owner wins. */
function usable(machines: readonly FleetMachine[], owner: string): Map<string, FleetMachine> {
  const byName = new Map<string, FleetMachine>();
  const sorted = machines.filter((m) => scopeContains(m.owner, owner)).sort((a, b) => a.owner.length - b.owner.length);
  for (const m of sorted) byName.set(m.name, m);
  return byName;
}

/**
 * Thrown by expandFleets given `machines: "on-demand"` when the tree has a fleet task: the caller
 * reads the machine list and loads the tree again. Trees without fleet tasks (most) thus cost no
 * read of the registry.
 */
export class MachinesNeeded extends Error {}

/** Expands every fleet task of a draft in place (children are appended, so indices hold). */
export function expandFleets(draft: DraftTree, registry: ExecutorRegistry, owner: string, machines?: readonly FleetMachine[] | "on-demand"): void {
  const count = draft.tasks.length;
  let visible: Map<string, FleetMachine> | undefined;
  for (let i = 0; i < count; i++) {
    const t = draft.tasks[i]!;
    const hasList = "machines" in t.inputs && takesMachine(registry, t.executor, "machines");
    const hasLabels = "labels" in t.inputs && takesMachine(registry, t.executor, "labels");
    if (!hasList && !hasLabels) continue;
    if (machines === "on-demand") throw new MachinesNeeded("this tree has fleet tasks: load it again with the machine list");
    const label = `task ${quote(t.name)}`;
    const fail = (field: string, message: string): never => {
      throw new InputError(`${label}: ${field} ${message}`, `${t.where}.${field}`);
    };
    if (hasList && hasLabels) fail("inputs.labels", "cannot be combined with inputs.machines (give names or labels)");
    if ("machine" in t.inputs) fail(hasList ? "inputs.machines" : "inputs.labels", "cannot be combined with inputs.machine");
    if (machines) visible ??= usable(machines, owner);

    let names: string[];
    if (hasList) {
      const list = t.inputs.machines;
      if (!Array.isArray(list) || list.length === 0) fail("inputs.machines", `must be a non-empty array of machine names, got ${JSON.stringify(list)}`);
      names = [];
      (list as unknown[]).forEach((n, k) => {
        if (typeof n !== "string" || n === "") fail(`inputs.machines[${k}]`, `must be a machine name, got ${JSON.stringify(n)}`);
        if (names.includes(n as string)) fail(`inputs.machines[${k}]`, `${quote(n as string)} is listed twice`);
        if (visible && !visible.has(n as string)) {
          fail(`inputs.machines[${k}]`, `${quote(n as string)} is not a machine ${owner ? `owner ${quote(owner)}` : "this tree"} may use (grove machines list)`);
        }
        names.push(n as string);
      });
    } else {
      const want = t.inputs.labels;
      if (!isObj(want) || Object.keys(want).length === 0) fail("inputs.labels", `must be a non-empty object of string labels, got ${JSON.stringify(want)}`);
      for (const [k, v] of Object.entries(want as object)) if (typeof v !== "string") fail(`inputs.labels.${k}`, `must be a string, got ${JSON.stringify(v)}`);
      if (!visible) fail("inputs.labels", "needs the machine registry to pick machines, which is not available here");
      const wanted = Object.entries(want as Record<string, string>);
      names = [...visible!.values()].filter((m) => wanted.every(([k, v]) => m.labels[k] === v)).map((m) => m.name).sort();
      if (names.length === 0) fail("inputs.labels", `${JSON.stringify(want)} match no machine ${owner ? `owner ${quote(owner)}` : "this tree"} may use (grove machines list)`);
    }

    const inputs = { ...t.inputs };
    delete inputs.machines;
    delete inputs.labels;
    const members: Record<string, string> = {};
    const field = hasList ? "inputs.machines" : "inputs.labels";
    names.forEach((machine, k) => {
      const name = `${t.name}@${machine}`;
      members[name] = machine;
      const child: DraftTask = {
        where: hasList ? `${t.where}.inputs.machines[${k}]` : `${t.where}.inputs.labels(${machine})`,
        name,
        executor: t.executor,
        executorAsWritten: t.executorAsWritten,
        inputs: { ...structuredClone(inputs), machine },
        dependencies: t.dependencies.map((d) => ({ ...d })),
        enclosing: i,
        priority: t.priority,
        retry: { ...t.retry },
        timeout_ms: t.timeout_ms,
        lease_ms: t.lease_ms,
        placement: { ...t.placement },
      };
      draft.tasks.push(child);
    });
    // The task itself becomes the fleet's parent, where it was in the tree.
    Object.assign(t, {
      executor: FLEET_EXECUTOR,
      executorAsWritten: undefined,
      inputs: { members },
      dependencies: [...t.dependencies, ...Object.keys(members).map((ref) => ({ ref, required: false, field }))],
      priority: DEFAULT_PRIORITY,
      retry: { ...DEFAULT_RETRY },
      timeout_ms: null,
    } satisfies Partial<DraftTask>);
  }
}
