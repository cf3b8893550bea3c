import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.js";
import { findCycle, loadTree } from "../../src/tree/index.js";
import { inputError, load, testRegistry } from "./helpers.js";

const cmd = (name: string, extra: Record<string, unknown> = {}) => ({ name, executor: "command", inputs: { command: "true" }, ...extra });

describe("tree rules: every problem is one InputError line naming the task and the field", () => {
  it("rejects an empty task list and documents of the wrong shape", () => {
    inputError(() => load({ tasks: [] }), "tasks is empty");
    inputError(() => load([]), "tasks is empty");
    inputError(() => load({ name: "x" }), 'expected an object with a "tasks" array');
    inputError(() => load("tasks"), 'expected an object with a "tasks" array');
    inputError(() => load(null), "apflow format");
    inputError(() => load({ tasks: { a: {} } }), "tree: tasks must be an array");
    inputError(() => load({ tasks: [cmd("a")], input: {} }), 'tree: unknown key "input" (did you mean "inputs"?)');
    inputError(() => load({ tasks: [cmd("a")], inputs: [1] }), "tree: inputs must be an object");
  });

  it("requires a unique name on every task", () => {
    const err = inputError(() => load({ tasks: [cmd("a"), cmd("b"), cmd("c"), cmd("a")] }), 'duplicate task name "a" (tasks[0] and tasks[3])');
    expect(err.field).toBe("tasks[3].name");
    inputError(() => load({ tasks: [{ ...cmd("a"), children: [cmd("a")] }] }), 'duplicate task name "a" (tasks[0] and tasks[0].children[0])');
    inputError(() => load({ tasks: [cmd("a"), { executor: "command" }] }), "tasks[1]: name is required");
    inputError(() => load({ tasks: [{ name: "", executor: "command" }] }), "tasks[0]: name must be a non-empty string");
    inputError(() => load({ tasks: ["a"] }), "tasks[0]: a task must be an object");
  });

  it("requires every dependency to exist", () => {
    const err = inputError(
      () => load({ tasks: [cmd("fetch"), cmd("count", { dependencies: ["fetch2"] })] }),
      'task "count": dependencies[0] "fetch2" does not exist',
    );
    expect(err.field).toBe("tasks[1].dependencies[0]");
    inputError(() => load({ tasks: [cmd("a"), cmd("b", { dependencies: ["a", { task: "zz", required: false }] })] }), 'task "b": dependencies[1] "zz" does not exist');
    inputError(() => load({ tasks: [cmd("a", { dependencies: [{ task: "a", require: false }] })] }), 'task "a": unknown key "dependencies[0].require" (did you mean "dependencies[0].required"?)');
    inputError(() => load({ tasks: [cmd("a"), cmd("b", { dependencies: [{ task: "a", required: "no" }] })] }), 'task "b": dependencies[0].required must be true or false');
    inputError(() => load({ tasks: [cmd("a", { dependencies: "b" })] }), 'task "a": dependencies must be an array');
    inputError(() => load({ tasks: [cmd("a", { dependencies: [3] })] }), 'task "a": dependencies[0] must be a task name');
  });

  it("requires every parent to exist, not to be the task itself, and to agree with the nesting", () => {
    inputError(() => load({ tasks: [cmd("a", { parent: "p" })] }), 'task "a": parent "p" does not exist');
    inputError(() => load({ tasks: [cmd("a", { parent: "a" })] }), 'task "a": parent "a" is the task itself');
    inputError(
      () => load({ tasks: [{ name: "top", executor: "aggregate", children: [cmd("a", { parent: "other" })] }, { name: "other", executor: "aggregate", parent: "top" }] }),
      'task "a": parent "other" contradicts the enclosing task "top"',
    );
    // naming the enclosing task as parent is fine
    const ok = load({ tasks: [{ name: "top", executor: "aggregate", children: [cmd("a", { parent: "top" })] }] });
    expect(ok.tasks).toHaveLength(2);
    inputError(() => load({ tasks: [{ ...cmd("a"), children: {} }] }), 'task "a": children must be an array');
  });

  it("rejects dependency cycles and names the cycle", () => {
    const err = inputError(
      () => load({ tasks: [cmd("a", { dependencies: ["b"] }), cmd("b", { dependencies: ["c"] }), cmd("c", { dependencies: ["a"] })] }),
      /^dependency cycle: a → b → c → a$/,
    );
    expect(err.field).toBe("tasks[0].dependencies[0]");
    // the cycle is reported from its first task in the file, whichever task the search starts at
    inputError(() => load({ tasks: [cmd("x"), cmd("b", { dependencies: ["c"] }), cmd("c", { dependencies: ["b"] })] }), "dependency cycle: b → c → b");
    // the search enters the cycle at c (through x), the message still starts at a
    inputError(
      () => load({ tasks: [cmd("x", { dependencies: ["c"] }), cmd("a", { dependencies: ["b"] }), cmd("b", { dependencies: ["c"] }), cmd("c", { dependencies: ["a"] })] }),
      /^dependency cycle: a → b → c → a$/,
    );
  });

  it("rejects a task that depends on itself", () => {
    inputError(() => load({ tasks: [cmd("a", { dependencies: ["a"] })] }), /^dependency cycle: a → a$/);
  });

  it("rejects a task that depends on its own ancestor (a cycle through the implicit parent edge)", () => {
    inputError(
      () => load({ tasks: [{ name: "p", executor: "aggregate", children: [cmd("c", { dependencies: ["p"] })] }] }),
      'dependency cycle: p → c → p ("p" waits for its child "c")',
    );
    inputError(
      () => load({ tasks: [{ name: "g", executor: "aggregate", children: [{ name: "p", executor: "aggregate", children: [cmd("c", { dependencies: ["g"] })] }] }] }),
      "dependency cycle: g → p → c → g",
    );
    inputError(
      () => load({ tasks: [{ name: "a", executor: "aggregate", parent: "b" }, { name: "b", executor: "aggregate", parent: "a" }] }),
      "dependency cycle: a → b → a",
    );
  });

  it("explains a cycle made by a template reference", () => {
    inputError(
      () => load({ tasks: [cmd("a", { dependencies: ["b"] }), cmd("b", { inputs: { command: "echo {{ tasks.a.result.stdout }}" } })] }),
      'dependency cycle: a → b → a ("b" uses tasks.a in inputs.command)',
    );
  });

  it("requires every executor to be registered", () => {
    const err = inputError(() => load({ tasks: [{ name: "x", executor: "nope" }] }), 'task "x": executor "nope" is not registered', "registered: aggregate, command, http, ssh");
    expect(err.field).toBe("tasks[0].executor");
    inputError(() => load({ tasks: [{ name: "x", executor: "command_executor", inputs: { command: "ls" } }] }), 'task "x": executor "command_executor" is not registered (did you mean "command"?)');
    inputError(() => load({ tasks: [{ name: "x" }] }), 'task "x": executor is required');
  });

  it("validates every task's inputs against its executor's schema (zod and JSON Schema)", () => {
    const err = inputError(() => load({ tasks: [{ name: "fetch", executor: "http", inputs: { method: "GET" } }] }), /^task "fetch": inputs\.url is required$/);
    expect(err.field).toBe("tasks[0].inputs.url");
    inputError(
      () => load({ tasks: [{ name: "fetch", executor: "http", inputs: { url: "u", method: "FETCH" } }] }),
      'task "fetch": inputs.method must be one of ["GET","POST","PUT","DELETE"]',
    );
    inputError(() => load({ tasks: [cmd("c", { inputs: { command: "ls", colour: "red" } })] }), 'task "c": inputs.colour is not allowed');
    inputError(() => load({ tasks: [cmd("c", { inputs: { command: 5 } })] }), 'task "c": inputs.command must be string');
    inputError(() => load({ tasks: [cmd("c", { inputs: { command: "x", args: ["a", 2] } })] }), 'task "c": inputs.args.1 must be string');
    inputError(() => load({ tasks: [cmd("c", { inputs: { count: 1.5 } })] }), 'task "c": inputs.command is required (and 1 more)');
    inputError(() => load({ tasks: [cmd("c", { inputs: "ls" })] }), 'task "c": inputs must be an object');
  });

  it("checks every template expression and every task a template names", () => {
    inputError(
      () => load({ tasks: [cmd("a"), cmd("b", { inputs: { command: "{{ tasks.a.bogus }}" } })] }),
      'task "b": inputs.command has a bad template: "tasks.a.bogus": expected tasks.a.result, .status or .error',
    );
    inputError(() => load({ tasks: [cmd("b", { inputs: { command: "echo {{ env.HOME }}" } })] }), 'task "b": inputs.command has a bad template', 'unknown root "env"');
    inputError(
      () => load({ tasks: [cmd("a"), cmd("b", { inputs: { command: "x", args: ["{{ tasks.fetch2.result }}"] } })] }),
      'task "b": inputs.args.0 references task "fetch2", which does not exist',
    );
    inputError(() => load({ tasks: [cmd("b", { inputs: { command: "{{ tasks.b.result }}" } })] }), 'task "b": inputs.command references the task itself');
  });

  it("rejects unknown task keys, naming the key", () => {
    const err = inputError(() => load({ tasks: [cmd("a", { dependecies: ["b"] })] }), 'task "a": unknown key "dependecies" (did you mean "dependencies"?)');
    expect(err.field).toBe("tasks[0].dependecies");
    inputError(() => load({ tasks: [cmd("a", { colour: "red" })] }), 'task "a": unknown key "colour"');
    inputError(() => load({ tasks: [{ name: "p", executor: "aggregate", children: [cmd("c", { timeout: 5 })] }] }), 'task "c": unknown key "timeout" (did you mean "timeout_ms"?)');
  });

  it("checks priority, retry, timeout_ms and placement", () => {
    inputError(() => load({ tasks: [cmd("a", { priority: -1 })] }), 'task "a": priority must be an integer ≥ 0');
    inputError(() => load({ tasks: [cmd("a", { priority: 1.5 })] }), 'task "a": priority must be an integer');
    inputError(() => load({ tasks: [cmd("a", { priority: "high" })] }), 'task "a": priority must be an integer', '"high"');
    inputError(() => load({ tasks: [cmd("a", { retry: { max_attempts: 0 } })] }), 'task "a": retry.max_attempts must be an integer ≥ 1');
    inputError(() => load({ tasks: [cmd("a", { retry: { backoff: "linear" } })] }), 'task "a": retry.backoff must be one of ["fixed","exponential"]');
    inputError(() => load({ tasks: [cmd("a", { retry: { attempts: 3 } })] }), 'task "a": unknown key "retry.attempts"');
    inputError(() => load({ tasks: [cmd("a", { retry: { base_ms: 5000, max_ms: 100 } })] }), 'task "a": retry.max_ms');
    inputError(() => load({ tasks: [cmd("a", { retry: 3 })] }), 'task "a": retry must be an object');
    inputError(() => load({ tasks: [cmd("a", { timeout_ms: 0 })] }), 'task "a": timeout_ms must be an integer ≥ 1');
    inputError(() => load({ tasks: [cmd("a", { placement: { gpu: true } })] }), 'task "a": placement.gpu must be a string');
    const tree = load({ tasks: [cmd("a", { priority: 0, retry: { max_attempts: 5, base_ms: 10, max_ms: 20 }, timeout_ms: 1 })] });
    expect(tree.tasks[0]).toMatchObject({ priority: 0, retry: { max_attempts: 5, backoff: "exponential", base_ms: 10, max_ms: 20 }, timeout_ms: 1 });
  });

  it("checks the whole tree before returning: no partial result, nothing created for a late error", () => {
    let calls = 0;
    const newId = () => `id-${++calls}`;
    expect(() =>
      loadTree({ tasks: [cmd("a"), cmd("b"), { name: "z", executor: "http", inputs: {} }] }, { registry: testRegistry(), owner: "", defaultName: "t", newId }),
    ).toThrow(InputError);
    expect(calls).toBe(0);
  });
});

