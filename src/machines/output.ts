// Output capture shared by the local and ssh machines: each stream keeps its last N bytes (so a
// chatty command cannot exhaust memory) and is also streamed, decoded, to `onOutput`.
import { StringDecoder } from "node:string_decoder";
import { TailBuffer as Tail } from "../executors/command.js";
import type { ExecOptions } from "./types.js";

/** Default cap per stream when the caller gives none. */
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;

/** One output stream: capped capture plus decoded streaming to the caller's callback. */
export class StreamCapture {
  readonly tail: Tail;
  private readonly decoder = new StringDecoder("utf8");

  constructor(
    private readonly stream: "stdout" | "stderr",
    opts: Pick<ExecOptions, "maxOutputBytes" | "onOutput">,
    private readonly onOutput = opts.onOutput,
  ) {
    this.tail = new Tail(Math.max(0, Math.floor(opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES)));
  }

  push(chunk: Buffer): void {
    this.tail.push(chunk);
    if (!this.onOutput) return;
    const text = this.decoder.write(chunk);
    if (text) this.emit(text);
  }

  end(): void {
    if (!this.onOutput) return;
    const rest = this.decoder.end();
    if (rest) this.emit(rest);
  }

  private emit(text: string): void {
    try {
      this.onOutput!(this.stream, text);
    } catch {
      // A failing listener must not break the command.
    }
  }
}
