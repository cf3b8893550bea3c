// The dashboard's build: web/ → dist/web (served by `grove serve` at /). `npm run build` runs it
// after tsc; `npx vite --config web/vite.config.ts` serves it in development against a
// `grove serve` on 127.0.0.1:8420 (GROVE_URL to change it).
import preact from "@preact/preset-vite";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));
const api = process.env.GROVE_URL ?? "http://127.0.0.1:8420";

export default defineConfig({
  root,
  base: "/",
  plugins: [preact()],
  logLevel: "warn",
  build: {
    outDir: fileURLToPath(new URL("../dist/web", import.meta.url)),
    emptyOutDir: true,
    assetsDir: "assets",
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: "es2022",
  },
  server: {
    // API calls go to the server; a page load of a client route (/trees/…) stays with vite.
    proxy: Object.fromEntries(
      ["/rpc", "/trees/", "/tasks/", "/health"].map((p) => [p, { target: api, bypass: (req: { headers: { accept?: string } }) => (req.headers.accept?.includes("text/html") ? "/index.html" : undefined) }]),
    ),
  },
});
