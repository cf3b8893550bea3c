import { describe, it, expect } from "vitest";
import { aggregate } from "../../src/executors/aggregate.js";
import { builtinExecutors, registerBuiltins, command, http } from "../../src/executors/index.js";
import { ExecutorRegistry } from "../../src/core/registry.js";
import { validate } from "../../src/core/validation.js";
import { defineExecutor, type DependencyOutcome, type ExecutorContext } from "../../src/core/executor.js";

function makeCtx(dependencies: Record<string, DependencyOutcome>): ExecutorContext {
  return {
    signal: new AbortController().signal,
    log: () => undefined,
    progress: () => undefined,
    dependencies,
    attempt: 1,
    idempotencyKey: "tree-1:root",
    task: { id: "root", name: "root", tree_id: "tree-1", owner: "test", executor: "aggregate" },
    tree: { id: "tree-1", name: "t", inputs: {} },
    machine: "local",
    settings: { allowPrivateNetwork: false, outputCapBytes: 1024 },
  };
}

describe("aggregate executor", () => {
  it("accepts any inputs", () => {
    expect(validate(aggregate.inputSchema, {}).ok).toBe(true);
    expect(validate(aggregate.inputSchema, { note: "x", n: 1 }).ok).toBe(true);
    expect(validate(aggregate.inputSchema, "nope").ok).toBe(false);
  });

  it("keys results by dependency name, with null for those that did not complete", async () => {
    const boom = { type: "exit_code" as const, message: "command exited with code 1" };
    const out = await aggregate.run(
      {},
      makeCtx({
        fetch_users: { status: "completed", result: { users: 3 }, error: null },
        disk: { status: "completed", result: "42%", error: null },
        broken: { status: "failed", result: { partial: true }, error: boom },
        later: { status: "skipped", result: null, error: { type: "dependency_failed", message: "broken failed" } },
        stopped: { status: "cancelled", result: null, error: null },
      }),
    );
    expect(out).toEqual({
      results: { fetch_users: { users: 3 }, disk: "42%", broken: null, later: null, stopped: null },
      statuses: { fetch_users: "completed", disk: "completed", broken: "failed", later: "skipped", stopped: "cancelled" },
      errors: { broken: boom, later: { type: "dependency_failed", message: "broken failed" } },
      count: 5,
      completed: 2,
      failed: 1,
    });
  });

  it("returns an empty aggregate without dependencies, and null for a completed task without result", async () => {
    expect(await aggregate.run({}, makeCtx({}))).toEqual({
      results: {},
      statuses: {},
      errors: {},
      count: 0,
      completed: 0,
      failed: 0,
    });
    const out = (await aggregate.run({}, makeCtx({ quiet: { status: "completed", result: undefined, error: null } }))) as {
      results: Record<string, unknown>;
    };
    expect(out.results).toEqual({ quiet: null });
  });
});

describe("builtin executors", () => {
  it("registers every built-in, overriding earlier registrations", () => {
    const ids = builtinExecutors.map((e) => e.id);
    expect(ids).toEqual(expect.arrayContaining(["command", "http", "aggregate", "websocket", "grpc", "mcp", "email", "system_info", "ssh", "fleet", "docker", "llm", "generate", "grove_api"]));
    expect(new Set(ids).size).toBe(ids.length);
    const registry = new ExecutorRegistry();
    registry.register(defineExecutor({ id: "http", input: { type: "object" }, execute: () => "stub" }));
    registerBuiltins(registry);
    expect(registry.list().map((e) => e.id)).toEqual([...ids].sort());
    expect(registry.get("http")).toBe(http);
    expect(registry.get("command")).toBe(command);
    registerBuiltins(registry); // idempotent
    expect(registry.list()).toHaveLength(ids.length);
  });
});
