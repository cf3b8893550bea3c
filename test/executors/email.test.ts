import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from "node:net";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";
import { email, type EmailResult } from "../../src/executors/email.js";
import { failureOf, makeCtx, runExecutor, runTask } from "./support/ctx.js";
import { tempDir } from "../helpers/cli.js";

// A real SMTP peer (the smtp-server package) on loopback; it keeps every message it receives.
interface Received {
  from: string;
  to: string[];
  raw: string;
  user?: string;
}
const received: Received[] = [];
let server: SMTPServer;
let port: number;
let connections = 0;
const PASSWORD = "s3cret-Pa55";

beforeAll(async () => {
  server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true, // loopback test: AUTH without TLS
    disabledCommands: ["STARTTLS"],
    logger: false,
    onConnect(_session, cb) {
      connections++;
      cb();
    },
    onAuth(auth, _session, cb) {
      if (auth.username === "mailer" && auth.password === PASSWORD) cb(null, { user: auth.username });
      else cb(new Error("Invalid username or password"));
    },
    onRcptTo(address, _session, cb) {
      if (address.address.endsWith("@refused.test")) cb(new Error("no such mailbox"));
      else cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString("utf8"),
          user: session.user as string | undefined,
        });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  port = (server.server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

const base = () => ({ smtp: { host: "127.0.0.1", port, secure: false }, from: "Grove <grove@example.test>", subject: "Report" });
const run = (inputs: Record<string, unknown>) => runExecutor<EmailResult>(email, inputs, makeCtx().ctx);

describe("email executor against smtp-server", () => {
  it("sends a message with cc, bcc, reply-to, html and an attachment; the server receives it", async () => {
    const dir = tempDir("grove-mail-");
    const file = join(dir, "report.csv");
    writeFileSync(file, "a,b\n1,2\n");
    const r = await run({
      ...base(),
      to: ["ops@example.test", "dev@example.test"],
      cc: "lead@example.test",
      bcc: "audit@example.test",
      reply_to: "noreply@example.test",
      text: "All good.",
      html: "<p>All <b>good</b>.</p>",
      attachments: [{ path: file }],
    });
    expect(r.accepted.sort()).toEqual(["audit@example.test", "dev@example.test", "lead@example.test", "ops@example.test"]);
    expect(r.rejected).toEqual([]);
    expect(r.message_id).toMatch(/^<.+@.+>$/);
    const m = received.at(-1)!;
    expect(m.from).toBe("grove@example.test");
    expect(m.to.sort()).toEqual(r.accepted);
    expect(m.raw).toMatch(/^Subject: Report$/m);
    expect(m.raw).toMatch(/^To: ops@example\.test, dev@example\.test$/m);
    expect(m.raw).toMatch(/^Cc: lead@example\.test$/m);
    expect(m.raw).not.toMatch(/^Bcc:/m); // bcc only in the envelope
    expect(m.raw).toMatch(/^Reply-To: noreply@example\.test$/m);
    expect(m.raw).toContain(`Message-ID: ${r.message_id}`);
    expect(m.raw).toContain("All good.");
    expect(m.raw).toContain("<p>All <b>good</b>.</p>");
    expect(m.raw).toMatch(/filename=report\.csv/);
    expect(m.raw).toContain(Buffer.from("a,b\n1,2\n").toString("base64"));
  });

  it("logs in with the password from the environment variable named by password_env", async () => {
    process.env.GROVE_TEST_SMTP_PASSWORD = PASSWORD;
    const { ctx, logs } = makeCtx();
    const r = await runExecutor<EmailResult>(
      email,
      { ...base(), smtp: { ...base().smtp, user: "mailer", password_env: "GROVE_TEST_SMTP_PASSWORD" }, to: "ops@example.test", text: "hi" },
      ctx,
    );
    expect(received.at(-1)!.user).toBe("mailer");
    expect(JSON.stringify([r, logs])).not.toContain(PASSWORD);
    process.env.GROVE_TEST_SMTP_PASSWORD = "wrong";
    const f = await failureOf(
      run({ ...base(), smtp: { ...base().smtp, user: "mailer", password_env: "GROVE_TEST_SMTP_PASSWORD" }, to: "ops@example.test", text: "hi" }),
    );
    expect(f.message).toMatch(/failed: .*Invalid username or password/);
    expect(f.message).not.toContain(PASSWORD);
    delete process.env.GROVE_TEST_SMTP_PASSWORD;
  });

  it("returns refused recipients, and fails when all are refused", async () => {
    const r = await run({ ...base(), to: ["ok@example.test", "x@refused.test"], text: "hi" });
    expect(r.accepted).toEqual(["ok@example.test"]);
    expect(r.rejected).toEqual(["x@refused.test"]);
    const f = await failureOf(run({ ...base(), to: "y@refused.test", text: "hi" }));
    expect(f.message).toMatch(/sending mail through smtp:\/\/127\.0\.0\.1:\d+ failed: .*no such mailbox/);
  });

  it("fails before connecting when the password variable is unset or an attachment is missing", async () => {
    const before = connections;
    const f = await failureOf(run({ ...base(), smtp: { ...base().smtp, user: "u", password_env: "GROVE_TEST_NO_SUCH_VAR" }, to: "a@example.test", text: "x" }));
    expect(f.message).toBe("smtp.password_env: environment variable GROVE_TEST_NO_SUCH_VAR is not set");
    const g = await failureOf(run({ ...base(), to: "a@example.test", text: "x", attachments: [{ path: "/no/such/file.pdf" }] }));
    expect(g.message).toBe("attachments[0].path /no/such/file.pdf: ENOENT");
    expect(connections).toBe(before);
  });

  it("fails clearly when nothing listens, and times out on a server that never greets", async () => {
    const silent: TcpServer = createTcpServer(() => undefined); // accepts, says nothing
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
    const silentPort = (silent.address() as AddressInfo).port;
    const f = await failureOf(run({ ...base(), smtp: { host: "127.0.0.1", port: silentPort }, to: "a@example.test", text: "x", timeout_ms: 500 }));
    expect(f.type).toBe("timeout");
    expect(f.message).toBe(`sending mail through smtp://127.0.0.1:${silentPort} timed out after 500 ms`);
    await new Promise<void>((r) => silent.close(() => r()));
    const g = await failureOf(run({ ...base(), smtp: { host: "127.0.0.1", port: silentPort }, to: "a@example.test", text: "x", timeout_ms: 5000 }));
    expect(g.message).toMatch(/sending mail through smtp:\/\/127\.0\.0\.1:\d+ failed: .*ECONNREFUSED/);
  });
});

describe("email executor through the engine", () => {
  it("sends when private addresses are allowed, refuses loopback otherwise (before connecting)", async () => {
    const ok = await runTask("email", { ...base(), to: "ops@example.test", text: "engine" }, { allowPrivateNetwork: true });
    expect(ok.status).toBe("completed");
    expect(ok.result.accepted).toEqual(["ops@example.test"]);
    const before = connections;
    const refused = await runTask("email", { ...base(), to: "ops@example.test", text: "engine" });
    expect(refused.status).toBe("failed");
    expect(refused.error!.message).toMatch(/refusing smtp:\/\/127\.0\.0\.1:\d+: 127\.0\.0\.1 is a loopback address/);
    const named = await runTask("email", { ...base(), smtp: { host: "localhost", port }, to: "ops@example.test", text: "x" });
    expect(named.error!.message).toMatch(/localhost resolves to .*loopback address/);
    expect(connections).toBe(before);
  });

  it("rejects invalid inputs naming the field, before any connection", async () => {
    const before = connections;
    const allow = { allowPrivateNetwork: true };
    await expect(runTask("email", { ...base(), to: "a@example.test" }, allow)).rejects.toThrow(/task "task": inputs\.text is required/);
    await expect(runTask("email", { ...base(), text: "x" }, allow)).rejects.toThrow(/inputs\.to is required/);
    await expect(runTask("email", { ...base(), to: "a@example.test", text: "x", smtp: { host: "127.0.0.1", port: 70000 } }, allow)).rejects.toThrow(/inputs\.smtp\.port must be <= 65535/);
    await expect(runTask("email", { ...base(), to: "a@example.test", text: "x", smtp: { host: "127.0.0.1", password: "literal" } }, allow)).rejects.toThrow(/inputs\.smtp\.password is not allowed/);
    await expect(runTask("email", { ...base(), to: "a@example.test", text: "x", smtp: { host: "127.0.0.1", password_env: "not a name" } }, allow)).rejects.toThrow(/inputs\.smtp\.password_env must match pattern/);
    expect(connections).toBe(before);
  });
});
