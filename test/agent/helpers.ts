// Shared pieces of the agent tests: a fake model driven step by step, and temp workspaces.
import { mkdtempSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { startFakeOpenAI, type FakeOpenAI, type FakeReply, type FakeRequest } from "../helpers/fake-openai.js";

export type Step = FakeReply | ((req: FakeRequest) => FakeReply);

/**
 * A script where reply i answers the request that already holds i assistant messages, so a retried
 * request (429/500) gets the same step again, and each step can read the previous tool results.
 */
export function steps(...list: Step[]): (req: FakeRequest) => FakeReply {
  return (req) => {
    const i = req.messages.filter((m) => m.role === "assistant").length;
    const s = list[Math.min(i, list.length - 1)]!;
    return typeof s === "function" ? s(req) : s;
  };
}

/** The last tool result the model got, parsed (run_command results are {exit_code, stdout, stderr}). */
export function lastResult(req: FakeRequest): any {
  const r = req.toolResults[req.toolResults.length - 1];
  if (!r) return undefined;
  try {
    return JSON.parse(r.content);
  } catch {
    return r.content;
  }
}

/** Every tool result the model got so far, parsed. */
export function allResults(req: FakeRequest): any[] {
  return req.toolResults.map((r) => {
    try {
      return JSON.parse(r.content);
    } catch {
      return r.content;
    }
  });
}

export const run = (command: string, extra: Record<string, unknown> = {}): FakeReply => ({ tool_calls: [{ name: "run_command", arguments: { command, ...extra } }] });
export const answer = (output: unknown): FakeReply => ({ tool_calls: [{ name: "final_answer", arguments: output }] });

const fakes: FakeOpenAI[] = [];
afterEach(async () => {
  while (fakes.length) await fakes.pop()!.close();
});

/** A fake model server (closed after the test) and the run options that point at it. */
export async function fakeModel(script: (req: FakeRequest) => FakeReply | Promise<FakeReply>) {
  const fake = await startFakeOpenAI(script);
  fakes.push(fake);
  return { fake, model: "openai-compatible:fake", env: { GROVE_OPENAI_COMPATIBLE_BASE_URL: fake.url } };
}

export function workspace(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "grove-agent-"));
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(dir, name), content);
    if (name.endsWith(".sh")) chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

/**
 * A stand-in service: `sh svc.sh start|stop|restart|status|health`, its state in files
 * (state: running|stopped, down_since: epoch seconds, restarts: count).
 */
export const SERVICE = `#!/bin/sh
cd "$(dirname "$0")"
case "$1" in
  start) echo running > state; rm -f down_since; echo "nginx started";;
  stop) echo stopped > state; echo "nginx stopped";;
  restart) echo stopped > state; echo running > state; rm -f down_since; n=$(cat restarts 2>/dev/null || echo 0); echo $((n+1)) > restarts; echo "nginx restarted";;
  status) if [ "$(cat state)" = running ]; then echo "nginx is running"; else echo "nginx is stopped"; exit 3; fi;;
  health)
    if [ "$(cat state)" = running ]; then echo "healthy"; exit 0; fi
    since=$(cat down_since 2>/dev/null || date +%s); echo "unhealthy for $(( $(date +%s) - since ))s"; exit 1;;
esac
`;
