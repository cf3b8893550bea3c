// The seam every RPC method plugs into: a name, a zod params schema, a zod result schema and a
// handler that gets the caller's principal. To add a method group (agent.run, tasks.approve,
// machines.list …) write one file exporting `defineMethod(...)` values and list it in
// methods/index.ts; /rpc, GET /rpc/methods, MCP and the SDK's method list pick it up from there.
import { z } from "zod";
import type { Principal } from "../auth/principal.js";
import type { ServerServices } from "../services.js";

export interface MethodContext {
  principal: Principal;
  /** The caller's scope (the principal's): every read and write is limited to it. */
  scope: string;
  services: ServerServices;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

export interface MethodDef<P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  params: P;
  result: R;
  handler(params: z.output<P>, ctx: MethodContext): Promise<z.input<R>>;
}

export function defineMethod<P extends z.ZodType, R extends z.ZodType>(def: MethodDef<P, R>): MethodDef<P, R> {
  return def;
}

export class MethodRegistry {
  private readonly methods = new Map<string, MethodDef>();

  register(...defs: MethodDef<any, any>[]): this {
    for (const d of defs) {
      if (this.methods.has(d.name)) throw new Error(`RPC method ${d.name} is registered twice`);
      this.methods.set(d.name, d as MethodDef);
    }
    return this;
  }

  get(name: string): MethodDef | undefined {
    return this.methods.get(name);
  }

  list(): MethodDef[] {
    return [...this.methods.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** What GET /rpc/methods answers: every method with the JSON Schemas of its params and result. */
  describe(): { name: string; description: string; params: unknown; result: unknown }[] {
    return this.list().map((m) => ({
      name: m.name,
      description: m.description,
      params: z.toJSONSchema(m.params, { io: "input", unrepresentable: "any" }),
      result: z.toJSONSchema(m.result, { io: "output", unrepresentable: "any" }),
    }));
  }
}
