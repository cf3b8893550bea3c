import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { createServer, type Server } from "node:net";
import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkVolumes, docker, makeDockerExecutor, parseMemory, type DockerResult } from "../../src/executors/docker.js";
import { failureOf, makeCtx, runExecutor } from "./support/ctx.js";
import { tempDir } from "../helpers/cli.js";
import { startPodman, type Podman } from "../helpers/podman.js";

// A real Docker-API engine: podman's API service on a socket in a temp dir (test/helpers/podman.ts).
const engine = await startPodman();
const skip = "skip" in engine ? engine.skip : undefined;
const pod = engine as Podman;
if (skip) console.warn(`docker executor tests skipped: ${skip}`);

describe.skipIf(skip !== undefined)("docker executor against podman's Docker API", () => {
  let ex: ReturnType<typeof makeDockerExecutor>;
  beforeAll(() => {
    ex = makeDockerExecutor({ socketPath: pod.socketPath, env: {} });
  });
  afterAll(async () => {
    await pod.close();
  });

  const run = (inputs: Record<string, unknown>, ctx = makeCtx().ctx) => runExecutor<DockerResult>(ex, { image: pod.image, ...inputs }, ctx);

  async function containersOf(taskId: string): Promise<unknown[]> {
    const filters = encodeURIComponent(JSON.stringify({ label: [`grove.task=${taskId}`] }));
    const r = await pod.api("GET", `/containers/json?all=1&filters=${filters}`);
    expect(r.status).toBe(200);
    return r.body as unknown[];
  }

  it("runs a command, demuxes stdout and stderr, logs the lines, and removes the container", async () => {
    const { ctx, logs } = makeCtx();
    const r = await run({ command: "echo out-1; echo err-1 >&2; echo out-2" }, ctx);
    expect(r.exit_code).toBe(0);
    expect(r.stdout).toBe("out-1\nout-2\n");
    expect(r.stderr).toBe("err-1\n");
    expect(r.removed).toBe(true);
    expect(logs.filter((l) => l.data?.stream === "stdout").map((l) => l.message)).toEqual(["out-1", "out-2"]);
    expect(logs.filter((l) => l.data?.stream === "stderr").map((l) => l.message)).toEqual(["err-1"]);
    expect((await pod.api("GET", `/containers/${r.container_id}/json`)).status).toBe(404);
  });

  it("reports a non-zero exit as an exit_code failure with the stderr tail, or returns it with allow_failure", async () => {
    const f = await failureOf(run({ command: ["sh", "-c", "echo broken >&2; exit 3"] }));
    expect(f.type).toBe("exit_code");
    expect(f.message).toBe("container exited with code 3: broken");
    expect(f.details).toMatchObject({ exit_code: 3, stderr: "broken\n" });
    const r = await run({ command: ["sh", "-c", "exit 4"], allow_failure: true });
    expect(r.exit_code).toBe(4);
  });

  it("passes env, working_dir and user; keeps the container when remove is false", async () => {
    const ctx = makeCtx().ctx;
    ctx.task.id = `keep-${Date.now()}`;
    const r = await run({ command: 'echo "$GREETING from $(pwd) as $(id -u)"', env: { GREETING: "hello there" }, working_dir: "/work", user: "65534", remove: false }, ctx);
    expect(r.stdout).toBe("hello there from /work as 65534\n");
    expect(r.removed).toBe(false);
    const inspect = await pod.api("GET", `/containers/${r.container_id}/json`);
    expect(inspect.status).toBe(200);
    expect(inspect.body.Config.Labels).toMatchObject({ "grove.task": ctx.task.id });
    expect((await pod.api("DELETE", `/containers/${r.container_id}?force=1`)).status).toBeLessThan(300);
  });

  it("sets the cpu and memory limits on the container", async () => {
    const r = await run({ command: "true", resources: { cpu: "0.5", memory: "64m" }, remove: false });
    const inspect = await pod.api("GET", `/containers/${r.container_id}/json`);
    expect(inspect.body.HostConfig.Memory).toBe(64 * 1024 * 1024);
    expect(inspect.body.HostConfig.NanoCpus).toBe(500_000_000);
    await pod.api("DELETE", `/containers/${r.container_id}?force=1`);
  });

  it("mounts a volume read-only by default, read-write when asked", async () => {
    const host = tempDir("grove-docker-vol-");
    writeFileSync(join(host, "in.txt"), "from the host\n");
    const ro = await run({
      command: "cat /data/in.txt; touch /data/new 2>/dev/null && echo wrote || echo read-only",
      volumes: { [host]: "/data" },
    });
    expect(ro.stdout).toBe("from the host\nread-only\n");
    const rw = await run({ command: "echo made > /data/out.txt && echo wrote", volumes: { [host]: { path: "/data", read_only: false } } });
    expect(rw.stdout).toBe("wrote\n");
    const rw2 = await run({ command: "cat /data/out.txt", volumes: { [host]: "/data:rw" } });
    expect(rw2.stdout).toBe("made\n");
  });

  it("times out: the container is killed and removed, and the failure says so", async () => {
    const ctx = makeCtx().ctx;
    ctx.task.id = `timeout-${Date.now()}`;
    const f = await failureOf(run({ command: ["sleep", "600"], timeout_ms: 2000, remove: false }, ctx));
    expect(f.type).toBe("timeout");
    expect(f.message).toMatch(/^docker localhost\/grove-busybox:test timed out after 2000 ms \(container [0-9a-f]{12} killed and removed\)$/);
    expect(await containersOf(ctx.task.id)).toEqual([]);
  });

  it("cancellation (the engine's abort) kills and removes the container too", async () => {
    const { ctx, controller } = makeCtx();
    ctx.task.id = `cancel-${Date.now()}`;
    const p = run({ command: "echo started; sleep 600" }, ctx);
    // Abort once the container is running (its first line has been logged).
    for (let i = 0; i < 600 && (await containersOf(ctx.task.id)).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    controller.abort();
    const f = await failureOf(p);
    expect(f.type).toBe("cancelled");
    expect(await containersOf(ctx.task.id)).toEqual([]);
  });

  it("an image the engine does not have, with pull never, fails naming the image", async () => {
    const f = await failureOf(run({ image: "localhost/grove-missing:none", command: "true", pull: "never" }));
    expect(f.type).toBe("executor_error");
    expect(f.message).toMatch(/^docker localhost\/grove-missing:none: the engine answered 404: .*/);
  });
});

describe("docker executor: refusals before any API call", () => {
  // A socket that records every connection: a refused task must not open one.
  let server: Server;
  let connections = 0;
  let socketPath: string;
  beforeAll(async () => {
    socketPath = join(tempDir("grove-docker-sock-"), "engine.sock");
    server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(socketPath, () => r()));
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  it("refuses sensitive host paths, their parents and symlinks to them, naming the volume", async () => {
    const ex = makeDockerExecutor({ socketPath, env: {} });
    const link = join(tempDir("grove-docker-link-"), "innocent");
    symlinkSync("/etc", link);
    const cases: [string, RegExp][] = [
      ["/etc", /refusing to mount \/etc: it is inside the sensitive host path \/etc/],
      ["/etc/ssl", /refusing to mount \/etc\/ssl: it is inside the sensitive host path \/etc/],
      ["/", /refusing to mount \/: it contains the sensitive host path/],
      ["/var", /refusing to mount \/var: it contains the sensitive host path \/var\//],
      ["/proc/1", /inside the sensitive host path \/proc/],
      ["/root/.ssh", /inside the sensitive host path \/root/],
      [socketPath, /is inside the sensitive host path .*engine\.sock/],
      [link, /refusing to mount .*innocent \(it resolves to \/etc\): it is inside the sensitive host path \/etc/],
    ];
    for (const [host, re] of cases) {
      const f = await failureOf(runExecutor(ex, { image: "busybox", command: "true", volumes: { [host]: "/mnt" } }, makeCtx().ctx));
      expect(f.type).toBe("validation_error");
      expect(f.message).toMatch(/^inputs\.volumes: /);
      expect(f.message).toMatch(re);
    }
    expect(connections).toBe(0);
  });

  it("the worker's environment can allow all sensitive mounts, or a listed path", async () => {
    expect(await checkVolumes({ "/etc/ssl": "/ssl" }, socketPath, { GROVE_DOCKER_ALLOW_SENSITIVE_MOUNTS: "1" })).toEqual([
      { host: "/etc/ssl", container: "/ssl", readOnly: true },
    ]);
    expect(await checkVolumes({ "/etc/ssl": "/ssl:rw" }, socketPath, { GROVE_DOCKER_ALLOW_SENSITIVE_MOUNTS: "/etc/ssl:/srv" })).toEqual([
      { host: "/etc/ssl", container: "/ssl", readOnly: false },
    ]);
    await expect(checkVolumes({ "/etc": "/e" }, socketPath, { GROVE_DOCKER_ALLOW_SENSITIVE_MOUNTS: "/etc/ssl" })).rejects.toThrow(/refusing to mount \/etc/);
  });

  it("invalid inputs fail validation naming the field", async () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ command: "true" }, /image/],
      [{ image: "busybox", volumes: { "relative/path": "/mnt" } }, /volumes/],
      [{ image: "busybox", volumes: { "/tmp": "relative" } }, /volumes/],
      [{ image: "busybox", resources: { memory: "lots" } }, /resources\.memory/],
      [{ image: "busybox", working_dir: "work" }, /working_dir/],
    ];
    for (const [inputs, re] of bad) await expect(runExecutor(docker, inputs, makeCtx().ctx)).rejects.toThrow(re);
    expect(connections).toBe(0);
  });

  it("an engine that is not there fails with a clear error; DOCKER_HOST picks the socket", async () => {
    const missing = join(tempDir("grove-docker-none-"), "none.sock");
    const ex = makeDockerExecutor({ env: { DOCKER_HOST: `unix://${missing}` } });
    const f = await failureOf(runExecutor(ex, { image: "busybox", command: "true" }, makeCtx().ctx));
    expect(f.type).toBe("executor_error");
    expect(f.message).toContain(`cannot reach the Docker engine at ${missing}: connect ENOENT`);
    const tcp = makeDockerExecutor({ env: { DOCKER_HOST: "tcp://10.0.0.1:2375" } });
    expect((await failureOf(runExecutor(tcp, { image: "busybox" }, makeCtx().ctx))).message).toMatch(/unix:\/\/ socket only/);
  });

  it("parses memory sizes", () => {
    expect(parseMemory("512m")).toBe(512 * 1024 ** 2);
    expect(parseMemory("1g")).toBe(1024 ** 3);
    expect(parseMemory("1.5GiB")).toBe(1.5 * 1024 ** 3);
    expect(parseMemory(4096)).toBe(4096);
  });
});

