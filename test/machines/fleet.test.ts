// Fleets: a task given machines: [...] or labels: {...} fans out into one task per machine, under
// a parent that returns one result per machine. Three real machines: local and two sshd.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExecutorRegistry } from "../../src/core/registry.js";
import { registerBuiltins } from "../../src/executors/index.js";
import { Grove } from "../../src/client/local.js";
import { loadTree, MachinesNeeded, type FleetMachine } from "../../src/tree/index.js";
import { grove, tempDir } from "../helpers/cli.js";
import { startSshd, sshdMissing, type Sshd } from "../helpers/sshd.js";
import { startFakeOpenAI, type FakeRequest } from "../helpers/fake-openai.js";

const missing = sshdMissing();

describe("fleet fan-out in tree normalisation", () => {
  const registry = new ExecutorRegistry();
  registerBuiltins(registry);
  const fleet: FleetMachine[] = [
    { name: "local", owner: "", labels: {} },
    { name: "web1", owner: "acme", labels: { role: "web" } },
    { name: "web2", owner: "acme/ops", labels: { role: "web" } },
    { name: "db1", owner: "acme/dev", labels: { role: "db" } },
  ];
  const doc = (inputs: Record<string, unknown>) => ({ name: "t", tasks: [{ name: "disk", executor: "command", inputs: { command: "df", ...inputs } }] });

  it("expands into one task per machine under a fleet parent", () => {
    const tree = loadTree(doc({ labels: { role: "web" } }), { registry, owner: "acme/ops", defaultName: "t", machines: fleet });
    const byName = Object.fromEntries(tree.tasks.map((t) => [t.name, t]));
    expect(Object.keys(byName).sort()).toEqual(["disk", "disk@web1", "disk@web2"]);
    expect(byName.disk!.executor).toBe("fleet");
    expect(byName.disk!.inputs).toEqual({ members: { "disk@web1": "web1", "disk@web2": "web2" } });
    expect(byName["disk@web1"]!.inputs).toEqual({ command: "df", machine: "web1" });
    expect(byName["disk@web1"]!.parent_id).toBe(byName.disk!.id);
    expect(byName.disk!.dependencies).toEqual([
      { task: byName["disk@web1"]!.id, required: false },
      { task: byName["disk@web2"]!.id, required: false },
    ]);
  });

  it("asks for the machine list (on demand) only when the tree has a fleet task", async () => {
    const opts = { registry, owner: "acme/ops", defaultName: "t", machines: "on-demand" as const };
    expect(() => loadTree(doc({ labels: { role: "web" } }), opts)).toThrow(MachinesNeeded);
    expect(loadTree(doc({}), opts).tasks.map((t) => t.name)).toEqual(["disk"]);
    // Grove.createTree reads the list then, and expands as before.
    const g = await Grove.local({ db: ":memory:" });
    try {
      const tree = await g.createTree(doc({ machines: ["local"] }));
      expect((await g.store.treeTasks(tree.id)).map((t) => t.name).sort()).toEqual(["disk", "disk@local"]);
    } finally {
      await g.close();
    }
  });

  it("names the field of a machine the owner may not use, or labels matching none", () => {
    const load = (inputs: Record<string, unknown>, owner = "acme/ops") => () => loadTree(doc(inputs), { registry, owner, defaultName: "t", machines: fleet });
    expect(load({ machines: ["local", "db1"] })).toThrow('task "disk": inputs.machines[1] "db1" is not a machine owner "acme/ops" may use (grove machines list)');
    expect(load({ labels: { role: "db" } })).toThrow('task "disk": inputs.labels {"role":"db"} match no machine owner "acme/ops" may use');
    expect(load({ machines: [] })).toThrow('task "disk": inputs.machines must be a non-empty array of machine names, got []');
    expect(load({ machines: ["web1"], machine: "web2" })).toThrow('task "disk": inputs.machines cannot be combined with inputs.machine');
    expect(() => loadTree(doc({ labels: { role: "web" } }), { registry, owner: "", defaultName: "t" })).toThrow(
      'task "disk": inputs.labels needs the machine registry to pick machines, which is not available here',
    );
  });
});

