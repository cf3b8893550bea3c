// The dashboard under a real browser: `grove serve` (the built CLI) on 127.0.0.1 over a SQLite
// file, a real API key from `grove keys create`, and Debian's chromium driven by playwright-core.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { grove, groveBackground, ROOT, tempDir } from "../helpers/cli.js";

export const CHROMIUM = process.env.GROVE_CHROMIUM ?? "/usr/bin/chromium";
export const SCREENSHOTS = join(ROOT, "test/.screenshots");

/** Why the browser tests cannot run here (null: they can). CI installs chromium, so they always run there. */
export function chromiumMissing(): string | null {
  if (existsSync(CHROMIUM)) return null;
  if (process.env.CI) return null; // fail loudly in CI rather than skip
  return `no ${CHROMIUM} (apt-get install chromium)`;
}

export function dashboardBuilt(): void {
  if (!existsSync(join(ROOT, "dist/web/index.html"))) throw new Error("dist/web is missing: run npm run build");
}

export interface Served {
  url: string;
  db: string;
  dir: string;
  key(scope: string, name: string): Promise<string>;
  stop(): Promise<void>;
}

export async function serve(args: string[] = []): Promise<Served> {
  dashboardBuilt();
  const dir = tempDir("grove-dash-");
  const db = join(dir, "g.db");
  const proc = groveBackground(["serve", "--db", db, "--port", "0", "--host", "127.0.0.1", "--json", ...args]);
  await proc.waitFor(/"listening"/, 30_000);
  const url = JSON.parse(proc.output().stdout.split("\n").find((l) => l.includes('"listening"'))!).url as string;
  return {
    url,
    db,
    dir,
    async key(scope, name) {
      const r = await grove(["keys", "create", "--scope", scope, "--name", name, "--json", "--db", db]);
      if (r.code !== 0) throw new Error(`keys create: ${r.stderr}`);
      return JSON.parse(r.stdout).key as string;
    },
    async stop() {
      proc.child.kill("SIGTERM");
      await proc.exited;
    },
  };
}

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
}

/** Opens the dashboard at `path` and logs in with `key` through the login form. */
export async function login(page: Page, base: string, key: string, path = "/trees"): Promise<void> {
  await page.goto(`${base}${path}`);
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("navigation", { name: "Sections" }).waitFor();
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** JSON-RPC from the test itself (setting the stage; the checks go through the browser). */
export async function call(base: string, key: string, method: string, params: unknown = {}): Promise<any> {
  const res = await fetch(`${base}/rpc`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${key}` }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}
