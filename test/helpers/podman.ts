// A real Docker-API engine for the docker executor's tests: Debian's podman serving the Docker
// Engine API with `podman system service` on a Unix socket in a temp dir, with its own storage
// (vfs), state and config, and one image imported from a rootfs tarball holding a static busybox
// (no registry is reachable from CI). Everything lives in the temp dir and goes with close().
//
//   const engine = await startPodman();           // { skip: reason } only when podman is missing
//   if ("skip" in engine) …
//   engine.socketPath, engine.image ("localhost/grove-busybox:test")
//   await engine.close();
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, promises as fsp } from "node:fs";
import { request } from "node:http";
import { delimiter, join } from "node:path";
import { runProcess, tempDir } from "./cli.js";

export interface Podman {
  dir: string;
  socketPath: string;
  /** An image with a static busybox as /bin/busybox and its applets (sh, echo, cat, sleep, …) in /bin. */
  image: string;
  /** Environment for running `podman` against the same storage (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF). */
  env: NodeJS.ProcessEnv;
  /** GET/POST/DELETE on the engine API (path without the version prefix); resolves {status, body}. */
  api(method: string, path: string): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

const IMAGE = "localhost/grove-busybox:test";
const APPLETS = ["sh", "echo", "cat", "ls", "sleep", "env", "pwd", "true", "false", "touch", "id", "printf"];

function onPath(program: string): string | null {
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(delimiter)) {
    const p = join(dir, program);
    if (existsSync(p)) return p;
  }
  return null;
}

/** True when the ELF file has no PT_INTERP program header (it needs no dynamic loader). */
async function isStaticElf(path: string): Promise<boolean> {
  const buf = await fsp.readFile(path);
  if (buf.readUInt32BE(0) !== 0x7f454c46 || buf[4] !== 2) return false; // ELF, 64-bit
  const phoff = Number(buf.readBigUInt64LE(0x20));
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) if (buf.readUInt32LE(phoff + i * phentsize) === 3) return false;
  return true;
}

export async function startPodman(): Promise<Podman | { skip: string }> {
  const podman = onPath("podman");
  if (!podman) return { skip: "podman is not installed (apt-get install podman runc busybox-static)" };
  const busybox = ["/bin/busybox", "/usr/bin/busybox"].find((p) => existsSync(p));
  if (!busybox || !(await isStaticElf(busybox))) {
    throw new Error("podman is installed but no static busybox was found: apt-get install busybox-static");
  }

  const dir = tempDir("grove-podman-");
  const rootfs = join(dir, "rootfs");
  await fsp.mkdir(join(rootfs, "bin"), { recursive: true });
  for (const d of ["tmp", "etc", "data", "work"]) await fsp.mkdir(join(rootfs, d), { recursive: true });
  await fsp.copyFile(busybox, join(rootfs, "bin/busybox"));
  await fsp.chmod(join(rootfs, "bin/busybox"), 0o755);
  for (const a of APPLETS) await fsp.symlink("busybox", join(rootfs, "bin", a));
  await fsp.writeFile(join(rootfs, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n");
  await fsp.writeFile(join(rootfs, "etc/group"), "root:x:0:\nnogroup:x:65534:\n");

  const runroot = join(dir, "runroot");
  await fsp.writeFile(
    join(dir, "containers.conf"),
    [
      "[containers]",
      "default_ulimits = []",
      'netns = "none"',
      "[engine]",
      'runtime = "runc"',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `events_logfile_path = "${join(dir, "events.log")}"`,
      `tmp_dir = "${join(dir, "tmp")}"`,
      `static_dir = "${join(dir, "static")}"`,
      `volume_path = "${join(dir, "volumes")}"`,
      "[network]",
      `network_config_dir = "${join(dir, "networks")}"`,
      "",
    ].join("\n"),
  );
  await fsp.writeFile(
    join(dir, "storage.conf"),
    ["[storage]", 'driver = "vfs"', `runroot = "${runroot}"`, `graphroot = "${join(dir, "graph")}"`, ""].join("\n"),
  );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CONTAINERS_CONF: join(dir, "containers.conf"),
    CONTAINERS_STORAGE_CONF: join(dir, "storage.conf"),
    XDG_RUNTIME_DIR: join(dir, "xdg"),
  };
  await fsp.mkdir(join(dir, "xdg"), { recursive: true, mode: 0o700 });

  const tarball = join(dir, "rootfs.tar");
  const tar = await runProcess("tar", ["-C", rootfs, "-cf", tarball, "."]);
  if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr}`);
  const imported = await runProcess(podman, ["import", tarball, IMAGE], { env });
  if (imported.status !== 0) throw new Error(`podman import failed: ${imported.stderr}`);

  const socketPath = join(dir, "podman.sock");
  // An idle limit instead of --time=0: if the test process dies without close(), the service
  // exits by itself once nothing has called it for 10 minutes, rather than living on.
  const service: ChildProcess = spawn(podman, ["system", "service", "--time=600", `unix://${socketPath}`], {
    env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let serviceErr = "";
  service.stderr!.on("data", (d) => (serviceErr += d));
  const exited = new Promise<void>((r) => service.once("exit", () => r()));

  const api = (method: string, path: string) =>
    new Promise<{ status: number; body: any }>((resolve, reject) => {
      const req = request({ socketPath, method, path: `/v1.41${path}`, headers: { host: "podman" } }, (res) => {
        let data = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (data += d));
        res.on("end", () => {
          let body: unknown = data;
          try {
            body = JSON.parse(data);
          } catch {
            // keep the text
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      });
      req.on("error", reject);
      req.end();
    });

  // Ready when the API answers /_ping (the socket file appears a moment before it listens).
  for (let i = 0; ; i++) {
    if (service.exitCode !== null) throw new Error(`podman system service exited: ${serviceErr}`);
    try {
      if ((await api("GET", "/_ping")).status === 200) break;
    } catch {
      // not listening yet
    }
    if (i > 300) {
      service.kill("SIGKILL");
      throw new Error(`podman system service did not answer on ${socketPath}: ${serviceErr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    dir,
    socketPath,
    image: IMAGE,
    env,
    api,
    async close() {
      await runProcess(podman, ["rm", "--all", "--force"], { env }).catch(() => undefined);
      if (service.exitCode === null) {
        service.kill("SIGTERM");
        const t = setTimeout(() => service.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(t);
      }
      await fsp.rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}
