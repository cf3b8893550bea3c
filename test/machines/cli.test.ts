// `grove machines add|list|test|remove` end to end, as real processes, on a SQLite file and on
// PostgreSQL, against a real sshd; and the scope rules of the registry.
import { Ajv2020 as Ajv } from "ajv/dist/2020.js";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grove, tempDir } from "../helpers/cli.js";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.js";
import { startSshd, sshdMissing, type Sshd } from "../helpers/sshd.js";

const missing = sshdMissing();
const ajv = new Ajv({ strict: false, allErrors: true });

async function responseSchema(path: string) {
  const r = await grove([...path.split(" "), "--response-schema"]);
  expect(r.code).toBe(0);
  return ajv.compile(JSON.parse(r.stdout));
}

describe.skipIf(missing)(`grove machines${missing ? ` (skipped: ${missing})` : ""}`, () => {
  let sshd: Sshd;
  let pg: TestPostgres;
  beforeAll(async () => {
    [sshd, pg] = await Promise.all([startSshd(), startTestPostgres()]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([sshd?.stop(), pg?.stop()]);
  });

  const stores: [string, () => Promise<string>][] = [
    ["sqlite", async () => join(tempDir("grove-machines-"), "g.db")],
    ["postgres", () => pg.createDatabase()],
  ];

  describe.each(stores)("on %s", (_kind, makeDb) => {
    it("add, list, test and remove a machine", async () => {
      const db = await makeDb();
      const g = (args: string[]) => grove([...args, "--db", db]);
      const target = `${sshd.user}@127.0.0.1:${sshd.port}`;

      const added = await g(["machines", "add", "box", "--ssh", target, "--key", sshd.keyPath, "--known-hosts", sshd.knownHostsPath, "--labels", "role=web,env=test", "--json"]);
      expect(added.stderr).toBe("");
      expect(added.code).toBe(0);
      const row = JSON.parse(added.stdout);
      expect((await responseSchema("machines add"))(row)).toBe(true);
      expect(row).toMatchObject({ name: "box", owner: "", kind: "ssh", host: "127.0.0.1", port: sshd.port, user: sshd.user, key_path: sshd.keyPath, known_hosts: sshd.knownHostsPath, labels: { role: "web", env: "test" } });

      const again = await g(["machines", "add", "box", "--ssh", target, "--key", sshd.keyPath]);
      expect(again.code).toBe(2);
      expect(again.stderr).toBe('grove: machine "box" exists already (remove it first)\n');

      const list = await g(["machines", "list", "--json"]);
      const machines = JSON.parse(list.stdout);
      expect((await responseSchema("machines list"))(machines)).toBe(true);
      expect(machines.map((m: { name: string }) => m.name)).toEqual(["local", "box"]);
      const text = await g(["machines", "list"]);
      expect(text.stdout).toMatch(new RegExp(`box\\s+-\\s+${target}\\s+key ${sshd.keyPath}\\s+env=test,role=web`));

      const tested = await g(["machines", "test", "box", "--json"]);
      expect(tested.code).toBe(0);
      const t = JSON.parse(tested.stdout);
      expect((await responseSchema("machines test"))(t)).toBe(true);
      expect(t).toMatchObject({ name: "box", ok: true, error: null });
      const plain = await g(["machines", "test", "box"]);
      expect(plain.stdout).toMatch(/^ok box: \d+ ms\n$/);

      // A host whose key is not in the given known_hosts: the test fails, saying why.
      await g(["machines", "add", "stranger", "--ssh", target, "--key", sshd.keyPath, "--known-hosts", join(tempDir(), "none")]);
      const refused = await g(["machines", "test", "stranger"]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^grove: machine stranger: host key verification failed for \[127\.0\.0\.1\]:\d+: unknown host/);

      const removed = await g(["machines", "remove", "box", "--json"]);
      expect(JSON.parse(removed.stdout)).toEqual({ name: "box", owner: "", removed: true });
      expect(JSON.parse((await g(["machines", "list", "--json"])).stdout).map((m: { name: string }) => m.name)).toEqual(["local", "stranger"]);
      const gone = await g(["machines", "remove", "box"]);
      expect(gone.code).toBe(1);
      expect(gone.stderr).toBe('grove: no machine "box"\n');
    });

    it("a machine is visible only in its owner's subtree", async () => {
      const db = await makeDb();
      const g = (as: string, args: string[]) => grove([...args, "--db", db, "--as", as]);
      const add = await g("acme/ops", ["machines", "add", "opsbox", "--ssh", `${sshd.user}@127.0.0.1:${sshd.port}`, "--key", sshd.keyPath, "--known-hosts", sshd.knownHostsPath]);
      expect(add.code).toBe(0);
      const names = async (as: string) => JSON.parse((await g(as, ["machines", "list", "--json"])).stdout).map((m: { name: string }) => m.name);
      expect(await names("acme/ops")).toEqual(["local", "opsbox"]);
      expect(await names("acme/ops/bot-7")).toEqual(["local", "opsbox"]); // usable below its owner
      expect(await names("acme")).toEqual(["local", "opsbox"]); // managed from above
      expect(await names("acme/dev")).toEqual(["local"]); // a sibling never sees it
      expect(await names("acme/opsx")).toEqual(["local"]); // segment-wise, not a prefix

      const sibling = await g("acme/dev", ["machines", "test", "opsbox"]);
      expect(sibling.code).toBe(1);
      expect(sibling.stderr).toBe('grove: no machine "opsbox" in scope "acme/dev"\n');
      expect((await g("acme/ops/bot-7", ["machines", "test", "opsbox", "--json"])).code).toBe(0);
      // Below the owner it may be used, not removed; a sibling cannot remove it either.
      expect((await g("acme/ops/bot-7", ["machines", "remove", "opsbox"])).code).toBe(1);
      expect((await g("acme/dev", ["machines", "remove", "opsbox"])).code).toBe(1);
      expect((await g("acme", ["machines", "remove", "opsbox"])).code).toBe(0);
    });
  });

  it("refuses bad input before storing anything", async () => {
    const db = join(tempDir(), "g.db");
    const g = (args: string[]) => grove([...args, "--db", db]);
    const bad = await g(["machines", "add", "x", "--ssh", "user@host:notaport"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^grove: --ssh: expected user@host or user@host:port/);
    const local = await g(["machines", "add", "local", "--ssh", "u@h"]);
    expect(local.stderr).toBe('grove: name "local" is reserved for this host\n');
    const both = await g(["machines", "add", "x", "--ssh", "u@h", "--key", sshd.keyPath, "--password-env", "PW"]);
    expect(both.stderr).toBe("grove: give a key file or password_env, not both\n");
    expect(JSON.parse((await g(["machines", "list", "--json"])).stdout)).toHaveLength(1);
  });
});
