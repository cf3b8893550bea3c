// JSON shapes shared by the RPC methods: the CLI's --json contracts (src/cli/contracts.ts), so
// `grove tasks get --json` and `tasks.get` answer the same object.
import { z } from "zod";
import { iso } from "../../client/result.js";
import type { GroveEvent, Task } from "../../core/types.js";
import type { Attempt } from "../../store/store.js";

export { AttemptJson, EventJson, ExecutorJson, TaskJson, TaskStatus, TreeResult } from "../../cli/contracts.js";

export const id = z.string().min(1).max(200);
/** A tree definition in grove or apflow format (validated by the tree loader, which names the field). */
export const TreeDoc = z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())]).describe("a tree in grove format (object) or apflow format (array of rows)");

export function taskJson(t: Task) {
  return {
    ...t,
    run_after: iso(t.run_after || null),
    lease_expires_at: iso(t.lease_expires_at),
    created_at: iso(t.created_at),
    started_at: iso(t.started_at),
    finished_at: iso(t.finished_at),
  };
}

export const attemptJson = (a: Attempt) => ({ ...a, started_at: iso(a.started_at), finished_at: iso(a.finished_at) });
export const eventJson = (e: GroveEvent) => ({ ...e, at: iso(e.at) });
