// The agent's tools (DESIGN §9): run_command, read_file, write_file, list_dir on the target
// machine, and final_answer, whose input schema is the user's output schema. The model only sees
// each tool's name, description and input schema; the calls are carried out here, after the
// command policy and the approval mode have had their say (gate.ts), so safety never depends on
// the model.
import { posix as path } from "node:path";
import type { ApprovalRequest } from "../core/errors.js";
import type { JsonSchema } from "../core/validation.js";
import type { Machine } from "../machines/types.js";
import { gateCommand, gateFile, type Gate } from "./gate.js";
import { checkAnswer, type OutputSpec } from "./output-schema.js";
import type { Policy } from "./policy/check.js";
import type { ParsedRestrictions } from "./policy/types.js";
import type { AgentEvent, AgentState, PendingCall, StateSettings, ToolStatus } from "./types.js";

export const TOOL_NAMES = ["run_command", "read_file", "write_file", "list_dir", "final_answer"] as const;

export interface ToolDef {
  description: string;
  inputSchema: JsonSchema;
}

/** What the model is told about each tool. */
export function toolDefs(output: OutputSpec): Record<string, ToolDef> {
  return {
    run_command: {
      description:
        "Run a shell command (sh -c) on the target machine. Returns exit_code, stdout, stderr (tails, capped). " +
        "A command may be denied by the policy, simulated (dry run: not executed) or held for human approval; the result says so.",
      inputSchema: {
        type: "object",
        properties: {
          command: { type: "string", description: "the command line" },
          cwd: { type: "string", description: "working directory (default: the run's)" },
          timeout_ms: { type: "integer", minimum: 1, description: "kill the command after this long" },
        },
        required: ["command"],
        additionalProperties: false,
      },
    },
    read_file: {
      description: "Read a text file on the target machine (at most max_bytes, default 65536).",
      inputSchema: {
        type: "object",
        properties: { path: { type: "string" }, max_bytes: { type: "integer", minimum: 1 } },
        required: ["path"],
        additionalProperties: false,
      },
    },
    write_file: {
      description: "Write a text file on the target machine (replaces its content).",
      inputSchema: {
        type: "object",
        properties: { path: { type: "string" }, content: { type: "string" } },
        required: ["path", "content"],
        additionalProperties: false,
      },
    },
    list_dir: {
      description: "List a directory on the target machine: name, type, size of each entry.",
      inputSchema: { type: "object", properties: { path: { type: "string" } }, required: ["path"], additionalProperties: false },
    },
    final_answer: {
      description: "Finish the task: give the result, matching this input schema exactly. Call it once, when done.",
      inputSchema: output.toolSchema,
    },
  };
}

export interface ToolEnv {
  machine: Machine;
  policy: Policy;
  restrictions: ParsedRestrictions;
  settings: StateSettings;
  output: OutputSpec;
  state: AgentState;
  signal: AbortSignal;
  emit: (e: AgentEvent) => void;
}

export type ToolOutcome =
  | { kind: "result"; status: ToolStatus; summary: string; value: unknown }
  | { kind: "approval"; request: ApprovalRequest }
  | { kind: "final"; value: unknown }
  | { kind: "invalid_final"; errors: string[] };

const result = (status: ToolStatus, summary: string, value: unknown): ToolOutcome => ({ kind: "result", status, summary, value });

/**
 * Carries out one tool call. `decision` is set when a human decided on this call (resume or
 * onApproval): approved runs it without asking again, rejected reports the rejection.
 */
