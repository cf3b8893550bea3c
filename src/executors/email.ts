import { promises as fsp } from "node:fs";
import { basename } from "node:path";
import { z } from "zod";
import { defineExecutor, type ExecutorContext } from "../core/executor.js";
import { TaskFailure } from "../core/errors.js";
import { abortFailure, assertPublicHost, BACKSTOP_MS, deadline, errorText, raceSignal } from "./net-target.js";

const Addresses = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export const SmtpSettings = z.strictObject({
  host: z.string().min(1).describe("SMTP server host name or address"),
  port: z.number().int().min(1).max(65535).default(587),
  secure: z.boolean().optional().describe("TLS from the first byte (default: true on port 465); otherwise STARTTLS when offered"),
  require_tls: z.boolean().default(false).describe("Fail unless the connection is upgraded with STARTTLS"),
  user: z.string().min(1).optional().describe("Login name for SMTP AUTH"),
  password_env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name")
    .optional()
    .describe("Name of the environment variable holding the password (the password itself never appears in the tree)"),
  ca: z.string().optional().describe("PEM CA certificate(s) to trust for TLS, in addition to the system's"),
});

export const EmailInput = z
  .strictObject({
    smtp: SmtpSettings,
    from: z.string().min(1).describe('Sender, "Name <addr@example.com>" or an address'),
    to: Addresses.describe("Recipient(s)"),
    cc: Addresses.optional(),
    bcc: Addresses.optional(),
    reply_to: z.string().min(1).optional(),
    subject: z.string(),
    text: z.string().optional().describe("Plain-text body"),
    html: z.string().optional().describe("HTML body"),
    attachments: z
      .array(
        z.strictObject({
          path: z.string().min(1).describe("File on the machine grove runs on"),
          filename: z.string().min(1).optional().describe("Name shown to the recipient (default: the file's name)"),
          content_type: z.string().min(1).optional(),
        }),
      )
      .optional(),
    timeout_ms: z.number().int().positive().default(30_000).describe("Limit for connecting and sending"),
  })
  // A body is required: the engine's validator names `text` when neither is given.
  .meta({ anyOf: [{ required: ["text"] }, { required: ["html"] }] });

export const EmailOutput = z.object({
  message_id: z.string(),
  accepted: z.array(z.string()).describe("Recipients the server accepted"),
  rejected: z.array(z.string()).describe("Recipients the server refused"),
  response: z.string().describe("The server's final reply"),
});

export type EmailInputs = z.output<typeof EmailInput>;
export type EmailResult = z.infer<typeof EmailOutput>;

export const email = defineExecutor({
  id: "email",
  name: "Send e-mail (SMTP)",
  description:
    "Sends one e-mail through an SMTP server (nodemailer) and returns {message_id, accepted, rejected}. " +
    "The password is read from the environment variable named by smtp.password_env. Private and " +
    "link-local server addresses are refused unless allowPrivateNetwork is set.",
  input: EmailInput,
  output: EmailOutput,
  cancelable: true,
  execute: (inputs, ctx) => send(inputs, ctx),
});

const list = (a: string | string[] | undefined) => (a === undefined ? undefined : Array.isArray(a) ? a : [a]);
const addr = (a: string | { address: string }) => (typeof a === "string" ? a : a.address);

async function send(inputs: EmailInputs, ctx: ExecutorContext): Promise<EmailResult> {
  const smtp = inputs.smtp;
  const port = smtp.port ?? 587;
  const target = `smtp://${smtp.host}:${port}`;
  if (inputs.text === undefined && inputs.html === undefined) {
    throw new TaskFailure("validation_error", "inputs.text is required (or inputs.html)");
  }
  // Everything that can fail locally fails before any connection.
  let password: string | undefined;
  if (smtp.password_env !== undefined) {
    if (smtp.user === undefined) throw new TaskFailure("validation_error", "inputs.smtp.user is required with smtp.password_env");
    password = process.env[smtp.password_env];
    if (password === undefined) {
      throw new TaskFailure("executor_error", `smtp.password_env: environment variable ${smtp.password_env} is not set`);
    }
  }
  const attachments = [];
  for (const [i, a] of (inputs.attachments ?? []).entries()) {
    try {
      const st = await fsp.stat(a.path);
      if (!st.isFile()) throw Object.assign(new Error("not a file"), { code: "not a regular file" });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new TaskFailure("executor_error", `attachments[${i}].path ${a.path}: ${code}`);
    }
    attachments.push({ path: a.path, filename: a.filename ?? basename(a.path), contentType: a.content_type });
  }

  const timeoutMs = inputs.timeout_ms ?? 30_000;
  const { signal, done } = deadline(ctx.signal, timeoutMs, `sending mail through ${target}`);
  let transporter: { close(): void } | undefined;
  try {
    await assertPublicHost("smtp", smtp.host, port, ctx.settings, signal);
    signal.throwIfAborted();
    const nodemailer = (await import("nodemailer")).default;
    const t = nodemailer.createTransport({
      host: smtp.host,
      port,
      secure: smtp.secure ?? port === 465,
      requireTLS: smtp.require_tls ?? false,
      auth: smtp.user !== undefined ? { user: smtp.user, pass: password } : undefined,
      tls: smtp.ca !== undefined ? { ca: smtp.ca } : undefined,
      // Our deadline is the one that ends the task (with a "timeout" error); nodemailer's own
      // timers are a backstop set later, so the two never race to report the same expiry.
      connectionTimeout: timeoutMs + BACKSTOP_MS,
      greetingTimeout: timeoutMs + BACKSTOP_MS,
      socketTimeout: timeoutMs + BACKSTOP_MS,
      logger: false, // nodemailer's logger would print the AUTH exchange
      disableFileAccess: false, // attachments by path are the point; URLs are refused below
      disableUrlAccess: true, // an attachment or body URL would be fetched with no SSRF guard
    });
    transporter = t;
    const info = await raceSignal(
      t.sendMail({
        from: inputs.from,
        to: list(inputs.to),
        cc: list(inputs.cc),
        bcc: list(inputs.bcc),
        replyTo: inputs.reply_to,
        subject: inputs.subject,
        text: inputs.text,
        html: inputs.html,
        attachments,
      }),
      signal,
      `sending mail through ${target}`,
    );
    ctx.log(`sent ${info.messageId} through ${target}`, { accepted: info.accepted.length, rejected: info.rejected.length });
    return {
      message_id: info.messageId,
      accepted: info.accepted.map(addr),
      rejected: info.rejected.map(addr),
      response: info.response,
    };
  } catch (err) {
    if (signal.aborted) throw abortFailure(signal, `sending mail through ${target}`);
    if (err instanceof TaskFailure) throw err;
    // nodemailer's messages carry the server's reply, never the password.
    throw new TaskFailure("executor_error", `sending mail through ${target} failed: ${errorText(err)}`);
  } finally {
    done();
    transporter?.close();
  }
}
