// API keys (DESIGN §8): a key is 32 random bytes, shown once; only its SHA-256 is stored. A
// high-entropy key needs no slow hash: nobody can brute-force 256 bits from its digest.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { InputError, NotFoundError } from "../../core/errors.js";
import { uuidv7 } from "../../core/ids.js";
import { normalizeScope } from "../../core/scope.js";
import type { ServerDb } from "../db.js";

export const KEY_PREFIX = "grove_";

export interface ApiKey {
  id: string;
  name: string;
  scope: string;
  created_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
}

export const hashKey = (key: string): string => createHash("sha256").update(key).digest("hex");

function toKey(r: Record<string, unknown>): ApiKey {
  return {
    id: String(r.id),
    name: String(r.name),
    scope: String(r.scope),
    created_at: Number(r.created_at),
    revoked_at: r.revoked_at === null || r.revoked_at === undefined ? null : Number(r.revoked_at),
    last_used_at: r.last_used_at === null || r.last_used_at === undefined ? null : Number(r.last_used_at),
  };
}

/**
 * A key's scope is where it acts. "/" (or "") means every scope: an operator key. Anything else
 * is a normalised owner path.
 */
export function keyScope(scope: string): string {
  if (scope === "/" || scope === "") return "";
  try {
    return normalizeScope(scope);
  } catch (err) {
    throw new InputError(`--scope ${scope}: ${(err as Error).message}`, "scope");
  }
}

export class KeyStore {
  constructor(private readonly db: ServerDb) {}

  /** Creates a key and returns it with its secret, which is not stored and cannot be shown again. */
  async create(opts: { name: string; scope: string; now?: number }): Promise<ApiKey & { key: string }> {
    if (!opts.name.trim()) throw new InputError("--name must not be empty", "name");
    const scope = keyScope(opts.scope);
    const key = KEY_PREFIX + randomBytes(32).toString("base64url");
    const now = opts.now ?? Date.now();
    const id = `key_${uuidv7(now).replace(/-/g, "")}`;
    await this.db.all("INSERT INTO api_keys (id, name, scope, hash, created_at) VALUES ($1, $2, $3, $4, $5)", [id, opts.name, scope, hashKey(key), now]);
    return { id, name: opts.name, scope, created_at: now, revoked_at: null, last_used_at: null, key };
  }

  async list(): Promise<ApiKey[]> {
    const rows = await this.db.all("SELECT id, name, scope, created_at, revoked_at, last_used_at FROM api_keys ORDER BY created_at, id");
    return rows.map(toKey);
  }

  /** Revokes by id or by name (a name must be unique among live keys). */
  async revoke(idOrName: string, now = Date.now()): Promise<ApiKey> {
    const rows = (await this.db.all("SELECT * FROM api_keys WHERE (id = $1 OR name = $1) AND revoked_at IS NULL", [idOrName])).map(toKey);
    if (rows.length === 0) throw new NotFoundError(`no live API key "${idOrName}"`);
    if (rows.length > 1) throw new InputError(`several live keys are named "${idOrName}"; revoke one by id (${rows.map((r) => r.id).join(", ")})`, "key");
    await this.db.all("UPDATE api_keys SET revoked_at = $1 WHERE id = $2", [now, rows[0]!.id]);
    return { ...rows[0]!, revoked_at: now };
  }

  /** The live key whose secret this is, or undefined. */
  async verify(key: string): Promise<ApiKey | undefined> {
    if (!key.startsWith(KEY_PREFIX) || key.length > 200) return undefined;
    const hash = hashKey(key);
    const rows = await this.db.all("SELECT * FROM api_keys WHERE hash = $1 AND revoked_at IS NULL", [hash]);
    const row = rows[0];
    // The lookup is by digest; comparing the digests again in constant time costs nothing and
    // keeps the check independent of how the database compares strings.
    if (!row || !timingSafeEqual(Buffer.from(String(row.hash)), Buffer.from(hash))) return undefined;
    return toKey(row);
  }

  /** Best effort, at most once a minute per key: not worth a write per request. */
  async touch(id: string, now = Date.now()): Promise<void> {
    await this.db.all("UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)", [now, id, now - 60_000]);
  }
}
