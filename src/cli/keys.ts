// `grove keys create|list|revoke` and `grove schedules webhook` — credentials of grove serve.
import { iso } from "../client/result.js";
import { InputError, NotFoundError } from "../core/errors.js";
import { KeyStore, type ApiKey } from "../server/auth/keys.js";
import { serverDb } from "../server/db.js";
import { HookStore } from "../server/hooks/hook-store.js";
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from "../server/hooks/signature.js";
import { schedulesOf } from "../store/schedule-store.js";
import { openGrove, printJson } from "./context.js";
import { write } from "./io.js";
import type { GlobalOptions } from "./program.js";

const keyJson = (k: ApiKey) => ({ id: k.id, name: k.name, scope: k.scope, created_at: iso(k.created_at)!, revoked_at: iso(k.revoked_at), last_used_at: iso(k.last_used_at) });

async function withKeys<T>(opts: GlobalOptions, fn: (keys: KeyStore) => Promise<T>): Promise<T> {
  const grove = await openGrove(opts);
  try {
    return await fn(new KeyStore(serverDb(grove.store)));
  } finally {
    await grove.close();
  }
}

export async function createKeyCommand(opts: GlobalOptions & { scope?: string; name?: string }): Promise<void> {
  if (opts.scope === undefined) throw new InputError('--scope is required (an owner scope like acme/ops, or "/" for every scope)', "scope");
  if (!opts.name) throw new InputError("--name is required", "name");
  await withKeys(opts, async (keys) => {
    const k = await keys.create({ name: opts.name!, scope: opts.scope! });
    if (opts.json) return printJson({ ...keyJson(k), key: k.key });
    write(`${k.key}\n`);
    process.stderr.write(`grove: created key ${k.id} "${k.name}" for scope "${k.scope || "/"}"; it is shown only this once\n`);
  });
}

export async function listKeysCommand(opts: GlobalOptions): Promise<void> {
  await withKeys(opts, async (keys) => {
    const list = await keys.list();
    if (opts.json) return printJson(list.map(keyJson));
    if (list.length === 0) return void write("no keys\n");
    for (const k of list) write(`${k.id}  ${k.name}  ${k.scope || "/"}  ${k.revoked_at ? "revoked" : "live"}\n`);
  });
}

export async function revokeKeyCommand(key: string, opts: GlobalOptions): Promise<void> {
  await withKeys(opts, async (keys) => {
    const k = await keys.revoke(key);
    if (opts.json) return printJson(keyJson(k));
    write(`revoked key ${k.id} "${k.name}"\n`);
  });
}

export async function webhookCommand(name: string, opts: GlobalOptions & { rotate?: boolean }): Promise<void> {
  const grove = await openGrove(opts);
  try {
    const s = await schedulesOf(grove.store).get(name, grove.scope);
    if (!s) throw new NotFoundError(`no schedule "${name}"${grove.scope ? ` in scope "${grove.scope}"` : ""}`);
    const hooks = new HookStore(serverDb(grove.store));
    const { secret, created } = await hooks.secret(s.owner, s.name, { rotate: opts.rotate });
    const path = `/hooks/schedules/${encodeURIComponent(s.name)}`;
    if (opts.json) return printJson({ name: s.name, owner: s.owner, path, secret, created, signature_header: SIGNATURE_HEADER, timestamp_header: TIMESTAMP_HEADER });
    write(`${secret}\n`);
    process.stderr.write(`grove: POST ${path} with ${TIMESTAMP_HEADER}: <unix seconds> and ${SIGNATURE_HEADER}: sha256=hex(HMAC-SHA256(secret, timestamp + "." + body))\n`);
  } finally {
    await grove.close();
  }
}
