import { describe, expect, it } from "vitest";
import { defineExecutor } from "../../src/core/executor.js";
import { APFLOW_EXECUTOR_ALIASES, parseTreeText } from "../../src/tree/index.js";
import { byName, depsOf, fixture, inputError, load, testRegistry } from "./helpers.js";

describe("apflow format", () => {
  it("normalises an array of rows: aliases, references by id or name, params merged into inputs", () => {
    const tree = load(parseTreeText(fixture("apflow.json"), "apflow.json"), { defaultName: "apflow" });
    expect(tree.name).toBe("apflow");
    expect(tree.tasks.map((t) => [t.name, t.executor])).toEqual([
      ["pipeline", "aggregate"],
      ["fetch", "http"],
      ["count", "command"],
      ["ssh", "ssh"], // a row without a name is named after its executor
    ]);
    const root = byName(tree, "pipeline");
    expect(tree.root_id).toBe(root.id);
    expect(root.parent_id).toBeNull();
    expect(byName(tree, "fetch").parent_id).toBe(root.id); // parent_id by id
    expect(byName(tree, "count").parent_id).toBe(root.id); // parent_id by name
    expect(byName(tree, "ssh").parent_id).toBe(root.id);
    // declared {id, required}; ssh is an undeclared child → implicit required
    expect(depsOf(tree, "pipeline")).toEqual({ fetch: true, count: false, ssh: true });
    expect(depsOf(tree, "count")).toEqual({ fetch: true }); // bare name
    expect(depsOf(tree, "ssh")).toEqual({ count: true }); // {id} without required → required
    expect(byName(tree, "fetch").priority).toBe(0);
    // {...params, ...inputs} without params.executor_id
    expect(byName(tree, "count").inputs).toEqual({ cwd: "/tmp", command: "wc -l" });
  });

  it("never uses the apflow ids as task ids", () => {
    const tree = load(parseTreeText(fixture("apflow.json"), "apflow.json"));
    const ids = tree.tasks.map((t) => t.id);
    for (const id of ["t-root", "t-fetch", "t-count", "t-ssh"]) expect(ids).not.toContain(id);
    expect(tree.tasks.flatMap((t) => t.dependencies.map((d) => d.task)).every((id) => ids.includes(id))).toBe(true);
  });

  it("maps every apflow executor id to its grove executor", () => {
    expect(APFLOW_EXECUTOR_ALIASES).toEqual({
      command_executor: "command",
      rest_executor: "http",
      aggregate_results_executor: "aggregate",
      ssh_executor: "ssh",
      docker_executor: "docker",
      grpc_executor: "grpc",
      websocket_executor: "websocket",
      mcp_executor: "mcp",
      apflow_api_executor: "grove_api",
      generate_executor: "generate",
      llm_executor: "llm",
    });
    const registry = testRegistry();
    for (const id of ["docker", "grpc", "websocket", "mcp", "grove_api", "generate", "llm"]) {
      registry.register(defineExecutor({ id, input: { type: "object" }, execute: async () => ({}) }));
    }
    const aliases = Object.keys(APFLOW_EXECUTOR_ALIASES);
    const inputs: Record<string, Record<string, unknown>> = {
      command_executor: { command: "true" },
      rest_executor: { url: "http://x" },
      ssh_executor: { host: "h", command: "true" },
    };
    const rows = aliases.map((method, i) => ({ id: `r${i}`, name: `t${i}`, schemas: { method }, inputs: inputs[method] ?? {} }));
    const tree = load(rows, { registry });
    for (const [i, method] of aliases.entries()) expect(byName(tree, `t${i}`).executor).toBe(APFLOW_EXECUTOR_ALIASES[method]);
  });

  it("picks the executor from params.executor_id, then schemas.method, then name", () => {
    const tree = load([
      { name: "top", schemas: { method: "aggregate_results_executor" } },
      { name: "p", parent_id: "top", params: { executor_id: "ssh_executor", host: "h" }, schemas: { method: "command_executor" }, inputs: { command: "ls" } },
      { name: "s", parent_id: "top", schemas: { method: "command_executor" }, inputs: { command: "ls" } },
      { name: "command_executor", parent_id: "top", inputs: { command: "ls" } },
    ]);
    expect(byName(tree, "p").executor).toBe("ssh");
    expect(byName(tree, "p").inputs).toEqual({ host: "h", command: "ls" });
    expect(byName(tree, "s").executor).toBe("command");
    expect(byName(tree, "command_executor").executor).toBe("command");
  });

  it("lets inputs win over params of the same key", () => {
    const tree = load([{ name: "c", schemas: { method: "command_executor" }, params: { command: "from params" }, inputs: { command: "from inputs" } }]);
    expect(byName(tree, "c").inputs).toEqual({ command: "from inputs" });
  });

  it("resolves a reference by id before name", () => {
    const tree = load([
      { id: "x", name: "top", schemas: { method: "aggregate_results_executor" } },
      { id: "y", name: "x", parent_id: "top", schemas: { method: "aggregate_results_executor" } },
      { id: "z", name: "z", parent_id: "x", schemas: { method: "aggregate_results_executor" } },
    ]);
    expect(byName(tree, "z").parent_id).toBe(byName(tree, "top").id);
  });

  it("adds an aggregate root named after the tree when several rows have no parent_id", () => {
    const tree = load(
      [
        { id: "1", name: "a", schemas: { method: "command_executor" }, inputs: { command: "true" } },
        { id: "2", name: "b", dependencies: ["1"], schemas: { method: "command_executor" }, inputs: { command: "true" } },
      ],
      { defaultName: "batch" },
    );
    expect(tree.tasks.map((t) => t.name)).toEqual(["a", "b", "batch"]);
    expect(byName(tree, "batch").executor).toBe("aggregate");
    expect(tree.root_id).toBe(byName(tree, "batch").id);
    expect(depsOf(tree, "batch")).toEqual({ a: true, b: true });
    expect(depsOf(tree, "b")).toEqual({ a: true });
  });

  it("ignores apflow row fields grove does not use", () => {
    const tree = load([{ name: "a", schemas: { method: "aggregate_results_executor", type: "stdio" }, status: "completed", result: { x: 1 }, user_id: "u", progress: 1 }]);
    expect(byName(tree, "a").executor).toBe("aggregate");
  });

  it("rejects duplicate ids, unknown references and rows without an executor, naming the row", () => {
    inputError(
      () => load([{ id: "1", name: "a", schemas: { method: "aggregate_results_executor" } }, { id: "1", name: "b", schemas: { method: "aggregate_results_executor" } }]),
      'duplicate task id "1" (tasks[0] and tasks[1])',
    );
    inputError(
      () => load([{ id: "1", name: "a", schemas: { method: "aggregate_results_executor" }, dependencies: [{ id: "9", required: true }] }]),
      'task "a": dependencies[0] "9" does not exist',
    );
    inputError(() => load([{ id: "1", name: "a", parent_id: "nope", schemas: { method: "aggregate_results_executor" } }]), 'task "a": parent_id "nope" does not exist');
    inputError(() => load([{ id: "1", inputs: {} }]), "tasks[0]: schemas.method is required");
    inputError(() => load([{ name: "a", schemas: { method: "aggregate_results_executor" }, dependencies: [{ required: true }] }]), 'task "a": dependencies[0] needs an "id" or a "name"');
  });

  it("says when a duplicate name comes from rows named after their executor", () => {
    inputError(
      () => load([{ schemas: { method: "aggregate_results_executor" } }, { schemas: { method: "aggregate_results_executor" } }]),
      'duplicate task name "aggregate" (tasks[0] and tasks[1])',
      "named after its executor",
    );
  });

  it("names the apflow executor id when its grove executor is not registered", () => {
    inputError(() => load([{ name: "d", schemas: { method: "docker_executor" } }]), 'task "d": executor "docker" (apflow "docker_executor") is not registered');
  });

  it("rejects a cycle through apflow ids", () => {
    inputError(
      () =>
        load([
          { id: "r", name: "root", schemas: { method: "aggregate_results_executor" } },
          { id: "1", name: "a", parent_id: "r", dependencies: ["2"], schemas: { method: "aggregate_results_executor" } },
          { id: "2", name: "b", parent_id: "r", dependencies: [{ id: "1" }], schemas: { method: "aggregate_results_executor" } },
        ]),
      "dependency cycle: a → b → a",
    );
  });

  it("validates apflow inputs (params included) against the executor's schema", () => {
    inputError(() => load([{ name: "f", schemas: { method: "rest_executor" }, params: { method: "FETCH" }, inputs: { url: "u" } }]), 'task "f": inputs.method must be one of ["GET"');
  });
});
