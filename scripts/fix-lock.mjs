// The npm registry mirror of our machines serves only the platform packages of this platform, so
// `npm install` leaves rollup's optional per-platform packages out of package-lock.json and
// `npm ci` then refuses the lock as out of sync. This adds them back as optional entries with
// their os/cpu/libc, which npm skips on other platforms without fetching.
// Run after any `npm install` that rewrites the lock: `node scripts/fix-lock.mjs`.
import { readFileSync, writeFileSync } from "node:fs";

const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const pkgs = lock.packages;
let added = 0;
for (const [path, entry] of Object.entries(pkgs)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const m = /^@rollup\/rollup-([a-z0-9]+)-([a-z0-9]+)(?:-([a-z]+))?$/.exec(name);
    const at = path.replace(/[^/]+(?:\/[^/]+)?$/, "") + name;
    const key = pkgs[`node_modules/${name}`] || pkgs[at] ? null : `node_modules/${name}`;
    if (!m || !key) continue;
    const [, os, cpu, abi] = m;
    const fixed = { version, cpu: [cpu === "arm" && abi === "eabi" ? "arm" : cpu], os: [os], optional: true, license: "MIT" };
    if (os === "linux" && abi) fixed.libc = [abi.startsWith("musl") ? "musl" : "glibc"];
    pkgs[key] = fixed;
    added++;
  }
}
writeFileSync("package-lock.json", JSON.stringify(lock, null, 2) + "\n");
console.log(`fix-lock: added ${added} optional platform entries`);
