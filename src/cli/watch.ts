import { NotFoundError } from "../core/errors.js";
import { setExitCode, write } from "./io.js";
import { TERMINAL_TREE_EVENTS } from "../core/events.js";
import { iso } from "../client/result.js";
import { LiveView } from "./live-view.js";
import { openGrove, printJsonLine } from "./context.js";
import type { GlobalOptions } from "./program.js";

/**
 * `grove tasks watch TREE_ID`: streams a tree's stored events (from the start, or after
 * `--after SEQ`) until the tree ends; exit 0 if it completed, 1 otherwise. Works from any
 * process: events are read from the store, not from the process running the tree.
 */
export async function watchCommand(id: string, opts: GlobalOptions & { after: string; pollMs?: number }): Promise<void> {
  const grove = await openGrove(opts);
  try {
    const tree = await grove.store.getTree(id, grove.scope);
    if (!tree) throw new NotFoundError(`no tree ${id}`);
    const view = new LiveView({ mode: opts.json ? "quiet" : "plain" });
    view.start(await grove.listTasks({ treeId: id, limit: 1_000_000 }));
    let after = Number(opts.after) || 0;
    let status: string | null = null;
    while (status === null) {
      const events = await grove.store.events({ treeId: id, afterSeq: after, limit: 1000, scope: grove.scope });
      for (const e of events) {
        after = e.seq;
        if (opts.json) await printJsonLine({ ...e, at: iso(e.at) });
        else view.onEvent(e);
        if (TERMINAL_TREE_EVENTS.includes(e.type)) status = e.type.slice(5);
      }
      if (status === null && events.length < 1000) await grove.store.waitForWork(opts.pollMs ?? 200);
    }
    if (!opts.json) write(`tree ${tree.name} ${status}\n`);
    setExitCode(status === "completed" ? 0 : 1);
  } finally {
    await grove.close();
  }
}
