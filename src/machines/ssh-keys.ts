// Private key files for ssh: refused when group or others may access them (as OpenSSH does), so
// a key copied with loose permissions is noticed instead of silently used.
import { promises as fsp } from "node:fs";
import { SshError } from "./ssh-error.js";

/** Reads a private key file after checking its permissions; errors never contain the key. */
export async function checkKeyFile(path: string): Promise<Buffer> {
  let mode: number;
  try {
    const st = await fsp.stat(path);
    if (!st.isFile()) throw new SshError("config", `key file ${path} is not a regular file`);
    mode = st.mode;
  } catch (err) {
    if (err instanceof SshError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new SshError("config", code === "ENOENT" ? `key file ${path} does not exist` : `cannot read key file ${path}: ${code ?? "error"}`);
  }
  if (process.platform !== "win32" && (mode & 0o077) !== 0) {
    const perms = (mode & 0o777).toString(8).padStart(4, "0");
    throw new SshError("config", `key file ${path} is accessible by group or others (permissions ${perms}): run chmod 600 ${path}`);
  }
  try {
    return await fsp.readFile(path);
  } catch (err) {
    throw new SshError("config", `cannot read key file ${path}: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
  }
}
