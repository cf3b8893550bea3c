import { describe, it, expect, beforeAll, afterAll, beforeEach } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ExecutorRegistry } from "../../src/core/registry.js";
import { registerBuiltins } from "../../src/executors/index.js";
import { autoFix, buildPrompt, generateTree, relevantExecutors, allowedExecutors, type GenerateResult } from "../../src/executors/generate.js";
import { loadTree } from "../../src/tree/index.js";
import { failureOf, makeCtx, runExecutor, runTask } from "./support/ctx.js";
import { startFakeOpenAI, type FakeOpenAI, type FakeRequest } from "../helpers/fake-openai.js";
import { grove, tempDir } from "../helpers/cli.js";

// The model is the fake OpenAI-compatible server, scripted with plausible trees per requirement
// (what a model answers), some of them imperfect the way models are (several roots, a fence).
let fake: FakeOpenAI;
const saved: Record<string, string | undefined> = {};
const registry = new ExecutorRegistry();
registerBuiltins(registry);
const modelEnv = () => ({ GROVE_MODEL: "openai-compatible:fake-model", GROVE_OPENAI_COMPATIBLE_BASE_URL: fake.url });

beforeAll(async () => {
  fake = await startFakeOpenAI([{ content: "{}" }]);
  for (const [k, v] of Object.entries(modelEnv())) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
});
afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await fake.close();
});
beforeEach(() => {
  fake.requests.length = 0;
});

const requirementOf = (req: FakeRequest) => String(req.messages.find((m) => m.role === "user")?.content ?? "").replace(/^Requirement: /, "");
const get = (name: string, url: string, extra: Record<string, unknown> = {}) => ({ name, executor: "http", inputs: { url }, ...extra });
const sh = (name: string, command: string, extra: Record<string, unknown> = {}) => ({ name, executor: "command", inputs: { command }, ...extra });
const ask = (name: string, content: string, extra: Record<string, unknown> = {}) => ({
  name,
  executor: "llm",
  inputs: { messages: [{ role: "user", content }] },
  ...extra,
});
const agg = (name: string, extra: Record<string, unknown> = {}) => ({ name, executor: "aggregate", ...extra });

