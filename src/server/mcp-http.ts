// MCP over Streamable HTTP at /mcp, stateless: each POST gets a fresh McpServer bound to the
// request's principal (authenticated like every other route), so one session can never act with
// another caller's scope.
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { FastifyInstance } from "fastify";
import { readFileSync } from "node:fs";
import { RPC } from "./errors.js";
import { createMcpServer } from "./mcp.js";
import type { MethodRegistry } from "./methods/registry.js";
import type { ServerServices } from "./services.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

export function registerMcpRoute(app: FastifyInstance, services: ServerServices, methods: MethodRegistry): void {
  app.post("/mcp", async (req, reply) => {
    let body: unknown;
    try {
      body = JSON.parse(Buffer.isBuffer(req.body) ? req.body.toString("utf8") : "");
    } catch {
      return reply.code(400).send({ jsonrpc: "2.0", id: null, error: { code: RPC.PARSE_ERROR, message: "parse error" } });
    }
    const server = createMcpServer(services, methods, req.principal!, pkg.version);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    reply.hijack();
    reply.raw.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req.raw, reply.raw, body);
  });
  // Stateless: no server-initiated stream and no session to delete.
  const notAllowed = async (_req: unknown, reply: { code(n: number): { header(k: string, v: string): { send(b: unknown): unknown } } }) =>
    reply.code(405).header("allow", "POST").send({ jsonrpc: "2.0", id: null, error: { code: RPC.INVALID_REQUEST, message: "method not allowed: this MCP endpoint is stateless (POST only)" } });
  app.get("/mcp", notAllowed as never);
  app.delete("/mcp", notAllowed as never);
}