export async function runTool(call: PendingCall, env: ToolEnv, decision?: { approved: boolean; reason?: string }): Promise<ToolOutcome> {
  if (call.invalid) return result("invalid", `invalid arguments: ${call.invalid}`, { error: `invalid arguments: ${call.invalid}` });
  const input = (call.input ?? {}) as Record<string, unknown>;
  const str = (k: string) => (typeof input[k] === "string" ? (input[k] as string) : undefined);
  switch (call.toolName) {
    case "final_answer": {
      const checked = checkAnswer(env.output, call.input);
      return checked.ok ? { kind: "final", value: checked.value } : { kind: "invalid_final", errors: checked.errors };
    }
    case "run_command": {
      const command = str("command");
      if (!command) return result("invalid", "command is required", { error: "the command argument is required" });
      const cwd = path.resolve(env.settings.cwd, str("cwd") ?? ".");
      const gate = gateCommand(env.policy, command, cwd, env.restrictions, env.settings.approval);
      const held = await gated(gate, command, env, decision, { tool: "run_command", command, cwd });
      if (held) return held;
      const timeout = typeof input.timeout_ms === "number" && input.timeout_ms > 0 ? Math.min(input.timeout_ms, env.settings.commandTimeout) : env.settings.commandTimeout;
      const r = await env.machine.exec(command, {
        cwd,
        timeoutMs: timeout,
        signal: env.signal,
        maxOutputBytes: env.settings.maxOutputBytes,
        onOutput: (stream, chunk) => env.emit({ type: "output", id: call.toolCallId, stream, chunk }),
        ...(env.restrictions.allowed_dirs !== undefined ? { writableDirs: env.restrictions.allowed_dirs.map((d) => path.resolve(env.settings.cwd, d)) } : {}),
      });
      env.state.commands.push({
        command,
        cwd,
        exit_code: r.exitCode,
        timed_out: r.timedOut,
        duration_ms: r.durationMs,
        sandboxed: r.sandboxed === true,
        ...(decision?.approved ? { approved: true } : {}),
      });
      const value: Record<string, unknown> = { exit_code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
      if (r.signal) value.signal = r.signal;
      if (r.timedOut) value.timed_out = `killed after ${timeout} ms`;
      if (r.truncated) value.truncated = `only the last ${env.settings.maxOutputBytes} bytes of each stream are shown`;
      const status: ToolStatus = r.exitCode === 0 ? "ok" : "error";
      return result(status, `exit ${r.exitCode ?? r.signal ?? "?"}${r.timedOut ? " (timed out)" : ""}: ${(r.stdout + r.stderr).trim()}`, value);
    }
    case "read_file":
    case "list_dir":
    case "write_file": {
      const p = str("path");
      if (!p) return result("invalid", "path is required", { error: "the path argument is required" });
      const abs = path.resolve(env.settings.cwd, p);
      const op = call.toolName === "read_file" ? "read" : call.toolName === "list_dir" ? "list" : "write";
      const content = str("content") ?? "";
      const label = op === "write" ? `write_file ${abs} (${Buffer.byteLength(content)} bytes)` : `${call.toolName} ${abs}`;
      const gate = gateFile(env.policy, op, abs, env.settings.cwd, env.restrictions, env.settings.approval);
      const held = await gated(gate, label, env, decision, { tool: "write_file", command: label, path: abs });
      if (held) return held;
      try {
        if (op === "read") {
          const max = typeof input.max_bytes === "number" ? input.max_bytes : 65536;
          const text = await env.machine.readFile(abs, { maxBytes: max, signal: env.signal });
          return result("ok", text, { content: text });
        }
        if (op === "list") {
          const entries = await env.machine.listDir(abs, { signal: env.signal });
          return result("ok", entries.map((e) => `${e.type === "dir" ? `${e.name}/` : e.name}`).join(" "), { entries });
        }
        await env.machine.writeFile(abs, content, { signal: env.signal });
        return result("ok", `wrote ${abs}`, { written: abs, bytes: Buffer.byteLength(content) });
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        return result("error", `${call.toolName} ${abs}: ${e.code ?? e.message}`, { error: `${e.code ?? "error"}: ${e.message}` });
      }
    }
    default:
      return result("invalid", `unknown tool ${call.toolName}`, { error: `unknown tool "${call.toolName}"; the tools are ${TOOL_NAMES.join(", ")}` });
  }
}

/** Applies the gate; returns the outcome when the action must not run now. */
async function gated(
  gate: Gate,
  shown: string,
  env: ToolEnv,
  decision: { approved: boolean; reason?: string } | undefined,
  planned: { tool: "run_command" | "write_file"; command: string; cwd?: string; path?: string },
): Promise<ToolOutcome | null> {
  if (gate.action === "deny") {
    return result("denied", `denied: ${gate.reasons.join("; ")}`, { denied: true, executed: false, reasons: gate.reasons });
  }
  if (gate.action === "simulate") {
    env.state.planned_actions.push({ ...planned, reasons: gate.reasons });
    return result("simulated", `not executed (dry run): ${shown}`, {
      executed: false,
      dry_run: true,
      note: "dry run: this was NOT executed; it is recorded in the plan. Read-only commands do run.",
      reasons: gate.reasons,
    });
  }
  if (gate.action === "approve") {
    if (!decision) return { kind: "approval", request: { command: shown, reasons: gate.reasons, risk: gate.risk, machine: env.machine.name } };
    if (!decision.approved) {
      const why = decision.reason ? `: ${decision.reason}` : "";
      return result("rejected", `rejected by the approver${why}`, { executed: false, rejected: true, reason: decision.reason ?? null });
    }
  }
  return null;
}
