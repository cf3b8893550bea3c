// The dashboard in a real browser (chromium via playwright-core) against a real `grove serve` on
// 127.0.0.1 with a SQLite file and real API keys: log in, run a tree and watch it complete live,
// open a failed task's error, read a schedule's history, approve a waiting command. Each test
// saves a screenshot of the page it checks to test/.screenshots/ (not committed).
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/cli.js";
import { call, chromiumMissing, launch, login, screenshot, serve, type Served } from "./helpers.js";

const missing = chromiumMissing();
const APPROVAL_EXECUTORS = join(ROOT, "test/fixtures/executors/approval.mjs");

describe.skipIf(missing)(`dashboard in chromium${missing ? ` (skipped: ${missing})` : ""}`, () => {
  let s: Served;
  let browser: Browser;
  let key: string;

  beforeAll(async () => {
    s = await serve(["--executors", APPROVAL_EXECUTORS]);
    key = await s.key("acme/ops", "dashboard");
    browser = await launch();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await s?.stop();
  });

  async function page(viewport = { width: 1366, height: 860 }): Promise<Page> {
    const ctx = await browser.newContext({ viewport });
    return ctx.newPage();
  }

  it("refuses a wrong key and keeps the right one in the tab only (never in the URL)", async () => {
    const p = await page();
    await p.goto(`${s.url}/trees`);
    await p.getByLabel("API key").fill("grove_not-a-key");
    await p.getByRole("button", { name: "Log in" }).click();
    await expect.poll(() => p.getByRole("alert").textContent()).toContain("not accepted");
    await login(p, s.url, key);
    expect(p.url()).not.toContain(key);
    expect(await p.evaluate(() => sessionStorage.getItem("grove.key"))).toBe(key);
    expect(await p.evaluate(() => localStorage.length)).toBe(0);
    await screenshot(p, "login-trees");
    await p.context().close();
  });

  it("runs a tree from the trees page and watches it complete live", async () => {
    const gate = join(s.dir, "go");
    const tree = {
      name: "live-demo",
      tasks: [
        { name: "first", executor: "command", inputs: { command: "echo one" } },
        { name: "wait", executor: "command", inputs: { command: `while [ ! -f '${gate}' ]; do sleep 0.1; done; echo released` }, dependencies: ["first"] },
        { name: "last", executor: "command", inputs: { command: "echo done" }, dependencies: ["wait"] },
      ],
    };
    const p = await page();
    await login(p, s.url, key);
    await p.getByRole("button", { name: "Run a tree" }).click();
    await p.getByLabel(/Tree definition/).fill(JSON.stringify(tree, null, 2));
    await p.getByRole("button", { name: "Run tree" }).click();
    await p.waitForURL(/\/trees\/[^/]+$/);
    // the page is not reloaded from here on: a marker set now must survive to the end
    await p.evaluate(() => ((window as unknown as { __same: number }).__same = 1));
    const node = (name: string) => p.locator(`svg.dag a[data-task="${name}"]`);
    await expect.poll(() => node("wait").getAttribute("data-status"), { timeout: 30_000 }).toBe("running");
    expect(await node("first").getAttribute("data-status")).toBe("completed");
    expect(await node("last").getAttribute("data-status")).toBe("pending");
    await screenshot(p, "tree-running");
    writeFileSync(gate, "");
    await expect.poll(() => node("last").getAttribute("data-status"), { timeout: 30_000 }).toBe("completed");
    await expect.poll(() => p.locator(".head-status .status").textContent()).toBe("completed");
    expect(await node("wait").getAttribute("aria-label")).toMatch(/^wait: completed, [\d.]+ (ms|s)/);
    expect(await p.evaluate(() => (window as unknown as { __same?: number }).__same)).toBe(1);
    await screenshot(p, "tree-completed");

    // the trees page lists it, and the name search finds it
    await p.getByRole("link", { name: "Trees" }).first().click();
    await p.getByRole("searchbox").fill("live-de");
    await expect.poll(() => p.locator("table.trees tbody tr").count()).toBe(1);
    expect(await p.locator("table.trees tbody tr .status").textContent()).toBe("completed");
    await p.getByLabel("Status").selectOption("failed");
    await expect.poll(() => p.locator(".empty").textContent()).toContain("No trees match");
    await p.context().close();
  });

  it("opens a failed task's error from the tree view", async () => {
    const result = await call(s.url, key, "tasks.execute", {
      tree: { name: "breaks", tasks: [{ name: "boom", executor: "command", inputs: { command: "echo 'disk on fire' >&2; exit 3" } }] },
    });
    expect(result.status).toBe("failed");
    const p = await page();
    await login(p, s.url, key, `/trees/${result.tree_id}`);
    const boom = p.locator('svg.dag a[data-task="boom"]');
    await expect.poll(() => boom.getAttribute("data-status")).toBe("failed");
    // keyboard: the node is a link reachable with Tab, opened with Enter
    await boom.focus();
    await p.keyboard.press("Enter");
    await p.waitForURL(/\/tasks\//);
    const error = p.locator(".error-card");
    await error.waitFor();
    expect(await error.textContent()).toContain("disk on fire");
    await expect.poll(() => p.locator(".log .t-task-failed").count()).toBeGreaterThan(0);
    expect(await p.locator("table.list tbody tr").first().textContent()).toContain("failed");
    await screenshot(p, "task-failed-error");
    await p.context().close();
  });

  it("reads a schedule's run history with its log, after Run now", async () => {
    await call(s.url, key, "schedules.add", { name: "nightly-report", every: "1d", start_at: "2099-01-01T00:00:00Z", tree: { name: "report", tasks: [{ name: "report", executor: "command", inputs: { command: "echo report ready" } }] } });
    const p = await page();
    await login(p, s.url, key, "/schedules");
    const row = p.locator('tr[data-schedule="nightly-report"]');
    await row.waitFor();
    await row.getByRole("button", { name: "Run nightly-report now" }).click();
    await expect.poll(() => row.locator("td.num").first().textContent(), { timeout: 30_000 }).toBe("1");
    await row.getByRole("link", { name: "nightly-report" }).click();
    await p.waitForURL(/\/schedules\/nightly-report$/);
    const run = p.locator("li.run").first();
    await expect.poll(() => run.locator(".status").textContent(), { timeout: 30_000 }).toBe("succeeded");
    await run.getByText(/Log \(\d+ items\)/).click();
    await expect.poll(() => run.locator(".log").textContent()).toContain("report ready");
    expect(await p.locator(".summary").textContent()).toContain("Runs / errors1 / 0");
    await screenshot(p, "schedule-history");
    await p.context().close();
  });

  it("approvals: approve a waiting command in the queue and see the task finish", async () => {
    const methods = ((await (await fetch(`${s.url}/rpc/methods`, { headers: { authorization: `Bearer ${key}` } })).json()) as { methods: { name: string }[] }).methods.map((m) => m.name);
    const created = await call(s.url, key, "tasks.create", { tree: { name: "deploy", tasks: [{ name: "ship", executor: "gate", inputs: { command: "kubectl rollout restart deploy/web" } }] } });
    const taskId = created.tasks.find((t: { name: string }) => t.name === "ship").id as string;
    const p = await page();
    await login(p, s.url, key, `/tasks/${taskId}`);
    await expect.poll(() => p.locator(".head-status .status").textContent(), { timeout: 30_000 }).toBe("waiting approval");
    await p.getByRole("link", { name: "Approvals" }).click();
    // The server has the approval methods: the full path is always taken.
    expect(methods).toEqual(expect.arrayContaining(["tasks.approvals", "tasks.approve"]));
    const item = p.locator(`li.approval[data-task="${taskId}"]`);
    await item.waitFor({ timeout: 30_000 });
    expect(await item.locator(".command").textContent()).toBe("kubectl rollout restart deploy/web");
    expect(await item.locator(".reasons").textContent()).toContain("require_approval: deploy");
    expect(await item.locator(".risk").textContent()).toBe("high risk");
    await screenshot(p, "approvals-queue");
    await item.getByLabel("Reason for ship").fill("looks right");
    await item.getByRole("button", { name: "Approve ship" }).click();
    await expect.poll(() => p.locator(`li.approval[data-task="${taskId}"]`).count(), { timeout: 30_000 }).toBe(0);
    await p.goto(`${s.url}/tasks/${taskId}`);
    await expect.poll(() => p.locator(".head-status .status").textContent(), { timeout: 30_000 }).toBe("completed");
    expect(await p.locator('[aria-label="result"]').textContent()).toContain('"decision": "approved"');
    await screenshot(p, "approval-finished");
    await p.context().close();
  });

  it("fits a phone screen: no sideways scrolling of the page, the DAG scrolls in its box", async () => {
    const trees = await call(s.url, key, "trees.list", {});
    expect(trees.length).toBeGreaterThan(0);
    const p = await page({ width: 390, height: 844 });
    await login(p, s.url, key, `/trees/${trees[0].tree_id}`);
    await p.locator("svg.dag").waitFor();
    expect(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await screenshot(p, "phone-tree");
    await p.context().close();
  });
});

it("the dashboard's files are public but hold no data; data calls need the key", async () => {
  if (!existsSync(join(ROOT, "dist/web/index.html"))) throw new Error("dist/web is missing: run npm run build");
  const s = await serve();
  try {
    const html = await fetch(`${s.url}/trees/anything`);
    expect(html.status).toBe(200);
    expect(html.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(html.headers.get("content-security-policy")).toContain("connect-src 'self'");
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(await html.text())![1]!;
    const js = await fetch(`${s.url}${asset}`);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect((await fetch(`${s.url}/assets/../../package.json`)).status).not.toBe(200);
    expect((await fetch(`${s.url}/assets/nope.js`)).status).toBe(404);
    expect((await fetch(`${s.url}/trees/x/events`)).status).toBe(401);
    expect((await fetch(`${s.url}/rpc/methods`)).status).toBe(401);
  } finally {
    await s.stop();
  }
});