/** Seed 002's eleven example requirements (`apflow generate task-tree "…"`), the flags they need, and the tree the scripted model answers. */
const EXAMPLES: { requirement: string; flags: string[]; answer: unknown; fence?: boolean }[] = [
  {
    requirement: "Fetch data from two different APIs in parallel, then merge the results and save to database",
    flags: ["--allow", "http,command"],
    answer: {
      name: "parallel-fetch",
      tasks: [
        get("fetch_users", "https://api.example.com/users", { parent: "merge" }),
        get("fetch_orders", "https://api2.example.com/orders", { parent: "merge" }),
        agg("merge", { parent: "save" }),
        sh("save", "psql \"$DATABASE_URL\" -c \"insert into snapshots(data) values ('{{ tasks.merge.result.results }}')\"", { dependencies: ["merge"] }),
      ],
    },
  },
  {
    requirement: "Extract data from REST API, transform it by filtering and aggregating, then load it into database",
    flags: ["--allow", "http,command"],
    answer: {
      name: "etl",
      tasks: [
        get("extract", "https://api.example.com/records"),
        sh("transform", "echo '{{ tasks.extract.result.body }}' | jq '[.[] | select(.active)] | group_by(.kind) | map({kind: .[0].kind, n: length})'"),
        sh("load", "psql \"$DATABASE_URL\" -c \"copy summary from stdin\" <<< '{{ tasks.transform.result.stdout }}'"),
      ],
    },
  },
  {
    requirement: "Collect system information about CPU and memory in parallel, analyze the data, and aggregate results",
    flags: [],
    answer: {
      name: "system-check",
      tasks: [
        { name: "cpu", executor: "system_info", inputs: { resource: "cpu" }, parent: "results" },
        { name: "memory", executor: "system_info", inputs: { resource: "memory" }, parent: "results" },
        ask("analyze", "Analyze this CPU and memory data and flag problems: {{ tasks.cpu.result }} {{ tasks.memory.result }}", { parent: "results" }),
        agg("results"),
      ],
    },
  },
  {
    requirement: "Call REST API to get user data, process response with Python script, validate processed data, and save to file",
    flags: ["--allow", "http,command"],
    answer: {
      name: "user-pipeline",
      tasks: [
        get("get_users", "https://api.example.com/users", { parent: "pipeline" }),
        sh("process", "python3 process_users.py '{{ tasks.get_users.result.body }}'", { parent: "pipeline" }),
        sh("validate", "python3 validate_users.py '{{ tasks.process.result.stdout }}'", { parent: "pipeline" }),
        sh("save", "printf '%s' '{{ tasks.process.result.stdout }}' > users.json", { dependencies: ["validate"], parent: "pipeline" }),
        agg("pipeline"),
      ],
    },
    fence: true,
  },
  {
    requirement: "Fetch data from API, process it in two different ways in parallel (filter and aggregate), merge both results, and save to database",
    flags: ["--allow", "http,command"],
    answer: {
      name: "fan-out-fan-in",
      tasks: [
        get("fetch", "https://api.example.com/data"),
        sh("filter", "echo '{{ tasks.fetch.result.body }}' | jq '[.[] | select(.score > 5)]'", { parent: "merge" }),
        sh("summarize", "echo '{{ tasks.fetch.result.body }}' | jq 'group_by(.kind) | map(length)'", { parent: "merge" }),
        agg("merge", { parent: "save" }),
        sh("save", "psql \"$DATABASE_URL\" -c \"insert into results(data) values ('{{ tasks.merge.result.results }}')\"", { dependencies: ["fetch"] }),
      ],
    },
  },
  {
    requirement: "Monitor system resources (CPU, memory, disk) in parallel, analyze metrics, generate report, and send notification if threshold exceeded",
    flags: [],
    answer: {
      name: "resource-monitor",
      tasks: [
        { name: "cpu", executor: "system_info", inputs: { resource: "cpu" }, parent: "monitor" },
        { name: "memory", executor: "system_info", inputs: { resource: "memory" }, parent: "monitor" },
        { name: "disk", executor: "system_info", inputs: { resource: "disk" }, parent: "monitor" },
        ask("report", "Write a short report on these metrics; say ALERT if any usage is above 90%: {{ tasks.cpu.result }} {{ tasks.memory.result }} {{ tasks.disk.result }}", { parent: "monitor" }),
        {
          name: "notify",
          executor: "email",
          parent: "monitor",
          inputs: {
            smtp: { host: "smtp.example.com", port: 587 },
            from: "monitor@example.com",
            to: ["ops@example.com"],
            subject: "Resource report",
            text: "{{ tasks.report.result.text }}",
          },
        },
        agg("monitor"),
      ],
    },
  },
  {
    requirement: "Download data from multiple sources simultaneously, transform each dataset independently, then combine all results into single output file",
    flags: ["--allow", "http,command"],
    answer: {
      name: "multi-source",
      tasks: [
        get("source_a", "https://a.example.com/data.json"),
        get("source_b", "https://b.example.com/data.json"),
        get("source_c", "https://c.example.com/data.json"),
        sh("transform_a", "echo '{{ tasks.source_a.result.body }}' | jq -c .items > a.json"),
        sh("transform_b", "echo '{{ tasks.source_b.result.body }}' | jq -c .items > b.json"),
        sh("transform_c", "echo '{{ tasks.source_c.result.body }}' | jq -c .items > c.json"),
        sh("combine", "cat a.json b.json c.json > combined.json", { dependencies: ["transform_a", "transform_b", "transform_c"] }),
      ],
    },
  },
  {
    requirement: "Fetch data from API, organize into categories, process each category in parallel, then aggregate all category results",
    flags: [],
    answer: {
      name: "categories",
      tasks: [
        get("fetch", "https://api.example.com/products"),
        ask("organize", "Group these products into categories, as JSON: {{ tasks.fetch.result.body }}"),
        ask("process_hardware", "Summarize the hardware category: {{ tasks.organize.result.text }}", { parent: "all_categories" }),
        ask("process_software", "Summarize the software category: {{ tasks.organize.result.text }}", { parent: "all_categories" }),
        ask("process_services", "Summarize the services category: {{ tasks.organize.result.text }}", { parent: "all_categories" }),
        agg("all_categories"),
      ],
    },
  },
  {
    requirement: "Fetch customer data from API, validate information, process orders in parallel for each customer, aggregate results, calculate totals, and generate final report",
    flags: [],
    answer: {
      name: "customer-orders",
      tasks: [
        get("customers", "https://api.example.com/customers", { parent: "final_report" }),
        ask("validate", "Check these customer records for missing or malformed fields: {{ tasks.customers.result.body }}", { parent: "final_report" }),
        get("orders_acme", "https://api.example.com/customers/acme/orders", { dependencies: ["validate"], parent: "orders" }),
        get("orders_globex", "https://api.example.com/customers/globex/orders", { dependencies: ["validate"], parent: "orders" }),
        agg("orders", { parent: "final_report" }),
        ask("totals", "Calculate the order totals per customer: {{ tasks.orders.result.results }}", { parent: "final_report" }),
        ask("final_report", "Write the final report from these totals: {{ tasks.totals.result.text }}"),
      ],
    },
  },
  {
    requirement: "Create a workflow",
    flags: ["--temperature", "0.9", "--max-tokens", "6000", "--model", "openai-compatible:gpt-4o"],
    answer: { name: "workflow", tasks: [{ name: "info", executor: "system_info", inputs: {} }] },
  },
  {
    requirement: "My requirement",
    flags: ["-o", "SAVE"],
    answer: { name: "my-tree", tasks: [get("one", "https://example.com/a"), get("two", "https://example.com/b")] },
  },
];