describe.skipIf(missing)(`a fleet of three machines${missing ? ` (skipped: ${missing})` : ""}`, () => {
  let a: Sshd;
  let b: Sshd;
  beforeAll(async () => {
    a = await startSshd();
    b = await startSshd({ clientKey: a.keyPath });
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it("returns one result per machine, keyed by machine name", async () => {
    const db = join(tempDir("grove-fleet-"), "g.db");
    for (const [name, s] of [["web1", a], ["web2", b]] as const) {
      const r = await grove(["machines", "add", name, "--ssh", `${s.user}@127.0.0.1:${s.port}`, "--key", s.keyPath, "--known-hosts", s.knownHostsPath, "--labels", "role=web", "--db", db]);
      expect(r.code).toBe(0);
    }
    const file = join(tempDir("grove-fleet-tree-"), "tree.json");
    // SSH_CONNECTION ends with the server's port: each machine answers differently.
    const command = 'echo "${SSH_CONNECTION:-here}" | awk \'{print $NF}\'';
    writeFileSync(
      file,
      JSON.stringify({
        name: "fleet",
        tasks: [
          { name: "all", executor: "command", inputs: { command, machines: ["local", "web1", "web2"] } },
          { name: "web", executor: "command", inputs: { command, labels: { role: "web" } } },
          { name: "report", executor: "command", inputs: { command: "echo {{ tasks.all.result.results.web2.stdout }}" } },
        ],
      }),
    );
    const r = await grove(["run", file, "--db", db, "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const tree = JSON.parse(r.stdout);
    const task = (name: string) => tree.tasks.find((t: { name: string }) => t.name === name);
    expect(task("all").executor).toBe("fleet");
    expect(task("all").result).toEqual({
      results: {
        // (remote stderr may hold the login shell's own startup warnings: see test/executors/ssh.test.ts)
        local: { stdout: "here\n", stderr: "", exit_code: 0 },
        web1: { stdout: `${a.port}\n`, stderr: expect.any(String), exit_code: 0 },
        web2: { stdout: `${b.port}\n`, stderr: expect.any(String), exit_code: 0 },
      },
      statuses: { local: "completed", web1: "completed", web2: "completed" },
      errors: {},
      count: 3,
      completed: 3,
      failed: 0,
    });
    expect(Object.keys(task("web").result.results)).toEqual(["web1", "web2"]);
    expect(task("report").result.stdout).toBe(`${b.port}\n`);
  });

  it("an agent run over the fleet returns one typed result per machine (issue 5)", async () => {
    const db = join(tempDir("grove-fleet-"), "g.db");
    for (const [name, s] of [["web1", a], ["web2", b]] as const) {
      const r = await grove(["machines", "add", name, "--ssh", `${s.user}@127.0.0.1:${s.port}`, "--key", s.keyPath, "--known-hosts", s.knownHostsPath, "--db", db]);
      expect(r.code).toBe(0);
    }
    // The model runs one command, then reports what it printed: each machine's own conversation.
    const whereAmI = 'echo "${SSH_CONNECTION:-here}" | awk \'{print $NF}\'';
    const fake = await startFakeOpenAI((req: FakeRequest) => {
      const result = req.toolResults.at(-1);
      if (!result) return { tool_calls: [{ name: "run_command", arguments: { command: whereAmI } }] };
      return { tool_calls: [{ name: "final_answer", arguments: { where: String(JSON.parse(result.content).stdout).trim() } }] };
    });
    try {
      const file = join(tempDir("grove-fleet-tree-"), "tree.json");
      const output_schema = { type: "object", properties: { where: { type: "string" } }, required: ["where"], additionalProperties: false };
      writeFileSync(file, JSON.stringify({ name: "ask", tasks: [{ name: "where", executor: "agent", inputs: { prompt: "Where are you?", output_schema, machines: ["local", "web1", "web2"] } }] }));
      const r = await grove(["run", file, "--db", db, "--json"], { env: { GROVE_MODEL: "openai-compatible:fake", GROVE_OPENAI_COMPATIBLE_BASE_URL: fake.url } });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const where = JSON.parse(r.stdout).tasks.find((t: { name: string }) => t.name === "where");
      expect(where.executor).toBe("fleet");
      expect(where.result.statuses).toEqual({ local: "completed", web1: "completed", web2: "completed" });
      expect(Object.fromEntries(Object.entries(where.result.results).map(([m, res]) => [m, (res as { output: unknown }).output]))).toEqual({
        local: { where: "here" },
        web1: { where: String(a.port) },
        web2: { where: String(b.port) },
      });
    } finally {
      await fake.close();
    }
  });

  it("a machine that fails fails the fleet, with every machine's outcome in the details", async () => {
    const db = join(tempDir("grove-fleet-"), "g.db");
    await grove(["machines", "add", "web1", "--ssh", `${a.user}@127.0.0.1:${a.port}`, "--key", a.keyPath, "--known-hosts", a.knownHostsPath, "--db", db]);
    // Its known_hosts does not know the server: refused.
    await grove(["machines", "add", "web2", "--ssh", `${b.user}@127.0.0.1:${b.port}`, "--key", b.keyPath, "--known-hosts", a.knownHostsPath, "--db", db]);
    const file = join(tempDir("grove-fleet-tree-"), "tree.json");
    writeFileSync(file, JSON.stringify({ tasks: [{ name: "up", executor: "command", inputs: { command: "echo up", machines: ["web1", "web2"] } }] }));
    const r = await grove(["run", file, "--db", db, "--json"]);
    expect(r.code).toBe(1);
    const tree = JSON.parse(r.stdout);
    const up = tree.tasks.find((t: { name: string }) => t.name === "up");
    expect(up.status).toBe("failed");
    expect(up.error.message).toMatch(/^1 of 2 machines failed: web2 \(executor_error: host key verification failed/);
    expect(up.error.details.results.web1).toEqual({ stdout: "up\n", stderr: expect.any(String), exit_code: 0 });
    expect(up.error.details.statuses).toEqual({ web1: "completed", web2: "failed" });
  });
});