describe("findCycle", () => {
  it("returns null for a DAG and the cycle, rotated to its lowest node, otherwise", () => {
    expect(findCycle(3, (i) => (i === 0 ? [1, 2] : i === 1 ? [2] : []))).toBeNull();
    expect(findCycle(4, (i) => [[1], [2], [3], [1]][i]!)).toEqual([1, 2, 3, 1]);
  });

  it("handles long chains without overflowing the stack", () => {
    const n = 200_000;
    expect(findCycle(n, (i) => (i + 1 < n ? [i + 1] : []))).toBeNull();
    expect(findCycle(n, (i) => [(i + 1) % n])).toHaveLength(n + 1);
  });
});

describe("one-line messages", () => {
  it("escapes line breaks that come from the file (keys, templates)", () => {
    inputError(() => load({ tasks: [cmd("c", { inputs: { command: "x", "a\nb": 1 } })] }), 'task "c": inputs.a\\nb is not allowed');
    inputError(() => load({ tasks: [cmd("c", { inputs: { command: "{{ tasks.\nc.bogus }}" } })] }), 'task "c": inputs.command has a bad template');
    inputError(() => load({ tasks: [cmd("c", { placement: { "x\ny": 1 } })] }), 'task "c": placement.x\\ny must be a string');
  });
});