function scriptExamples(): void {
  fake.setScript((req) => {
    const ex = EXAMPLES.find((e) => e.requirement === requirementOf(req));
    if (!ex) return { content: "I do not know this requirement" };
    const json = JSON.stringify(ex.answer, null, 1);
    return { content: ex.fence ? `Here is the tree:\n\`\`\`json\n${json}\n\`\`\`` : json };
  });
}

describe("grove generate: seed 002's eleven example requirements", () => {
  it("turns each into a valid tree (checked again with loadTree), within its allow-list", async () => {
    scriptExamples();
    const dir = tempDir("grove-generate-");
    for (const [i, ex] of EXAMPLES.entries()) {
      const file = join(dir, `tree-${i}.json`);
      const flags = ex.flags.map((f) => (f === "SAVE" ? file : f));
      const r = await grove(["generate", ex.requirement, "--json", ...flags], { env: modelEnv() });
      expect(r.stderr, ex.requirement).toBe("");
      expect(r.code, ex.requirement).toBe(0);
      const out = JSON.parse(r.stdout) as GenerateResult & { file?: string };
      expect(out.attempts, ex.requirement).toBe(1);
      const tree = loadTree(out.tree, { registry, owner: "", defaultName: "t" });
      expect(tree.tasks.filter((t) => t.parent_id === null), ex.requirement).toHaveLength(1);
      expect(out.task_count).toBe(tree.tasks.length);
      // Each tree stays within what the caller allowed (the default allow-list refuses command).
      const allowed = ex.flags[0] === "--allow" ? ex.flags[1]!.split(",").concat("aggregate") : allowedExecutors(registry).map((e) => e.id);
      for (const id of out.executors) expect(allowed, ex.requirement).toContain(id);
      if (ex.flags.includes("-o")) expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(out.tree);
    }
    expect(fake.requests).toHaveLength(EXAMPLES.length);
  });

  it("passes --model, --temperature and --max-tokens to the model; describes only relevant executors", async () => {
    scriptExamples();
    const ten = EXAMPLES[9]!;
    const r = await grove(["generate", ten.requirement, "--json", ...ten.flags], { env: modelEnv() });
    expect(r.code).toBe(0);
    const body = fake.requests[0]!.body;
    expect(body).toMatchObject({ model: "gpt-4o", temperature: 0.9, max_tokens: 6000 });
    const three = EXAMPLES[2]!;
    const r3 = JSON.parse((await grove(["generate", three.requirement, "--json"], { env: modelEnv() })).stdout) as GenerateResult;
    expect(r3.described).toEqual(expect.arrayContaining(["aggregate", "system_info", "llm"]));
    expect(r3.described).not.toContain("email");
    expect(r3.described).not.toContain("command"); // not allowed by default: never offered
    const prompt = fake.requests[1]!.messages[0].content as string;
    expect(prompt).toContain("### system_info");
    expect(prompt).toContain(JSON.stringify(registry.get("system_info")!.inputSchema));
    expect(prompt).not.toContain("### command");
  });

  it("several parentless tasks get one aggregate root, written into the tree (and said on stderr)", async () => {
    scriptExamples();
    const dir = tempDir("grove-generate-");
    const file = join(dir, "tree.json");
    const r = await grove(["generate", "My requirement", "-o", file], { env: modelEnv() });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('grove: fixed: added the root "my_tree" (aggregate) above 2 parentless tasks: one, two');
    expect(r.stderr).toContain(`grove: wrote ${file} (3 tasks: aggregate, http)`);
    const tree = JSON.parse(readFileSync(file, "utf8"));
    expect(tree.tasks.map((t: { name: string; parent?: string }) => [t.name, t.parent ?? null])).toEqual([
      ["one", "my_tree"],
      ["two", "my_tree"],
      ["my_tree", null],
    ]);
  });

  it("--run stores and runs the generated tree", async () => {
    fake.setScript([{ content: JSON.stringify({ name: "sys", tasks: [{ name: "mem", executor: "system_info", inputs: { resource: "memory" } }] }) }]);
    const r = await grove(["generate", "How much memory is free?", "--run", "--json", "--db", ":memory:"], { env: modelEnv() });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.run.status).toBe("completed");
    expect(out.run.tasks[0]).toMatchObject({ name: "mem", executor: "system_info", status: "completed" });
  });
});

