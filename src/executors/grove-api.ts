// `grove_api` (issue 6; apflow's `apflow_api_executor`): runs a tree on another grove server
// through its API — an inline tree definition, a stored tree, or the tree of a stored task — and
// waits for it by following its SSE stream (reconnecting with Last-Event-ID) or by polling, within
// timeout_ms. The API key is read from the environment variable named in `api_key_env` (a tree
// never holds a key). The URL goes through the private-address guard (and redirects are refused,
// so a redirect cannot lead past it) unless allowPrivateNetwork is set.
import { z } from "zod";
import { TaskFailure } from "../core/errors.js";
import { defineExecutor, type ExecutorContext } from "../core/executor.js";
import type { RemoteGrove } from "../client/remote.js";
import type { TreeResult } from "../client/result.js";
import { abortFailure, deadline, errorText } from "./net-target.js";
import { assertPublicUrl } from "./net-guard.js";

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name");

export const GroveApiInput = z.strictObject({
  url: z.string().regex(/^[Hh][Tt][Tt][Pp][Ss]?:\/\//, "must be an http:// or https:// URL").describe("Base URL of the other grove serve (http://host:8420)"),
  api_key_env: envName.describe("The environment variable of this worker holding the API key (or JWT) for that server"),
  tree: z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional().describe("A tree definition to create and run there (grove or apflow format)"),
  tree_id: z.string().min(1).optional().describe("A tree stored there, run again until it is terminal"),
  task_id: z.string().min(1).optional().describe("A task stored there: its tree is run, and the result is that task's"),
  inputs: z.record(z.string(), z.unknown()).optional().describe("Tree inputs (with tree)"),
  wait: z.enum(["stream", "poll", "none"]).default("stream").describe("stream: follow the tree's SSE events; poll: ask every poll_interval_ms; none: return once started"),
  poll_interval_ms: z.number().int().min(50).default(1000),
  timeout_ms: z.number().int().positive().default(300_000).describe("Limit for the whole call, waiting included"),
  cancel_on_timeout: z.boolean().default(true).describe("Cancel the remote tree when this task times out or is cancelled"),
  allow_failure: z.boolean().default(false).describe("Complete (with the remote status in the result) even when the remote tree fails"),
});

const TaskJson = z.object({ id: z.string(), name: z.string(), executor: z.string(), status: z.string(), result: z.unknown(), error: z.unknown() }).passthrough();

export const GroveApiOutput = z.object({
  url: z.string(),
  tree_id: z.string(),
  status: z.string().describe("the remote tree's status (running with wait: none)"),
  tasks: z.array(TaskJson),
  task: TaskJson.nullable().describe("with task_id: that task"),
  events: z.number().int().describe("events received while streaming"),
});

export type GroveApiInputs = z.output<typeof GroveApiInput>;
type GroveApiResult = z.infer<typeof GroveApiOutput>;

export const groveApi = defineExecutor({
  id: "grove_api",
  name: "grove API",
  description:
    "Runs a tree on another grove server (an inline tree, a stored tree_id, or the tree of a task_id) and waits for it by streaming its events " +
    "or polling, within timeout_ms. The API key comes from the environment variable named in api_key_env. " +
    "Templates inside `tree` are resolved by the calling grove before it is sent (they can pass this tree's results on). " +
    "Private and link-local addresses are refused unless allowPrivateNetwork is set.",
  input: GroveApiInput,
  output: GroveApiOutput,
  cancelable: true,
  execute: (inputs, ctx) => callGrove(inputs, ctx),
});

async function callGrove(i: GroveApiInputs, ctx: ExecutorContext): Promise<GroveApiResult> {
  const given = (["tree", "tree_id", "task_id"] as const).filter((f) => i[f] !== undefined);
  if (given.length !== 1) throw new TaskFailure("validation_error", `give exactly one of tree, tree_id, task_id${given.length ? ` (got ${given.join(" and ")})` : ""}`);
  if (i.inputs !== undefined && i.tree === undefined) throw new TaskFailure("validation_error", "inputs only apply with tree");
  let url: URL;
  try {
    url = new URL(i.url);
  } catch {
    throw new TaskFailure("validation_error", `url ${JSON.stringify(i.url)} is not a valid URL`);
  }
  if (url.username || url.password) throw new TaskFailure("validation_error", "url must not carry credentials: name the key's environment variable in api_key_env");
  const apiKey = process.env[i.api_key_env];
  if (!apiKey) throw new TaskFailure("validation_error", `api_key_env: environment variable ${i.api_key_env} is not set`);
  const base = url.href.replace(/\/+$/, "");
  const what = `grove_api ${base}`;

  const { signal, done } = deadline(ctx.signal, i.timeout_ms, what);
  let remote: RemoteGrove | undefined;
  let treeId: string | undefined;
  try {
    await assertPublicUrl(url, ctx.settings, signal);
    signal.throwIfAborted();
    const { RemoteGrove } = await import("../client/remote.js");
    // Redirects are refused: every request goes to the vetted host.
    remote = new RemoteGrove({ url: base, apiKey, fetch: (input, init) => fetch(input, { ...init, redirect: "error" }) });
    const call = <T>(method: string, params: Record<string, unknown>) => remote!.call<T>(method, params, { signal });

    let taskId: string | undefined;
    if (i.task_id !== undefined) {
      const task = await call<{ tree_id: string }>("tasks.get", { id: i.task_id });
      treeId = task.tree_id;
      taskId = i.task_id;
    }
    if (i.tree !== undefined) {
      treeId = (await call<{ tree_id: string }>("tasks.execute", { tree: i.tree, inputs: i.inputs, stream: true })).tree_id;
    } else {
      treeId = (await call<{ tree_id: string }>("tasks.execute", { tree_id: treeId ?? i.tree_id, stream: true })).tree_id;
    }
    ctx.log(`started tree ${treeId} on ${base}`, { tree_id: treeId });

    let events = 0;
    let result: TreeResult;
    if (i.wait === "stream") {
      for await (const e of remote.events(treeId, { signal })) {
        events++;
        if (e.type === "tree.completed" || e.type === "tree.failed" || e.type === "tree.cancelled") ctx.log(`remote ${e.type}`, { tree_id: treeId, seq: e.seq });
      }
      result = await call<TreeResult>("tasks.tree", { id: treeId });
    } else if (i.wait === "poll") {
      for (;;) {
        result = await call<TreeResult>("tasks.tree", { id: treeId });
        if (result.status !== "running") break;
        await sleep(i.poll_interval_ms, signal);
      }
    } else {
      result = await call<TreeResult>("tasks.tree", { id: treeId });
    }

    const task = taskId ? (result.tasks.find((t) => t.id === taskId) ?? null) : null;
    const out: GroveApiResult = { url: base, tree_id: treeId, status: result.status, tasks: result.tasks as unknown as z.infer<typeof TaskJson>[], task: task as unknown as z.infer<typeof TaskJson> | null, events };
    const failedStatus = task ? task.status : result.status;
    if (i.wait !== "none" && !i.allow_failure && (failedStatus === "failed" || failedStatus === "cancelled" || failedStatus === "skipped")) {
      const first = result.tasks.find((t) => t.status === "failed");
      throw new TaskFailure("executor_error", `remote ${task ? `task ${task.name}` : `tree ${result.name}`} ${failedStatus}${first?.error ? `: ${first.name}: ${first.error.message}` : ""}`, { result: out });
    }
    return out;
  } catch (err) {
    if (signal.aborted) {
      if (treeId && remote && i.cancel_on_timeout) await remote.cancel(treeId, `${what}: the calling task was ${ctx.signal.aborted ? "cancelled" : "timed out"}`).catch(() => undefined);
      throw abortFailure(signal, what);
    }
    if (err instanceof TaskFailure) throw err;
    const e = err as Error & { code?: number; status?: number };
    if (e.name === "RemoteError") {
      const type = e.code === -32010 || e.code === -32602 ? "validation_error" : "executor_error";
      throw new TaskFailure(type, `${what}: ${e.message}${e.code ? ` (code ${e.code})` : ""}`, { code: e.code, status: e.status });
    }
    throw new TaskFailure("executor_error", `${what}: ${errorText(err)}`);
  } finally {
    done();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
