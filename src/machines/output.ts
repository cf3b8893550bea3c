// Output capture shared by the local and ssh machines: each stream keeps its last N bytes (so a
// chatty command cannot exhaust memory) and is also streamed, decoded, to `onOutput`.
import { StringDecoder } from "node:string_decoder";
import type { ExecOptions } from "./types.js";

/** Default cap per stream when the caller gives none. */
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;

/** Keeps the last `cap` bytes written to it. */
export class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly cap: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.cap && this.chunks.length > 0) {
      this.truncated = true;
      const excess = this.size - this.cap;
      const first = this.chunks[0]!;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
      }
    }
  }

  text(): string {
    let buf = Buffer.concat(this.chunks, this.size);
    if (this.truncated) {
      // The cut may fall inside a UTF-8 sequence: drop its orphaned continuation bytes.
      let i = 0;
      while (i < 3 && i < buf.length && (buf[i]! & 0xc0) === 0x80) i++;
      buf = buf.subarray(i);
    }
    return buf.toString("utf8");
  }
}

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
