// The dashboard's static files (web/, built by `npm run build` into dist/web) served by
// `grove serve` at `/`. They hold no data and need no credential: the single-page app asks for an
// API key and makes every data call through the public API (POST /rpc, the SSE routes) with it.
// Only the files of the build and a fixed set of client routes (which answer index.html) are
// public; every other path still needs a credential, and /trees/:id/events stays an API route.
import { readdir, readFile } from "node:fs/promises";
import { extname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply } from "fastify";

/** The package's dist/web (from src/server or dist/server alike). */
export const DASHBOARD_DIR = fileURLToPath(new URL("../../dist/web/", import.meta.url));

/** Paths of the single-page app's own routes: each answers index.html. */
const CLIENT_ROUTES = [
  /^\/$/,
  /^\/login$/,
  /^\/trees$/,
  /^\/trees\/[^/]+$/,
  /^\/tasks\/[^/]+$/,
  /^\/approvals$/,
  /^\/schedules$/,
  /^\/schedules\/[^/]+$/,
  /^\/agents$/,
  /^\/workers$/,
];

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
};

// No inline script or style, nothing fetched from elsewhere: a key typed into the page can only
// go to this server.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; object-src 'none'";

function pathOf(url: string): string {
  const q = url.indexOf("?");
  return q >= 0 ? url.slice(0, q) : url;
}

/** Whether a request is for the dashboard's files or client routes (no credential needed). */
export function isDashboardRequest(method: string, url: string): boolean {
  if (method !== "GET" && method !== "HEAD") return false;
  const path = pathOf(url);
  return path.startsWith("/assets/") || path === "/favicon.svg" || CLIENT_ROUTES.some((re) => re.test(path));
}

async function listFiles(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) files.set(`/${relative(dir, full).split(sep).join("/")}`, full);
    }
  };
  await walk(dir);
  return files;
}

export function registerDashboard(app: FastifyInstance, dir = DASHBOARD_DIR): void {
  // The set of files is read once (a build is immutable); only those exact paths are served, so
  // no request path ever reaches the file system.
  let files: Map<string, string> | undefined;
  const known = async () => {
    if (!files) {
      try {
        files = await listFiles(dir);
      } catch {
        return new Map<string, string>();
      }
    }
    return files;
  };

  const send = async (reply: FastifyReply, urlPath: string, status = 200) => {
    const file = (await known()).get(urlPath);
    if (!file) {
      return reply.code(404).type("text/plain; charset=utf-8").send(urlPath === "/index.html" ? "the dashboard is not built: run npm run build\n" : "not found\n");
    }
    const body = await readFile(file);
    const type = TYPES[extname(file)] ?? "application/octet-stream";
    const hashed = urlPath.startsWith("/assets/");
    return reply
      .code(status)
      .header("content-type", type)
      .header("cache-control", hashed ? "public, max-age=31536000, immutable" : "no-cache")
      .header("x-content-type-options", "nosniff")
      .header("referrer-policy", "no-referrer")
      .header("content-security-policy", CSP)
      .send(body);
  };

  app.get("/assets/*", async (req, reply) => send(reply, pathOf(req.url)));
  app.get("/favicon.svg", async (_req, reply) => send(reply, "/favicon.svg"));
  const index = async (_req: unknown, reply: FastifyReply) => send(reply, "/index.html");
  for (const route of ["/", "/login", "/trees", "/trees/:id", "/tasks/:id", "/approvals", "/schedules", "/schedules/:name", "/agents", "/workers"]) {
    app.get(route, index);
  }
}
