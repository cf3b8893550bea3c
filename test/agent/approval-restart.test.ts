// Issue 5, must-show 3, with the real agent: an agent task whose command needs approval pauses
// its tree, the process that ran it goes away (exit 3, or SIGKILL), `grove tasks approve` is run
// from another process, and `grove run --resume` carries the stored conversation on: the approved
// command really runs then, and the typed answer comes back. The model is the fake
// OpenAI-compatible server, answering from the conversation it is sent, so any process can
// continue it.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { grove, groveBackground } from "../helpers/cli.js";
import { answer, fakeModel, lastResult, run, steps, workspace } from "./helpers.js";

function agentTree(dir: string) {
  return {
    name: "restart-web",
    tasks: [
      {
        name: "restart",
        executor: "agent",
        inputs: {
          prompt: "restart the web service and tell me its new state",
          cwd: dir,
          approval: "always",
          output_schema: { type: "object", properties: { state: { type: "string" } }, required: ["state"], additionalProperties: false },
        },
      },
    ],
  };
}

/** The model: run the restart, then report what the command printed. */
const restartThenReport = steps(run("echo restarted >> service.log && echo running"), (req) => answer({ state: lastResult(req).stdout.trim() }));

describe("agent approval across processes", () => {
  it("pauses (exit 3), is approved from another process, and --resume finishes the conversation", async () => {
    const dir = workspace({});
    const { fake, env } = await fakeModel(restartThenReport);
    const runEnv = { ...env, GROVE_MODEL: "openai-compatible:fake" };
    const file = join(dir, "tree.json");
    writeFileSync(file, JSON.stringify(agentTree(dir)));
    const db = join(dir, "g.db");

    const first = await grove(["run", file, "--db", db], { env: runEnv });
    expect(first.stderr).toBe("");
    expect(first.code).toBe(3);
    expect(first.stdout).toContain("echo restarted >> service.log && echo running");
    expect(existsSync(join(dir, "service.log"))).toBe(false); // nothing ran before the approval
    const taskId = /grove tasks approve (\S+)/.exec(first.stdout)![1]!;
    const treeId = /grove run --resume (\S+)/.exec(first.stdout)![1]!;

    const approved = await grove(["tasks", "approve", taskId, "--reason", "maintenance window", "--db", db]);
    expect(approved.code).toBe(0);

    const resumed = await grove(["run", "--resume", treeId, "--db", db, "--json"], { env: runEnv });
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    const out = JSON.parse(resumed.stdout);
    expect(out.status).toBe("completed");
    const restart = out.tasks.find((t: { name: string }) => t.name === "restart");
    expect(restart.result.output).toEqual({ state: "running" });
    expect(readFileSync(join(dir, "service.log"), "utf8")).toBe("restarted\n"); // ran exactly once
    // The resumed process continued the stored conversation: its request to the model carries the
    // original prompt and the tool result of the approved command.
    const last = fake.completions().at(-1)!;
    expect(JSON.stringify(last.messages)).toContain("restart the web service");
    expect(lastResult(last).stdout).toBe("running\n");
  });

  it("survives a SIGKILL of the process while it waits, and a rejection reaches the model", async () => {
    const dir = workspace({});
    // A second task keeps `grove run` alive while the agent waits, so it can be killed mid-tree.
    const tree = agentTree(dir);
    // Its short lease lets --resume retry it soon after the kill.
    tree.tasks.push({ name: "hold", executor: "command", lease_ms: 1000, inputs: { command: "sleep 3" } } as never);
    const file = join(dir, "tree.json");
    writeFileSync(file, JSON.stringify(tree));
    const db = join(dir, "g.db");
    const { env } = await fakeModel(
      steps(run("echo restarted >> service.log && echo running"), (req) => answer({ state: lastResult(req)?.rejected ? "not restarted" : "unknown" })),
    );
    const runEnv = { ...env, GROVE_MODEL: "openai-compatible:fake" };

    const proc = groveBackground(["run", file, "--db", db], { env: runEnv });
    await proc.waitFor(/waiting +restart for approval/);
    proc.child.kill("SIGKILL");
    await proc.exited;

    const listed = JSON.parse((await grove(["tasks", "approvals", "--json", "--db", db])).stdout);
    expect(listed).toHaveLength(1);
    expect(listed[0].command).toBe("echo restarted >> service.log && echo running");
    const rejected = await grove(["tasks", "reject", listed[0].task_id, "--reason", "not now", "--db", db]);
    expect(rejected.code).toBe(0);
    expect(rejected.stderr).toBe("");

    const resumed = await grove(["run", "--resume", listed[0].tree_id, "--db", db, "--json"], { env: runEnv });
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    const out = JSON.parse(resumed.stdout);
    expect(out.tasks.find((t: { name: string }) => t.name === "restart").result.output).toEqual({ state: "not restarted" });
    expect(existsSync(join(dir, "service.log"))).toBe(false); // the rejected command never ran
  });
});
