// known_hosts checking for the ssh machine (OpenSSH's format, see sshd(8) "SSH_KNOWN_HOSTS FILE
// FORMAT"): plain and hashed (|1|salt|hash) host patterns, `*`/`?` wildcards, `!` negation,
// `[host]:port` for ports other than 22, and the @revoked marker (@cert-authority lines are
// ignored: host certificates are not supported). An unknown host, a changed key or a revoked key
// is refused; there is no "accept on first use".
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { promises as fsp } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export interface KnownHostEntry {
  line: number;
  marker: "revoked" | "cert-authority" | null;
  patterns: string;
  keyType: string;
  key: Buffer;
}

export type HostKeyVerdict =
  | { ok: true }
  | { ok: false; reason: "unknown" | "changed" | "revoked"; message: string };

export function defaultKnownHostsPath(): string {
  return join(homedir(), ".ssh", "known_hosts");
}

/** The name a host is looked up under: `host` on port 22, `[host]:port` otherwise. */
export function hostLookupName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry["marker"] = null;
    if (fields[0] === "@revoked" || fields[0] === "@cert-authority") {
      marker = fields[0] === "@revoked" ? "revoked" : "cert-authority";
      fields.shift();
    }
    if (fields.length < 3) return;
    const key = Buffer.from(fields[2]!, "base64");
    if (key.length === 0) return;
    out.push({ line: i + 1, marker, patterns: fields[0]!, keyType: fields[1]!, key });
  });
  return out;
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "i");
}

function hashedMatch(pattern: string, name: string): boolean {
  // |1|base64(salt)|base64(HMAC-SHA1(salt, name))
  const parts = pattern.split("|");
  if (parts.length !== 4 || parts[1] !== "1") return false;
  const salt = Buffer.from(parts[2]!, "base64");
  const want = Buffer.from(parts[3]!, "base64");
  const got = createHmac("sha1", salt).update(name).digest();
  return want.length === got.length && timingSafeEqual(want, got);
}

/** Whether a comma-separated pattern list matches `name` (a negated match wins). */
export function patternsMatch(patterns: string, name: string): boolean {
  if (patterns.startsWith("|")) return hashedMatch(patterns, name);
  let matched = false;
  for (const p of patterns.split(",")) {
    const negated = p.startsWith("!");
    const glob = negated ? p.slice(1) : p;
    if (!globToRegExp(glob).test(name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** The entries for a host (plain ones and revocations), in file order. */
export function entriesFor(entries: KnownHostEntry[], host: string, port: number): KnownHostEntry[] {
  const name = hostLookupName(host, port);
  return entries.filter((e) => e.marker !== "cert-authority" && patternsMatch(e.patterns, name));
}

/** `SHA256:…` as `ssh-keygen -l` prints it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
}

/** The algorithm name inside an SSH wire-format public key blob (`ssh-ed25519`, …). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return "unknown";
  const n = key.readUInt32BE(0);
  return n > 0 && n < 64 && key.length >= 4 + n ? key.subarray(4, 4 + n).toString("latin1") : "unknown";
}

/** Checks the key a server presented against the known_hosts entries for it. */
export function verifyHostKey(entries: KnownHostEntry[], host: string, port: number, key: Buffer, file: string): HostKeyVerdict {
  const name = hostLookupName(host, port);
  const mine = entriesFor(entries, host, port);
  const presented = `${keyTypeOf(key)} key ${fingerprint(key)}`;
  if (mine.some((e) => e.marker === "revoked" && e.key.equals(key))) {
    return { ok: false, reason: "revoked", message: `host key verification failed for ${name}: its ${presented} is marked @revoked in ${file}` };
  }
  const plain = mine.filter((e) => e.marker === null);
  if (plain.some((e) => e.key.equals(key))) return { ok: true };
  if (plain.length > 0) {
    const lines = plain.map((e) => e.line).join(", ");
    return {
      ok: false,
      reason: "changed",
      message:
        `host key verification failed for ${name}: the host key CHANGED — it offered a ${presented}, ` +
        `which differs from ${file} line ${lines} (possible man-in-the-middle attack; if the host was reinstalled, ` +
        `remove the old entry with: ssh-keygen -R "${name}" -f ${file})`,
    };
  }
  const scan = port === 22 ? `ssh-keyscan ${host}` : `ssh-keyscan -p ${port} ${host}`;
  return {
    ok: false,
    reason: "unknown",
    message:
      `host key verification failed for ${name}: unknown host (not in ${file}); it offered a ${presented}. ` +
      `Check that fingerprint, then add the host with: ${scan} >> ${file}`,
  };
}

/** Host key algorithms to ask for, so the server offers a key type known_hosts has (as OpenSSH does). */
export function preferredHostKeyAlgorithms(entries: KnownHostEntry[], host: string, port: number): string[] {
  const out: string[] = [];
  for (const e of entriesFor(entries, host, port)) {
    if (e.marker !== null) continue;
    const algs = e.keyType === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [e.keyType];
    for (const a of algs) if (!out.includes(a)) out.push(a);
  }
  return out;
}

/** Reads a known_hosts file; a missing file is an empty one (every host is then unknown). */
export async function loadKnownHosts(path: string): Promise<KnownHostEntry[]> {
  try {
    return parseKnownHosts(await fsp.readFile(path, "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new Error(`cannot read known_hosts file ${path}: ${(err as Error).message}`);
  }
}