describe("generate: malformed model output is repaired once, or rejected with the validator's errors", () => {
  const gen = (requirement: string, allow?: string[]) =>
    generateTree({ requirement, registry, owner: "", allow, signal: new AbortController().signal });
  const good = JSON.stringify({ name: "ok", tasks: [{ name: "cpu", executor: "system_info", inputs: { resource: "cpu" } }] });

  const cases: { what: string; bad: string; error: RegExp }[] = [
    { what: "bad JSON", bad: '{"name": "x", "tasks": [', error: /^the answer is not JSON/ },
    {
      what: "no root (every task has a parent)",
      bad: JSON.stringify({ tasks: [{ name: "a", executor: "aggregate", parent: "b" }, { name: "b", executor: "aggregate", parent: "a" }] }),
      error: /cycle/,
    },
    {
      what: "an unknown executor",
      bad: JSON.stringify({ tasks: [{ name: "q", executor: "database_query", inputs: { sql: "select 1" } }] }),
      error: /^task "q": executor "database_query" is not allowed in a generated tree/,
    },
    {
      what: "a dependency cycle",
      bad: JSON.stringify({
        tasks: [
          { name: "a", executor: "system_info", dependencies: ["b"], parent: "r" },
          { name: "b", executor: "system_info", dependencies: ["a"], parent: "r" },
          { name: "r", executor: "aggregate" },
        ],
      }),
      error: /cycle.*a.*b|cycle.*b.*a/,
    },
    {
      what: "inputs that do not fit the executor's schema",
      bad: JSON.stringify({ tasks: [{ name: "cpu", executor: "system_info", inputs: { resource: "gpu" } }] }),
      error: /^task "cpu": inputs\.resource must be one of/,
    },
    {
      what: "an executor the caller did not allow",
      bad: JSON.stringify({ tasks: [{ name: "rm", executor: "command", inputs: { command: "rm -rf /" } }] }),
      error: /^task "rm": executor "command" is not allowed in a generated tree \(allowed: /,
    },
  ];

  for (const c of cases) {
    it(`${c.what}: repaired when the second answer is valid, the error sent back to the model`, async () => {
      fake.setScript([{ content: c.bad }, { content: good }]);
      const r = await gen("check the cpu");
      expect(r.attempts).toBe(2);
      expect(r.tree).toEqual(JSON.parse(good));
      expect(fake.requests).toHaveLength(2);
      const repair = fake.requests[1]!;
      expect(repair.messages.at(-2)).toMatchObject({ role: "assistant", content: c.bad });
      expect(repair.last).toMatch(/^grove's validator rejected that tree: /);
      expect(repair.last.replace(/^grove's validator rejected that tree: /, "")).toMatch(c.error);
    });

    it(`${c.what}: rejected with the validator's error when the repair is bad too`, async () => {
      fake.setScript([{ content: c.bad }]);
      const f = await failureOf(gen("check the cpu"));
      expect(f.type).toBe("executor_error");
      expect(f.message).toMatch(/^the generated tree is invalid after one repair: /);
      const errors = (f.details as { errors: string[] }).errors;
      expect(errors).toHaveLength(2);
      for (const e of errors) expect(e).toMatch(c.error);
      expect(fake.requests).toHaveLength(2);
    });
  }

  it("the CLI exits 1 with the validator's error on one line; a bad --allow is exit 2", async () => {
    fake.setScript([{ content: JSON.stringify({ tasks: [{ name: "x", executor: "nope" }] }) }]);
    const r = await grove(["generate", "anything"], { env: modelEnv() });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^(grove: .*\n)*grove: the generated tree is invalid after one repair: task "x": executor "nope" is not allowed/m);
    const bad = await grove(["generate", "anything", "--allow", "http,teleport"], { env: modelEnv() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^grove: allow: executor "teleport" is not registered/);
    const noModel = await grove(["generate", "anything"], { env: { GROVE_MODEL: "" } });
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toMatch(/no model configured/);
  });
});

describe("generate executor (a task of a tree)", () => {
  it("returns the tree as its result; its allow-list is enforced", async () => {
    fake.setScript([{ content: JSON.stringify({ tasks: [{ name: "m", executor: "system_info", inputs: { resource: "memory" } }] }) }]);
    const r = await runTask("generate", { requirement: "memory please" });
    expect(r.status).toBe("completed");
    expect(r.result.tree).toEqual({ tasks: [{ name: "m", executor: "system_info", inputs: { resource: "memory" } }] });
    fake.setScript([{ content: JSON.stringify({ tasks: [{ name: "m", executor: "system_info" }] }) }]);
    const denied = await runTask("generate", { requirement: "memory please", allow: ["http"] });
    expect(denied.status).toBe("failed");
    expect(denied.error?.message).toMatch(/executor "system_info" is not allowed in a generated tree \(allowed: aggregate, http\)/);
    const bad = await runTask("generate", { requirement: "x", allow: ["generate"] });
    expect(bad.status).toBe("failed");
    expect(bad.error).toMatchObject({ type: "validation_error" });
  });

  it("direct call without a bound registry uses the built-ins", async () => {
    const { generate } = await import("../../src/executors/generate.js");
    fake.setScript([{ content: JSON.stringify({ tasks: [{ name: "c", executor: "system_info" }] }) }]);
    const r = await runExecutor<GenerateResult>(generate, { requirement: "cpu" }, makeCtx().ctx);
    expect(r.executors).toEqual(["system_info"]);
  });
});

describe("generate: prompt pieces", () => {
  it("relevance picks executors by the requirement's words, aggregate first; nothing relevant → all allowed", () => {
    const allowed = allowedExecutors(registry);
    expect(allowed.map((e) => e.id)).not.toEqual(expect.arrayContaining(["command"]));
    const picked = relevantExecutors("Monitor CPU and disk, then email the ops team", allowed).map((e) => e.id);
    expect(picked[0]).toBe("aggregate");
    expect(picked).toEqual(expect.arrayContaining(["system_info", "email"]));
    expect(picked).not.toContain("grpc");
    expect(relevantExecutors("zzz", allowed)).toHaveLength(allowed.length);
    expect(buildPrompt(picked.map((id) => registry.get(id)!))).toContain("Exactly one root");
  });

  it("autoFix leaves a one-root tree alone and unwraps {tree: …}", () => {
    const one = { tasks: [{ name: "a", executor: "http" }] };
    expect(autoFix(one)).toEqual({ doc: one, fixes: [] });
    expect(autoFix({ tree: one })).toEqual({ doc: one, fixes: ['unwrapped the tree from "tree"'] });
  });
});
