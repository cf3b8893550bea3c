import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { expect } from "vitest";
import { defineExecutor } from "../../src/core/executor.js";
import { InputError } from "../../src/core/errors.js";
import { ExecutorRegistry } from "../../src/core/registry.js";
import { loadTree, type LoadTreeOptions } from "../../src/tree/index.js";
import type { NewTask, NewTree } from "../../src/core/types.js";

/** A registry with a few executors: zod ones (http with an enum + default, aggregate) and JSON Schema ones. */
export function testRegistry(opts: { withAggregate?: boolean } = {}): ExecutorRegistry {
  const registry = new ExecutorRegistry();
  registry.register(
    defineExecutor({
      id: "http",
      input: z.object({
        url: z.string(),
        method: z.enum(["GET", "POST", "PUT", "DELETE"]).default("GET"),
        headers: z.record(z.string(), z.string()).optional(),
        timeout: z.number().optional(),
      }),
      execute: async () => ({}),
    }),
  );
  registry.register(
    defineExecutor({
      id: "command",
      input: {
        type: "object",
        properties: {
          command: { type: "string" },
          cwd: { type: "string", pattern: "^/" },
          count: { type: "integer" },
          args: { type: "array", items: { type: "string" } },
        },
        required: ["command"],
        additionalProperties: false,
      },
      execute: async () => ({}),
    }),
  );
  registry.register(
    defineExecutor({
      id: "ssh",
      input: { type: "object", properties: { host: { type: "string" }, command: { type: "string" } }, required: ["host", "command"] },
      execute: async () => ({}),
    }),
  );
  if (opts.withAggregate !== false) {
    registry.register(defineExecutor({ id: "aggregate", input: z.object({}), execute: async () => ({}) }));
  }
  return registry;
}

export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../fixtures/trees/${name}`, import.meta.url));
}

export function fixture(name: string): string {
  return readFileSync(fixturePath(name), "utf8");
}

/** Sequential fake ids, so that tests can tell rows apart. */
export function counterIds(): () => string {
  let n = 0;
  return () => `id-${++n}`;
}

export function load(doc: unknown, over: Partial<LoadTreeOptions> = {}): NewTree {
  return loadTree(doc, { registry: testRegistry(), owner: "acme/ops", defaultName: "file", newId: counterIds(), ...over });
}

/** The error `fn` throws: an InputError whose message is one line and contains every part. */
export function inputError(fn: () => unknown, ...parts: (string | RegExp)[]): InputError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, "expected an InputError").toBeInstanceOf(InputError);
  const err = caught as InputError;
  expect(err.message).not.toMatch(/[\r\n]/);
  for (const p of parts) {
    if (typeof p === "string") expect(err.message).toContain(p);
    else expect(err.message).toMatch(p);
  }
  return err;
}

export function byName(tree: NewTree, name: string): NewTask {
  const t = tree.tasks.find((x) => x.name === name);
  if (!t) throw new Error(`no task ${name} in ${tree.tasks.map((x) => x.name).join(",")}`);
  return t;
}

/** The names of a task's dependencies, with their required flag. */
export function depsOf(tree: NewTree, name: string): Record<string, boolean> {
  const nameOf = new Map(tree.tasks.map((t) => [t.id, t.name]));
  return Object.fromEntries(byName(tree, name).dependencies.map((d) => [nameOf.get(d.task)!, d.required]));
}
