// Every example of seed 000, end to end: the real loop, the real policy, real commands on the
// local machine (stand-ins for services in temp directories), and a fake model server that reacts
// to the tool results it receives — so each expected output depends on what really ran. Every
// example runs twice: on the local machine and on a real OpenSSH sshd on loopback (same files:
// the ssh target is this host), through the ssh machine.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { runAgent, runAgentStream } from "../../src/agent/run.js";
import type { AgentEvent } from "../../src/agent/types.js";
import { groupAlive } from "../helpers/cli.js";
import { allResults, answer, fakeModel, lastResult, run, SERVICE, steps, workspace } from "./helpers.js";
import { localMachine } from "../../src/machines/local.js";
import { SshMachine } from "../../src/machines/ssh.js";
import type { Machine } from "../../src/machines/types.js";
import { sshdMissing, startSshd, type Sshd } from "../helpers/sshd.js";

/** The machine the examples run on (set by the enclosing describe). */
let current: Machine = localMachine;
const missing = sshdMissing();
// CI installs openssh-server, so both targets always run there.
const TARGETS = missing ? ["local"] : ["local", "ssh"];

describe.each(TARGETS)("on the %s machine", (kind) => {
  let sshd: Sshd | undefined;
  let ssh: SshMachine | undefined;
  beforeAll(async () => {
    if (kind === "ssh") {
      sshd = await startSshd();
      ssh = new SshMachine({ name: "loopback", host: sshd.host, port: sshd.port, username: sshd.user, auth: { type: "key", keyPath: sshd.keyPath }, knownHostsPath: sshd.knownHostsPath });
      current = ssh;
    } else current = localMachine;
  }, 30_000);
  afterAll(async () => {
    await ssh?.close();
    await sshd?.stop();
  });

  const TaskResult = z.object({ success: z.boolean(), actions_taken: z.array(z.string()), output: z.string(), error: z.string().nullable() });

  describe("seed 000: basic task", () => {
    it("restarts a service and verifies it is running (typed output)", async () => {
      const dir = workspace({ "svc.sh": SERVICE, state: "running\n" });
      const { model, env, fake } = await fakeModel(
        steps(run("sh svc.sh restart"), run("sh svc.sh status"), (req) => {
          const status = lastResult(req);
          return answer({ success: status.exit_code === 0, actions_taken: ["sh svc.sh restart", "sh svc.sh status"], output: status.stdout.trim(), error: status.exit_code === 0 ? null : status.stdout });
        }),
      );
      const result = await runAgent({ machine: current, prompt: "Restart the nginx service and verify it's running", outputSchema: TaskResult, model, env, cwd: dir });
      expect(result.status).toBe("completed");
      const out = result.output!;
      expect(out.success).toBe(true);
      expect(out.output).toBe("nginx is running");
      expect(out.actions_taken).toEqual(["sh svc.sh restart", "sh svc.sh status"]);
      expect(readFileSync(join(dir, "restarts"), "utf8").trim()).toBe("1");
      expect(result.commands.map((c) => [c.command, c.exit_code])).toEqual([["sh svc.sh restart", 0], ["sh svc.sh status", 0]]);
      expect(result.steps).toBe(3);
      expect(result.usage.total_tokens).toBe(45);
      // The model was offered the tools, with final_answer taking the output schema.
      const tools = fake.requests[0]!.body.tools.map((t: any) => t.function.name);
      expect(tools).toEqual(["run_command", "read_file", "write_file", "list_dir", "final_answer"]);
      expect(fake.requests[0]!.body.tools[4].function.parameters.required).toEqual(["success", "actions_taken", "output", "error"]);
    });
  });

  const DeployResult = z.object({
    success: z.boolean(),
    version: z.string(),
    steps_completed: z.array(z.string()),
    duration_seconds: z.number(),
    tests_passed: z.number().int(),
    tests_failed: z.number().int(),
    rollback_performed: z.boolean(),
    error: z.string().nullable(),
  });

  describe("seed 000: deployment with rollback", () => {
    it.each([
      { failing: 0, rollback: false },
      { failing: 2, rollback: true },
    ])("deploys 2.1.0 and rolls back only when tests fail (failing tests: $failing)", async ({ failing, rollback }) => {
      const dir = workspace({
        VERSION: "2.0.0\n",
        "fetch.sh": "mkdir -p backup && cp VERSION backup/VERSION && echo 2.1.0 > VERSION && echo 'Updating 2.0.0..2.1.0'\n",
        "install.sh": "echo 'added 12 packages' > deps.log && cat deps.log\n",
        "migrate.sh": "echo 'migrated: 003_add_index' && touch migrated\n",
        "test.sh": `echo "8 passed, ${failing} failed"; [ ${failing} -eq 0 ]\n`,
        "restart.sh": "echo restarted > app.state && echo 'app restarted'\n",
        "rollback.sh": "cp backup/VERSION VERSION && echo 'rolled back to' $(cat VERSION)\n",
      });
      const { model, env } = await fakeModel(
        steps(run("sh fetch.sh"), run("sh install.sh"), run("sh migrate.sh"), run("sh test.sh"), (req) => {
          const t = lastResult(req);
          return t.exit_code === 0 ? run("sh restart.sh") : run("sh rollback.sh");
        }, (req) => {
          const results = allResults(req);
          const tests = results[3];
          const [, passed, failed] = /(\d+) passed, (\d+) failed/.exec(tests.stdout)!;
          const rolled = /rolled back/.test(lastResult(req).stdout);
          return answer({
            success: !rolled,
            version: rolled ? "2.0.0" : "2.1.0",
            steps_completed: ["pull", "install", "migrate", "test", rolled ? "rollback" : "restart"],
            duration_seconds: 1.5,
            tests_passed: Number(passed),
            tests_failed: Number(failed),
            rollback_performed: rolled,
            error: rolled ? `${failed} tests failed` : null,
          });
        }),
      );
      const result = await runAgent({ machine: current,
        prompt: "Deploy version 2.1.0:\n1. Pull latest code\n2. Install dependencies\n3. Run database migrations\n4. Run tests\n5. If tests pass, restart application\n6. If tests fail, rollback and notify",
        outputSchema: DeployResult,
        model,
        env,
        cwd: dir,
      });
      expect(result.status).toBe("completed");
      expect(result.output!.rollback_performed).toBe(rollback);
      expect(result.output!.tests_failed).toBe(failing);
      expect(result.output!.tests_passed).toBe(8);
      expect(readFileSync(join(dir, "VERSION"), "utf8").trim()).toBe(rollback ? "2.0.0" : "2.1.0");
      expect(existsSync(join(dir, "app.state"))).toBe(!rollback);
      expect(existsSync(join(dir, "migrated"))).toBe(true);
    });
  });

  const IncidentAnalysis = z.object({
    root_cause: z.string(),
    affected_services: z.array(z.string()),
    impact: z.string(),
    mitigation_steps: z.array(z.string()),
    steps_taken: z.array(z.string()),
    resolved: z.boolean(),
    requires_human: z.boolean(),
    escalation_reason: z.string().nullable(),
  });

  describe("seed 000: incident response", () => {
    it("finds the runaway process, terminates it, reads the logs and escalates", async () => {
      // The "runaway" process: a real process the agent must find (by its pid in the report) and kill.
      const hog = spawn("sleep", ["300"], { detached: true, stdio: "ignore" });
      const pid = hog.pid!;
      hog.unref();
      const dir = workspace({
        "top.txt": `PID %CPU COMMAND\n${pid} 99.7 report-builder\n1 0.1 init\n`,
        "app.log": "INFO start\nERROR report-builder: infinite loop in render()\nERROR payments: OutOfMemoryError\nINFO ok\n",
      });
      try {
        const { model, env } = await fakeModel(
          steps(run("sort -k2 -nr top.txt | head -1"), (req) => {
            const top = lastResult(req).stdout.trim().split(/\s+/);
            return run(`kill ${top[0]}`);
          }, run("grep ERROR app.log"), (req) => {
            const errors: string[] = lastResult(req).stdout.trim().split("\n");
            const services = errors.map((l) => /ERROR ([\w-]+):/.exec(l)![1]!);
            const oom = errors.some((l) => l.includes("OutOfMemory"));
            return answer({
              root_cause: errors[0]!.replace(/^ERROR /, ""),
              affected_services: services,
              impact: "high CPU on the host",
              mitigation_steps: ["terminated the runaway process"],
              steps_taken: ["identified the top CPU process", "killed it", "read the error log"],
              resolved: !oom,
              requires_human: oom,
              escalation_reason: oom ? "payments has OutOfMemoryError, which needs a human" : null,
            });
          }),
        );
        const result = await runAgent({ machine: current, prompt: "Investigate high CPU alert", outputSchema: IncidentAnalysis, model, env, cwd: dir });
        expect(result.status).toBe("completed");
        expect(result.output!.affected_services).toEqual(["report-builder", "payments"]);
        expect(result.output!.requires_human).toBe(true);
        expect(result.output!.escalation_reason).toMatch(/OutOfMemory/);
        expect(result.commands[1]!.command).toBe(`kill ${pid}`);
        expect(groupAlive(pid)).toBe(false);
      } finally {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone already: the agent killed it
        }
      }
    });
  });

  const ErrorPattern = z.object({ pattern: z.string(), count: z.number().int(), first_occurrence: z.string(), last_occurrence: z.string(), example: z.string() });
  const LogAnalysis = z.object({ total_errors: z.number().int(), error_patterns: z.array(ErrorPattern), potential_causes: z.array(z.string()), recommended_fixes: z.array(z.string()) });

  describe("seed 000: log analysis", () => {
    it("groups the errors of a log into patterns with real counts", async () => {
      const lines = [
        "2026-01-01T10:00:00 ERROR db timeout after 30s",
        "2026-01-01T10:05:00 INFO ok",
        "2026-01-01T10:10:00 ERROR db timeout after 31s",
        "2026-01-01T10:20:00 ERROR disk full on /var",
        "2026-01-01T10:30:00 ERROR db timeout after 29s",
      ];
      const dir = workspace({ "app.log": lines.join("\n") + "\n" });
      const { model, env } = await fakeModel(
        steps(run("grep ERROR app.log"), (req) => {
          const errors: string[] = lastResult(req).stdout.trim().split("\n");
          const groups = new Map<string, string[]>();
          for (const l of errors) {
            const key = l.includes("db timeout") ? "db timeout" : l.includes("disk full") ? "disk full" : "other";
            groups.set(key, [...(groups.get(key) ?? []), l]);
          }
          return answer({
            total_errors: errors.length,
            error_patterns: [...groups].map(([pattern, ls]) => ({ pattern, count: ls.length, first_occurrence: ls[0]!.split(" ")[0], last_occurrence: ls[ls.length - 1]!.split(" ")[0], example: ls[0] })),
            potential_causes: ["slow database"],
            recommended_fixes: ["add an index"],
          });
        }),
      );
      const result = await runAgent({ machine: current, prompt: "Analyze app.log for the last hour, identify error patterns and suggest fixes", outputSchema: LogAnalysis, model, env, cwd: dir });
      expect(result.status).toBe("completed");
      expect(result.output!.total_errors).toBe(4);
      expect(result.output!.error_patterns.map((p) => [p.pattern, p.count, p.first_occurrence, p.last_occurrence])).toEqual([
        ["db timeout", 3, "2026-01-01T10:00:00", "2026-01-01T10:30:00"],
        ["disk full", 1, "2026-01-01T10:20:00", "2026-01-01T10:20:00"],
      ]);
    });
  });

  const StepResult = z.object({ step_name: z.string(), success: z.boolean(), output: z.string(), continue_to_next: z.boolean() });
  const MigrationResult = z.object({ steps: z.array(StepResult), overall_success: z.boolean(), database_records_migrated: z.number().int(), rollback_needed: z.boolean() });

  describe("seed 000: sequential steps", () => {
    it("runs the migration steps in order and stops at the failing one", async () => {
      const dir = workspace({
        "db.json": '{"records": 3}\n',
        "schema.sh": "echo 'schema v2 applied' && touch schema.done\n",
        "data.sh": "echo 'migrated 2 of 3 records' && echo 'record 3: bad encoding' >&2 && exit 1\n",
        "verify.sh": "touch verify.done\n",
      });
      const plan = [
        ["backup", "cp db.json db.json.bak && echo backup done"],
        ["schema", "sh schema.sh"],
        ["data", "sh data.sh"],
        ["verify", "sh verify.sh"],
        ["config", "echo config > app.conf"],
      ];
      const { model, env } = await fakeModel((req) => {
        const results = allResults(req);
        const done = results.length;
        const last = results[done - 1];
        if (done < plan.length && (done === 0 || last.exit_code === 0)) return run(plan[done]![1]!);
        return answer({
          steps: results.map((r, i) => ({ step_name: plan[i]![0]!, success: r.exit_code === 0, output: (r.stdout + r.stderr).trim(), continue_to_next: r.exit_code === 0 })),
          overall_success: results.every((r) => r.exit_code === 0),
          database_records_migrated: Number(/migrated (\d+)/.exec(results.map((r) => r.stdout).join(""))?.[1] ?? 0),
          rollback_needed: results.some((r) => r.exit_code !== 0),
        });
      });
      const result = await runAgent({ machine: current,
        prompt: "Migrate database:\nStep 1: Backup\nStep 2: Schema migrations\nStep 3: Data migrations\nStep 4: Verify\nStep 5: Update config\nStop and report if any step fails.",
        outputSchema: MigrationResult,
        model,
        env,
        cwd: dir,
      });
      expect(result.status).toBe("completed");
      const out = result.output!;
      expect(out.steps.map((s) => [s.step_name, s.success])).toEqual([["backup", true], ["schema", true], ["data", false]]);
      expect(out.steps[2]!.output).toMatch(/bad encoding/);
      expect(out.overall_success).toBe(false);
      expect(out.rollback_needed).toBe(true);
      expect(out.database_records_migrated).toBe(2);
      expect(existsSync(join(dir, "db.json.bak"))).toBe(true);
      expect(existsSync(join(dir, "verify.done"))).toBe(false);
      expect(existsSync(join(dir, "app.conf"))).toBe(false);
    });
  });

  const HealthCheck = z.object({ service: z.string(), status: z.string(), action_taken: z.string().nullable(), restarted: z.boolean() });

  describe("seed 000: conditional logic", () => {
    const healthModel = () =>
      steps(run("sh svc.sh health"), (req) => {
        const h = lastResult(req);
        if (h.exit_code === 0) return answer({ service: "nginx", status: "healthy", action_taken: null, restarted: false });
        const secs = Number(/(\d+)s/.exec(h.stdout)![1]);
        return secs > 300 ? run("sh svc.sh restart") : run("sleep 0.1 && sh svc.sh health");
      }, (req) => {
        const r = lastResult(req);
        if (/restarted/.test(r.stdout)) return run("sh svc.sh health");
        return answer({ service: "nginx", status: r.exit_code === 0 ? "healthy" : "unhealthy", action_taken: "waited and retried", restarted: false });
      }, (req) => answer({ service: "nginx", status: lastResult(req).exit_code === 0 ? "healthy" : "unhealthy", action_taken: "restarted after 5 minutes down", restarted: true }));

    it("reports a healthy service without acting", async () => {
      const dir = workspace({ "svc.sh": SERVICE, state: "running\n" });
      const { model, env } = await fakeModel(healthModel());
      const result = await runAgent({ machine: current, prompt: "Check if the service is responding…", outputSchema: HealthCheck, model, env, cwd: dir });
      expect(result.output).toEqual({ service: "nginx", status: "healthy", action_taken: null, restarted: false });
      expect(existsSync(join(dir, "restarts"))).toBe(false);
    });

    it("restarts a service down for more than 5 minutes, then verifies it", async () => {
      const dir = workspace({ "svc.sh": SERVICE, state: "stopped\n", down_since: `${Math.floor(Date.now() / 1000) - 600}\n` });
      const { model, env } = await fakeModel(healthModel());
      const result = await runAgent({ machine: current, prompt: "Check if the service is responding…", outputSchema: HealthCheck, model, env, cwd: dir });
      expect(result.output).toEqual({ service: "nginx", status: "healthy", action_taken: "restarted after 5 minutes down", restarted: true });
      expect(readFileSync(join(dir, "restarts"), "utf8").trim()).toBe("1");
    });

    it("waits and retries (no restart) when down for less than 5 minutes", async () => {
      const dir = workspace({ "svc.sh": SERVICE, state: "stopped\n", down_since: `${Math.floor(Date.now() / 1000) - 10}\n` });
      const { model, env } = await fakeModel(healthModel());
      const result = await runAgent({ machine: current, prompt: "Check if the service is responding…", outputSchema: HealthCheck, model, env, cwd: dir });
      expect(result.output).toEqual({ service: "nginx", status: "unhealthy", action_taken: "waited and retried", restarted: false });
      expect(existsSync(join(dir, "restarts"))).toBe(false);
    });
  });

  const TaskWithRetry = z.object({ success: z.boolean(), attempts: z.number().int(), final_error: z.string().nullable(), result: z.string().nullable() });

  describe("seed 000: error handling with retries", () => {
    it("retries a failing deploy until it succeeds and reports the attempts", async () => {
      // Fails twice, then succeeds: the attempt counter lives in a file.
      const dir = workspace({ "deploy.sh": 'n=$(cat attempts 2>/dev/null || echo 0); n=$((n+1)); echo $n > attempts; if [ $n -lt 3 ]; then echo "deploy failed: connection reset" >&2; exit 1; fi; echo deployed\n' });
      const { model, env } = await fakeModel((req) => {
        const results = allResults(req);
        const last = results[results.length - 1];
        if (results.length === 0 || (last.exit_code !== 0 && results.length < 4)) return run("sh deploy.sh");
        return answer({ success: last.exit_code === 0, attempts: results.length, final_error: last.exit_code === 0 ? null : last.stderr.trim(), result: last.stdout.trim() || null });
      });
      const result = await runAgent({ machine: current, prompt: "Deploy the application:\n- If deployment fails, retry up to 3 times", outputSchema: TaskWithRetry, maxRetries: 3, model, env, cwd: dir });
      expect(result.output).toEqual({ success: true, attempts: 3, final_error: null, result: "deployed" });
      expect(readFileSync(join(dir, "attempts"), "utf8").trim()).toBe("3");
    });
  });

  const ActionPlan = z.object({ planned_commands: z.array(z.string()), affected_services: z.array(z.string()), estimated_downtime: z.string(), risk_level: z.string() });

  describe("seed 000: dry run, then approved execution", () => {
    it("plans without changing anything, then executes the approved plan", async () => {
      const dir = workspace({ "svc.sh": SERVICE, state: "running\n", VERSION: "2.9.0\n" });
      const planModel = await fakeModel(
        steps(run("cat VERSION"), run("echo 3.0.0 > VERSION"), run("touch deployed.flag"), (req) => {
          const planned = allResults(req).filter((r) => r.dry_run === true);
          return answer({ planned_commands: ["echo 3.0.0 > VERSION", "touch deployed.flag"].slice(0, planned.length), affected_services: ["nginx"], estimated_downtime: "0s", risk_level: "medium" });
        }),
      );
      const plan = await runAgent({ machine: current, prompt: "Plan a zero-downtime deployment of v3.0", outputSchema: ActionPlan, restrictions: { dry_run: true }, model: planModel.model, env: planModel.env, cwd: dir });
      expect(plan.status).toBe("completed");
      expect(plan.output!.planned_commands).toEqual(["echo 3.0.0 > VERSION", "touch deployed.flag"]);
      expect(plan.planned_actions.map((a) => a.command)).toEqual(["echo 3.0.0 > VERSION", "touch deployed.flag"]);
      expect(plan.commands.map((c) => c.command)).toEqual(["cat VERSION"]); // the read-only one really ran
      expect(readFileSync(join(dir, "VERSION"), "utf8")).toBe("2.9.0\n");
      expect(existsSync(join(dir, "deployed.flag"))).toBe(false);

      // The operator approves: the plan is executed, without dry_run.
      const execModel = await fakeModel((req) => {
        const todo = JSON.parse(/PLAN: (.*)/.exec(req.messages[1].content)![1]!) as string[];
        const done = req.toolResults.length;
        return done < todo.length ? run(todo[done]!) : answer({ success: true, summary: `ran ${done} commands` });
      });
      const executed = await runAgent({ machine: current, prompt: `Execute the deployment plan.\nPLAN: ${JSON.stringify(plan.output!.planned_commands)}`, model: execModel.model, env: execModel.env, cwd: dir });
      expect(executed.output).toEqual({ success: true, summary: "ran 2 commands" });
      expect(readFileSync(join(dir, "VERSION"), "utf8")).toBe("3.0.0\n");
      expect(existsSync(join(dir, "deployed.flag"))).toBe(true);
    });
  });

  const FixResult = z.object({ service: z.string(), new_memory_limit: z.string(), reasoning: z.string() });

  describe("seed 000: context", () => {
    it("gives the context to the model, which acts on it", async () => {
      const dir = workspace({});
      const { model, env, fake } = await fakeModel(
        steps((req) => {
          const ctx = JSON.parse(/Context:\n([\s\S]*)$/.exec(req.messages[1].content)![1]!);
          return run(`echo "memory_limit=8GB" > ${ctx.service}.conf`);
        }, (req) => {
          const ctx = JSON.parse(/Context:\n([\s\S]*)$/.exec(req.messages[1].content)![1]!);
          return answer({ service: ctx.service, new_memory_limit: "8GB", reasoning: `usage ${ctx.current_usage} of ${ctx.memory_limit} after ${ctx.recent_deployments[0]}` });
        }),
      );
      const context = { service: "api-server", memory_limit: "4GB", current_usage: "3.8GB", recent_deployments: ["v2.0.5 (2 hours ago)"], environment: "production" };
      const result = await runAgent({ machine: current, prompt: "Fix the out of memory issue", outputSchema: FixResult, context, model, env, cwd: dir });
      expect(result.output).toEqual({ service: "api-server", new_memory_limit: "8GB", reasoning: "usage 3.8GB of 4GB after v2.0.5 (2 hours ago)" });
      expect(readFileSync(join(dir, "api-server.conf"), "utf8")).toBe("memory_limit=8GB\n");
      expect(fake.requests[0]!.messages[1].content).toContain('"environment": "production"');
    });
  });

  const CleanupResult = z.object({ removed: z.array(z.string()), refused: z.array(z.string()) });

  describe("seed 000: restrictions", () => {
    it("runs what the restrictions allow and never executes what they deny", async () => {
      const dir = workspace({ "old.log": "x\n", "keep.txt": "y\n" });
      const outside = workspace({ "precious.txt": "z\n" });
      const attempts = [
        "rm old.log", // allowed: no_delete is false, inside allowed_dirs
        `rm ${join(outside, "precious.txt")}`, // outside allowed_dirs
        `sudo touch ${join(dir, "root-was-here")}`, // no_sudo
        "rm -rf /", // forbidden
        `shutdown -h now`, // forbidden
        `touch ${join(outside, "side-effect")}`, // outside allowed_dirs
      ];
      const { model, env } = await fakeModel((req) => {
        const i = req.toolResults.length;
        if (i < attempts.length) return run(attempts[i]!);
        const results = allResults(req);
        return answer({ removed: attempts.filter((_, k) => results[k].exit_code === 0), refused: attempts.filter((_, k) => results[k].denied === true) });
      });
      const events: AgentEvent[] = [];
      for await (const e of runAgentStream({ machine: current,
        prompt: "Clean up old files",
        outputSchema: CleanupResult,
        restrictions: { no_delete: false, no_sudo: true, dry_run: false, allowed_dirs: [dir], forbidden_commands: ["rm -rf /", "shutdown"] },
        model,
        env,
        cwd: dir,
      }))
        events.push(e);
      const last = events[events.length - 1]!;
      expect(last.type).toBe("result");
      const out = (last as Extract<AgentEvent, { type: "result" }>).output as z.infer<typeof CleanupResult>;
      expect(out.removed).toEqual(["rm old.log"]);
      // With allowed_dirs, what runs locally also runs in the bwrap sandbox (defence in depth); over
      // SSH the policy is the only guard (DESIGN §9).
      expect((last as Extract<AgentEvent, { type: "result" }>).result.commands.map((c) => c.sandboxed)).toEqual([current.kind === "local"]);
      expect(out.refused).toEqual(attempts.slice(1));
      expect(existsSync(join(dir, "old.log"))).toBe(false);
      expect(existsSync(join(outside, "precious.txt"))).toBe(true);
      expect(existsSync(join(dir, "root-was-here"))).toBe(false);
      expect(existsSync(join(outside, "side-effect"))).toBe(false);
      const denied = events.filter((e): e is Extract<AgentEvent, { type: "tool_result" }> => e.type === "tool_result" && e.status === "denied");
      expect(denied.map((d) => d.result.split(":")[1]!.trim())).toEqual(["allowed_dirs", "no_sudo", "forbidden_commands", "forbidden_commands", "allowed_dirs"]);
      writeFileSync(join(outside, "done"), "");
    });
  });

  describe("seed 000: timeout", () => {
    it("a run timeout kills the running command's whole process group", async () => {
      const dir = workspace({});
      const { model, env } = await fakeModel(steps(run("echo $$ > pgid; sleep 60 & sleep 60; echo never")));
      const result = await runAgent({ machine: current, prompt: "Run performance tests", model, env, cwd: dir, timeout: 1500 });
      expect(result.status).toBe("failed");
      expect(result.error!.type).toBe("timeout");
      const pgid = Number(readFileSync(join(dir, "pgid"), "utf8"));
      expect(pgid).toBeGreaterThan(1);
      expect(groupAlive(pgid)).toBe(false);
    });
  });

});
