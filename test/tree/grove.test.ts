import { describe, expect, it } from "vitest";
import { DEFAULT_PRIORITY, DEFAULT_RETRY } from "../../src/core/types.js";
import { loadTree, parseTreeText } from "../../src/tree/index.js";
import { byName, depsOf, fixture, inputError, load, testRegistry } from "./helpers.js";

const UUIDV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("grove format", () => {
  it("normalises the DESIGN §3 example into rows, adding an aggregate root above the parentless tasks", () => {
    const tree = load(parseTreeText(fixture("etl.json"), "etl.json"));
    expect(tree.name).toBe("etl");
    expect(tree.owner).toBe("acme/ops");
    expect(tree.inputs).toEqual({ day: "2026-11-20" });
    expect(tree.tasks.map((t) => t.name)).toEqual(["fetch", "count", "report", "etl"]); // file order, root last
    const root = byName(tree, "etl");
    expect(tree.root_id).toBe(root.id);
    expect(root).toMatchObject({ parent_id: null, executor: "aggregate", inputs: {} });
    expect(depsOf(tree, "etl")).toEqual({ fetch: true, count: true, report: true });
    for (const name of ["fetch", "count", "report"]) expect(byName(tree, name).parent_id).toBe(root.id);
    // declared + template reference to the same task → one entry
    expect(byName(tree, "count").dependencies).toHaveLength(1);
    expect(depsOf(tree, "count")).toEqual({ fetch: true });
    expect(depsOf(tree, "report")).toEqual({ count: false });
    const fetch = byName(tree, "fetch");
    expect(fetch).toMatchObject({ executor: "http", priority: DEFAULT_PRIORITY, retry: DEFAULT_RETRY, timeout_ms: null, placement: {} });
  });

  it("stores inputs exactly as written: no defaults baked in, the document untouched", () => {
    const doc = parseTreeText(fixture("etl.json"), "etl.json") as { tasks: { inputs?: Record<string, unknown> }[] };
    const tree = load(doc);
    const fetch = byName(tree, "fetch");
    expect(fetch.inputs).toEqual({ url: "http://localhost:8080/data" }); // http's method default "GET" not added
    expect(doc.tasks[0]!.inputs).toEqual({ url: "http://localhost:8080/data" });
    fetch.inputs.url = "changed";
    expect(doc.tasks[0]!.inputs!.url).toBe("http://localhost:8080/data");
    expect(byName(tree, "count").inputs).toEqual({ command: "echo {{ tasks.fetch.result.body.total }}" });
  });

  it("gives fresh UUIDv7 ids to the tree and every task", () => {
    const tree = loadTree(parseTreeText(fixture("etl.json"), "etl.json"), { registry: testRegistry(), owner: "acme", defaultName: "x" });
    const ids = [tree.id, ...tree.tasks.map((t) => t.id)];
    for (const id of ids) expect(id).toMatch(UUIDV7);
    expect(new Set(ids).size).toBe(ids.length);
    const again = loadTree(parseTreeText(fixture("etl.json"), "etl.json"), { registry: testRegistry(), owner: "acme", defaultName: "x" });
    expect(again.id).not.toBe(tree.id);
  });

  it("reads the YAML version of a tree into the same rows", () => {
    const fromJson = load(parseTreeText(fixture("etl.json"), "etl.json"));
    const fromYaml = load(parseTreeText(fixture("etl.yaml"), "etl.yaml"));
    expect(fromYaml).toEqual(fromJson);
  });

  it("nests children: parents, implicit parent→child dependencies, optional when the parent says so", () => {
    const tree = load(parseTreeText(fixture("nested.yaml"), "nested.yaml"));
    expect(tree.tasks.map((t) => t.name)).toEqual(["nightly", "sum", "left", "right", "notify"]);
    const nightly = byName(tree, "nightly");
    expect(tree.root_id).toBe(nightly.id); // one parentless task: it is the root, none added
    expect(nightly.parent_id).toBeNull();
    expect(byName(tree, "sum").parent_id).toBe(nightly.id);
    expect(byName(tree, "notify").parent_id).toBe(nightly.id);
    expect(byName(tree, "left").parent_id).toBe(byName(tree, "sum").id);
    expect(byName(tree, "right").parent_id).toBe(byName(tree, "sum").id);
    expect(depsOf(tree, "nightly")).toEqual({ sum: true, notify: true });
    expect(depsOf(tree, "sum")).toEqual({ left: false, right: true }); // left listed with required: false
    expect(depsOf(tree, "notify")).toEqual({ sum: true });
    expect(byName(tree, "sum").dependencies).toHaveLength(2);
  });

  it("keeps priority 0, merges retry over the defaults, keeps timeout and placement", () => {
    const tree = load(parseTreeText(fixture("nested.yaml"), "nested.yaml"));
    expect(byName(tree, "sum").priority).toBe(0);
    expect(byName(tree, "left").priority).toBe(DEFAULT_PRIORITY);
    const right = byName(tree, "right");
    expect(right.retry).toEqual({ ...DEFAULT_RETRY, max_attempts: 3, backoff: "fixed" });
    expect(right.timeout_ms).toBe(5000);
    expect(right.placement).toEqual({ region: "eu" });
  });

  it("links a task to its parent by name with `parent`", () => {
    const tree = load({
      tasks: [
        { name: "a", executor: "command", parent: "top", inputs: { command: "true" } },
        { name: "b", executor: "command", parent: "a", inputs: { command: "true" } },
        { name: "top", executor: "aggregate" },
      ],
    });
    expect(byName(tree, "a").parent_id).toBe(byName(tree, "top").id);
    expect(byName(tree, "b").parent_id).toBe(byName(tree, "a").id);
    expect(depsOf(tree, "top")).toEqual({ a: true });
    expect(depsOf(tree, "a")).toEqual({ b: true });
    expect(tree.root_id).toBe(byName(tree, "top").id); // the root need not come first
    expect(tree.tasks.map((t) => t.name)).toEqual(["a", "b", "top"]);
  });

  it("adds a required dependency for every task a template references, wherever the template sits", () => {
    const tree = load({
      tasks: [
        { name: "a", executor: "command", inputs: { command: "true" } },
        { name: "b", executor: "command", inputs: { command: "true" } },
        { name: "c", executor: "command", inputs: { command: "x {{ tasks.a.status }}", args: ["{{ tasks.b.result.lines[0] }}"] } },
      ],
    });
    expect(depsOf(tree, "c")).toEqual({ a: true, b: true });
  });

  it("does not turn a declared optional dependency into a required one because of a template", () => {
    const tree = load({
      tasks: [
        { name: "a", executor: "command", inputs: { command: "true" } },
        { name: "b", executor: "command", dependencies: [{ task: "a", required: false }], inputs: { command: "{{ tasks.a.result.stdout }}" } },
      ],
    });
    expect(depsOf(tree, "b")).toEqual({ a: false });
  });

  it("keeps one entry per dependency when a task is listed twice (required wins)", () => {
    const tree = load({
      tasks: [
        { name: "a", executor: "command", inputs: { command: "true" } },
        { name: "b", executor: "command", dependencies: [{ task: "a", required: false }, "a"], inputs: { command: "true" } },
      ],
    });
    expect(byName(tree, "b").dependencies).toHaveLength(1);
    expect(depsOf(tree, "b")).toEqual({ a: true });
  });

  it("ignores fields holding exactly one template when validating inputs, whatever their type", () => {
    const tree = load({
      tasks: [
        { name: "a", executor: "command", inputs: { command: "true" } },
        {
          name: "b",
          executor: "command",
          inputs: { command: "{{ tasks.a.result.cmd }}", count: "{{ tasks.a.result.n }}", args: ["{{ tree.inputs.x }}"] },
        },
        { name: "c", executor: "http", inputs: { url: "{{ tree.inputs.url }}", method: "{{ secrets.METHOD }}", headers: "{{ tree.inputs.h }}" } },
      ],
    });
    expect(byName(tree, "b").inputs.count).toBe("{{ tasks.a.result.n }}");
  });

  it("validates a string with a template inside as a string: its type counts, its text is checked after resolution", () => {
    inputError(
      () => load({ tasks: [{ name: "b", executor: "command", inputs: { command: "x", count: "n={{ tree.inputs.n }}" } }] }),
      'task "b": inputs.count must be integer',
    );
    inputError(() => load({ tasks: [{ name: "b", executor: "command", inputs: { command: "x", cwd: "relative" } }] }), 'task "b": inputs.cwd must match pattern "^/"');
    // the resolved text may well match: "{{ tree.inputs.dir }}/sub" can become "/srv/sub", "G{{ … }}" can become "GET"
    const tree = load({
      tasks: [
        { name: "b", executor: "command", inputs: { command: "x", cwd: "{{ tree.inputs.dir }}/sub" } },
        { name: "f", executor: "http", inputs: { url: "{{ tree.inputs.base }}/stats", method: "G{{ tree.inputs.m }}" } },
      ],
    });
    expect(byName(tree, "b").inputs.cwd).toBe("{{ tree.inputs.dir }}/sub");
  });

  it("uses defaultName when the file has no name, and names the added root after it", () => {
    const tree = load(
      { tasks: [{ name: "a", executor: "aggregate" }, { name: "b", executor: "aggregate" }] },
      { defaultName: "nightly-report" },
    );
    expect(tree.name).toBe("nightly-report");
    expect(byName(tree, "nightly-report").id).toBe(tree.root_id);
  });

  it("suffixes the added root's name with _root when the tree's name is taken", () => {
    const tree = load({ name: "a", tasks: [{ name: "a", executor: "aggregate" }, { name: "b", executor: "aggregate" }] });
    expect(tree.tasks.at(-1)!.name).toBe("a_root");
    expect(tree.root_id).toBe(tree.tasks.at(-1)!.id);
    const again = load({
      name: "a",
      tasks: [
        { name: "a", executor: "aggregate" },
        { name: "a_root", executor: "aggregate" },
      ],
    });
    expect(again.tasks.at(-1)!.name).not.toMatch(/^(a|a_root)$/);
    expect(new Set(again.tasks.map((t) => t.name)).size).toBe(3);
  });

  it("rejects several parentless tasks when the aggregate executor for the added root is missing", () => {
    inputError(
      () => load({ tasks: [{ name: "a", executor: "command", inputs: { command: "x" } }, { name: "b", executor: "command", inputs: { command: "x" } }] }, { registry: testRegistry({ withAggregate: false }) }),
      "(a, b)",
      '"aggregate"',
      "not registered",
    );
  });

  it("takes the tree's owner from the file when it lies inside the caller's scope", () => {
    const tree = load({ owner: "acme/ops/bot-7", tasks: [{ name: "a", executor: "aggregate" }] });
    expect(tree.owner).toBe("acme/ops/bot-7");
    inputError(() => load({ owner: "acme/opsx", tasks: [{ name: "a", executor: "aggregate" }] }), 'owner "acme/opsx" is outside your scope "acme/ops"');
    inputError(() => load({ owner: "acme/../root", tasks: [{ name: "a", executor: "aggregate" }] }), "owner", "..");
  });
});
