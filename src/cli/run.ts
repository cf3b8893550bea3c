import { InputError, NotFoundError } from "../core/errors.js";
import { io, setExitCode, write } from "./io.js";
import { LiveView } from "./live-view.js";
import { openGrove, printJson } from "./context.js";
import type { ApprovalSummary } from "../client/result.js";
import type { GlobalOptions } from "./program.js";

interface RunOpts extends GlobalOptions {
  resume?: string;
  concurrency: number;
  leaseMs?: number;
  progress: boolean;
  input?: string[];
  detach?: boolean;
  allowPrivateNetwork?: boolean;
}

/** `--input key=value` pairs; a value that parses as JSON keeps its type. */
export function parseInputs(pairs: string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq < 1) throw new InputError(`--input ${pair}: expected key=value`, "input");
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    out[pair.slice(0, eq)] = value;
  }
  return out;
}

/** `grove run` exit code when the tree stopped because tasks wait for approval (DESIGN §9, §10). */
export const EXIT_WAITING_APPROVAL = 3;

function printWaiting(treeId: string, waiting: ApprovalSummary[]): void {
  write(`waiting for approval (${waiting.length} task${waiting.length === 1 ? "" : "s"}); the tree stays resumable:
`);
  for (const a of waiting) {
    write(`  ? ${a.name} (${a.task_id}) risk ${a.risk}: ${a.command}
`);
    for (const r of a.reasons) write(`      ${r}
`);
    write(`      approve: ${a.approve} [--reason TEXT]
      reject:  ${a.reject} [--reason TEXT]
`);
  }
  write(`then continue with: grove run --resume ${treeId}
`);
}

export async function runCommand(file: string | undefined, opts: RunOpts): Promise<void> {
  if (!file && !opts.resume) throw new InputError("grove run: give a tree FILE, or --resume TREE_ID", "file");
  if (file && opts.resume) throw new InputError("grove run: give either a FILE or --resume TREE_ID, not both", "file");
  if (opts.resume && opts.detach) throw new InputError("--detach stores a new tree; it cannot be used with --resume", "detach");
  if (opts.resume && opts.input?.length) throw new InputError("--input cannot change a stored tree (--resume)", "input");
  const inputs = parseInputs(opts.input);
  const grove = await openGrove(opts);
  try {
    let treeId: string;
    if (opts.resume) {
      const tree = await grove.store.getTree(opts.resume, grove.scope);
      if (!tree) throw new NotFoundError(`no tree ${opts.resume}`);
      treeId = tree.id;
    } else {
      treeId = (await grove.createTreeFromFile(file!, { inputs })).id;
      if (opts.detach) {
        if (opts.json) printJson({ tree_id: treeId });
        else write(`${treeId}\n`);
        return;
      }
    }
    const mode = opts.json ? "quiet" : io().stdout.isTTY && opts.progress ? "tty" : "plain";
    const view = new LiveView({ mode });
    view.start(await grove.listTasks({ treeId, limit: 1_000_000 }));
    const interrupt = new AbortController();
    let interrupted = false;
    const onSignal = () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      process.stderr.write(`\ngrove: interrupted; running tasks were handed back. Resume with: grove run --resume ${treeId}\n`);
      interrupt.abort();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    let result;
    try {
      result = await grove.runTree(treeId, { concurrency: opts.concurrency, onEvent: view.onEvent, signal: interrupt.signal });
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
    view.finish(interrupted ? null : result);
    if (opts.json) printJson(result);
    const waiting = !interrupted && result.approvals ? result.approvals : [];
    if (waiting.length > 0 && !opts.json) printWaiting(treeId, waiting);
    // 3: not finished, not failed — paused for a human; the tree resumes after the decision.
    setExitCode(interrupted ? 130 : result.status === "completed" ? 0 : waiting.length > 0 ? EXIT_WAITING_APPROVAL : 1);
  } finally {
    await grove.close();
  }
}
