// The one contract every place a command can run implements (DESIGN §9: "local" and "ssh").
// The agent's tools and the `ssh` executor go through it, so timeouts, output caps and
// cancellation behave the same whatever the target.

export interface ExecOptions {
  /** Working directory on the target (must exist). */
  cwd?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Kill the command (the whole process group / the remote process) after this long. */
  timeoutMs?: number;
  /** Aborting kills the command the same way as a timeout. */
  signal?: AbortSignal;
  /** Streams output as it arrives (decoded UTF-8, not split on lines). */
  onOutput?: (stream: "stdout" | "stderr", chunk: string) => void;
  /** Keep at most this many bytes per stream (the last ones); `truncated` says so. */
  maxOutputBytes?: number;
  /** Data written to the command's stdin, then closed. */
  stdin?: string;
  /**
   * Defence in depth for the agent (DESIGN §9): run with the filesystem read-only except these
   * directories, when the machine can (local, with bubblewrap). Machines that cannot sandbox run
   * the command as usual; the command policy, which decides first, is then the only guard.
   */
  writableDirs?: string[];
}

export interface ExecResult {
  exitCode: number | null;
  /** The signal that ended the command, when one did. */
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Ended because `signal` was aborted. */
  aborted: boolean;
  truncated: boolean;
  durationMs: number;
  /** Set when the command ran inside a sandbox (`writableDirs` honoured). */
  sandboxed?: boolean;
}

export interface DirEntry {
  name: string;
  type: "file" | "dir" | "symlink" | "other";
  size: number;
}

export interface Machine {
  /** The registry name ("local" for this host). */
  readonly name: string;
  readonly kind: "local" | "ssh";
  readonly labels: Record<string, string>;
  /** Runs `command` with the target's shell (`sh -c`). Never throws for a non-zero exit. */
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>;
  readFile(path: string, opts?: { maxBytes?: number; signal?: AbortSignal }): Promise<string>;
  writeFile(path: string, content: string, opts?: { signal?: AbortSignal }): Promise<void>;
  listDir(path: string, opts?: { signal?: AbortSignal }): Promise<DirEntry[]>;
  /** Releases connections; the machine may be used again afterwards (it reconnects). */
  close(): Promise<void>;
}
