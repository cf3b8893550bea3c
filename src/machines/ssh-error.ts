// The errors of the ssh machine, typed so callers (the ssh executor, `machines test`) can tell
// a refused host key from a refused login or an unreachable host. Messages never hold secrets.

/** What went wrong, for callers that map errors (the ssh executor's error types). */
export type SshErrorCode = "config" | "host_key" | "auth" | "connect" | "timeout" | "aborted" | "channel" | "sftp";

export class SshError extends Error {
  constructor(
    readonly code: SshErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "SshError";
  }
}
