// An agent run from its task events (task.log with data.agent = the agent event type): what the
// model thought, each command it ran with its output as it arrived and the tool's verdict, and
// the typed result.
import type { JSX } from "preact";
import { useEffect, useRef } from "preact/hooks";
import type { GroveEvent } from "../api";
import { Json, Section } from "../ui";

interface Step {
  key: string;
  kind: "thinking" | "command" | "approval" | "result" | "error";
  text: string;
  output?: string;
  status?: string;
}

export function transcript(events: GroveEvent[]): Step[] {
  const steps: Step[] = [];
  const calls = new Map<string, Step>();
  for (const e of events) {
    const d = e.data ?? {};
    switch (d.agent) {
      case "thinking":
        steps.push({ key: `t${e.seq}`, kind: "thinking", text: String(d.message ?? "") });
        break;
      case "tool_call": {
        const args = d.args as { command?: string } | undefined;
        const s: Step = { key: `c${e.seq}`, kind: "command", text: args?.command ?? `${d.tool} ${JSON.stringify(d.args ?? {})}`, output: "" };
        calls.set(String(d.id), s);
        steps.push(s);
        break;
      }
      case "output": {
        const s = calls.get(String(d.id));
        if (s) s.output += `${d.message ?? ""}\n`;
        break;
      }
      case "tool_result": {
        const s = calls.get(String(d.id));
        if (s) s.status = String(d.status ?? "");
        break;
      }
      case "approval_required":
        steps.push({ key: `a${e.seq}`, kind: "approval", text: String(d.request?.command ?? d.message ?? "") });
        break;
      case "result":
        steps.push({ key: `r${e.seq}`, kind: "result", text: `agent ${d.status ?? "done"}` });
        break;
      case "error":
        steps.push({ key: `e${e.seq}`, kind: "error", text: String(d.error?.message ?? d.message ?? "") });
        break;
    }
  }
  return steps;
}

export function AgentTranscript({ events, result }: { events: GroveEvent[]; result: unknown }): JSX.Element {
  const steps = transcript(events);
  const box = useRef<HTMLOListElement>(null);
  useEffect(() => {
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [events.length]);
  const typed = result && typeof result === "object" && "output" in (result as object) ? (result as { output: unknown }).output : undefined;
  return (
    <Section title="Agent run" id="agent-title">
      <ol class="transcript" ref={box} tabIndex={0} aria-label="agent transcript">
        {steps.length === 0 ? <li class="muted">No agent events yet.</li> : null}
        {steps.map((s) => (
          <li key={s.key} class={`step k-${s.kind}`}>
            <span class="step-kind">{s.kind === "command" ? `$${s.status ? ` (${s.status})` : ""}` : s.kind}</span>
            {s.kind === "command" ? <code class="cmd">{s.text}</code> : <span class="step-text">{s.text}</span>}
            {s.output ? <pre class="output">{s.output}</pre> : null}
          </li>
        ))}
      </ol>
      {typed !== undefined ? (
        <>
          <h3>Typed result</h3>
          <Json value={typed} label="typed result" />
        </>
      ) : null}
    </Section>
  );
}
