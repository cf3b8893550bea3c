// Every example under examples/ is run here through the real CLI.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { grove, tempDir } from "./helpers/cli.js";

const byName = (out: { tasks: { name: string }[] }) => Object.fromEntries(out.tasks.map((t) => [t.name, t])) as Record<string, any>;

async function runJson(args: string[]) {
  const r = await grove([...args, "--db", join(tempDir(), "g.db"), "--json"]);
  expect(r.stderr).toBe("");
  return { code: r.code, out: JSON.parse(r.stdout) };
}

describe("examples", () => {
  it("hello.json greets and reports through an aggregate", async () => {
    const { code, out } = await runJson(["run", "examples/hello.json"]);
    expect(code).toBe(0);
    const t = byName(out);
    expect(t.greet.result.stdout).toBe("Hello, world!\n");
    expect(t.report.result.results.greet.stdout).toBe("Hello, world!\n");
    expect(t.report.result.results.kernel.stdout).toMatch(/^Linux /);
  });

  it("diamond.json passes data down both sides of a diamond", async () => {
    const { code, out } = await runJson(["run", "examples/diamond.json"]);
    expect(code).toBe(0);
    const t = byName(out);
    expect(t.sum.result.stdout).toBe("31");
    expect(t.count.result.stdout).toBe("8");
    expect(t.report.result.stdout).toBe("sum=31 count=8\n");
  });

  it("http.json fetches from a local server and posts the total with its type kept", async () => {
    const posted: unknown[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        if (req.method === "GET" && req.url === "/stats?day=2026-11-20") {
          res.setHeader("content-type", "application/json");
          return res.end(JSON.stringify({ total: 1234 }));
        }
        if (req.method === "POST" && req.url === "/reports") {
          posted.push(JSON.parse(body));
          res.statusCode = 201;
          res.setHeader("content-type", "application/json");
          return res.end(JSON.stringify({ id: "r1" }));
        }
        res.statusCode = 404;
        res.end("no");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const { code, out } = await runJson(["run", "examples/http.json", "--input", `base_url=${base}`, "--allow-private-network"]);
      expect(code).toBe(0);
      expect(posted).toEqual([{ total: 1234, day: "2026-11-20" }]);
      expect(byName(out).post.result.status).toBe(201);
      // Without the flag, the private-address guard refuses loopback.
      const refused = await runJson(["run", "examples/http.json", "--input", `base_url=${base}`]);
      expect(refused.code).toBe(1);
      expect(byName(refused.out).fetch.error.message).toMatch(/127\.0\.0\.1/);
    } finally {
      server.close();
    }
  });

  it("greeting-executor.mjs: the seed's GreetingExecutor as a custom executor module", async () => {
    const { code, out } = await runJson(["run", "examples/greeting.json", "--executors", "examples/greeting-executor.mjs"]);
    expect(code).toBe(0);
    const t = byName(out);
    expect(t.alice.result).toEqual({ greeting: "Hello, Alice!", name: "Alice", language: "en" });
    expect(t.bob.result.greeting).toBe("Bonjour, Bob!");
    expect(t.loud.result.text).toBe("BONJOUR, BOB!");
    const list = await grove(["executors", "list", "--executors", "examples/greeting-executor.mjs", "--json"]);
    const ids = JSON.parse(list.stdout).map((e: { id: string }) => e.id);
    expect(ids).toEqual(expect.arrayContaining(["greeting_executor", "shout", "command", "http", "aggregate"]));
  });

  it("apflow.json runs in the apflow format with executor aliases, priority 0 first", async () => {
    const { code, out } = await runJson(["run", "examples/apflow.json", "--concurrency", "1"]);
    expect(code).toBe(0);
    const t = byName(out);
    expect(t.collect.executor).toBe("aggregate");
    expect(t["disk usage"].executor).toBe("command");
    expect(Date.parse(t.whoami.started_at)).toBeLessThanOrEqual(Date.parse(t["disk usage"].started_at));
    expect(Object.keys(t.collect.result.results).sort()).toEqual(["disk usage", "whoami"]);
  });
});
