// Rule 1: every wrapper, with its options, hands the policy the command it carries — and only
// that (an option value is not mistaken for the command, and a wrapper that carries nothing
// carries nothing).
import { describe, expect, it } from "vitest";
import { decide, getPolicy, HOME } from "./helpers.js";

async function commandsOf(command: string) {
  return (await decide(command, {})).commands;
}

/** [command, the carried command as "name arg…" (null: carries none), its `via`]. */
const WRAPPED: [string, string | null, string[]?][] = [
  ["bash -c 'rm x'", "rm x", ["bash -c"]],
  ["sh -c 'rm x'", "rm x", ["sh -c"]],
  ["zsh -c 'rm x'", "rm x", ["zsh -c"]],
  ["dash -c 'rm x'", "rm x", ["dash -c"]],
  ["bash -lc 'rm x'", "rm x", ["bash -c"]],
  ["bash -o pipefail -c 'rm x'", "rm x", ["bash -c"]],
  ["bash +o errexit -c 'rm x'", "rm x", ["bash -c"]],
  ["bash --norc --noprofile -c 'rm x' arg0 arg1", "rm x", ["bash -c"]],
  ["/bin/sh -c -- 'rm x'", "rm x", ["sh -c"]],
  ["bash script.sh", null],
  ["bash --version", null],
  ["env rm x", "rm x", ["env"]],
  ["env FOO=1 BAR=2 rm x", "rm x", ["env"]],
  ["env -i A=1 rm x", "rm x", ["env"]],
  ["env -u HOME -u PATH rm x", "rm x", ["env"]],
  ["env --unset=HOME rm x", "rm x", ["env"]],
  ["env -C /tmp rm x", "rm x", ["env"]],
  ["env -- rm x", "rm x", ["env"]],
  ["env -S 'rm x'", "rm x", ["env"]],
  ["env", null],
  ["env A=1", null],
  ["sudo rm x", "rm x", ["sudo"]],
  ["sudo -u root rm x", "rm x", ["sudo"]],
  ["sudo -u root -g wheel -E -H rm x", "rm x", ["sudo"]],
  ["sudo --user=root rm x", "rm x", ["sudo"]],
  ["sudo -nu root rm x", "rm x", ["sudo"]],
  ["sudo VAR=1 rm x", "rm x", ["sudo"]],
  ["sudo -- rm x", "rm x", ["sudo"]],
  ["sudo -l", null],
  ["doas rm x", "rm x", ["doas"]],
  ["doas -u root rm x", "rm x", ["doas"]],
  ["pkexec --user root rm x", "rm x", ["pkexec"]],
  ["run0 -u root rm x", "rm x", ["run0"]],
  ["su -c 'rm x'", "rm x", ["su -c"]],
  ["su root -c 'rm x'", "rm x", ["su -c"]],
  ["su --command='rm x' root", "rm x", ["su -c"]],
  ["timeout 5 rm x", "rm x", ["timeout"]],
  ["timeout -s KILL 5 rm x", "rm x", ["timeout"]],
  ["timeout -sKILL -k 3 5s rm x", "rm x", ["timeout"]],
  ["timeout --signal=TERM --kill-after=3 5 rm x", "rm x", ["timeout"]],
  ["timeout --preserve-status --foreground 1m rm x", "rm x", ["timeout"]],
  ["nice rm x", "rm x", ["nice"]],
  ["nice -n 5 rm x", "rm x", ["nice"]],
  ["nice -n5 rm x", "rm x", ["nice"]],
  ["nice -5 rm x", "rm x", ["nice"]],
  ["nice --adjustment=5 rm x", "rm x", ["nice"]],
  ["nohup rm x", "rm x", ["nohup"]],
  ["time rm x", "rm x", ["time"]],
  ["time -p rm x", "rm x", ["time"]],
  ["/usr/bin/time -o t.txt -f %e rm x", "rm x", ["time"]],
  ["command rm x", "rm x", ["command"]],
  ["command -p rm x", "rm x", ["command"]],
  ["command -v rm", null],
  ["builtin cd /tmp", "cd /tmp", ["builtin"]],
  ["exec rm x", "rm x", ["exec"]],
  ["exec -a name rm x", "rm x", ["exec"]],
  ["exec 3>/dev/null", null],
  ["stdbuf -oL rm x", "rm x", ["stdbuf"]],
  ["stdbuf -o 0 -e L rm x", "rm x", ["stdbuf"]],
  ["stdbuf --output=L rm x", "rm x", ["stdbuf"]],
  ["xargs rm", "rm", ["xargs"]],
  ["xargs -0 -n1 rm", "rm", ["xargs"]],
  ["xargs -0 -n 1 -P 4 rm -f", "rm -f", ["xargs"]],
  ["xargs -I{} mv {} /tmp", "mv {} /tmp", ["xargs"]],
  ["xargs -I {} rm {}", "rm {}", ["xargs"]],
  ["xargs -d '\\n' rm", "rm", ["xargs"]],
  ["xargs --null --max-args=1 rm", "rm", ["xargs"]],
  ["xargs", "echo", ["xargs"]],
  ["find . -exec rm {} \\;", "rm {}", ["find -exec"]],
  ["find . -exec rm {} ';'", "rm {}", ["find -exec"]],
  ["find . -exec rm {} +", "rm {}", ["find -exec"]],
  ["find . -execdir rm {} +", "rm {}", ["find -execdir"]],
  ["find . -ok rm {} \\;", "rm {}", ["find -ok"]],
  ["find . -okdir rm {} \\;", "rm {}", ["find -okdir"]],
  ["find -L / -name x -type f -exec rm -f {} +", "rm -f {}", ["find -exec"]],
  ["find . -name x", null],
  ["find . -name '-exec'", null],
  ["ssh host rm x", "rm x", ["ssh"]],
  ["ssh -p 22 -i key user@host 'rm x'", "rm x", ["ssh"]],
  ["ssh host -l user rm x", "rm x", ["ssh"]],
  ["ssh -o StrictHostKeyChecking=no host rm x", "rm x", ["ssh"]],
  ["ssh -N -L 8080:localhost:80 host", null],
  ["watch rm x", "rm x", ["watch"]],
  ["watch -n 5 'rm x'", "rm x", ["watch"]],
  ["watch -x rm x", "rm x", ["watch"]],
  ["eval 'rm x'", "rm x", ["eval"]],
  ["eval rm x", "rm x", ["eval"]],
  ["trap 'rm x' EXIT", "rm x", ["trap"]],
  ["trap - INT", null],
  ["busybox rm x", "rm x", ["busybox"]],
  ["setsid -f rm x", "rm x", ["setsid"]],
  ["ionice -c 3 rm x", "rm x", ["ionice"]],
  ["taskset -c 0 rm x", "rm x", ["taskset"]],
  ["flock -w 5 /tmp/l rm x", "rm x", ["flock"]],
  ["flock /tmp/l -c 'rm x'", "rm x", ["flock"]],
  ["chroot /srv rm x", "rm x", ["chroot"]],
  ["script -qc 'rm x' /dev/null", "rm x", ["script -c"]],
  ["coproc rm x", "rm x", ["coproc"]],
];

describe("wrappers carry their command", () => {
  for (const [command, carried, via] of WRAPPED) {
    it(`${command} → ${carried ?? "nothing"}`, async () => {
      const commands = await commandsOf(command);
      const inner = commands.filter((c) => (c.via?.length ?? 0) > 0);
      if (carried === null) {
        expect(inner).toEqual([]);
        return;
      }
      expect(inner[0], JSON.stringify(commands)).toBeDefined();
      expect([inner[0]!.name, ...inner[0]!.args].join(" ")).toBe(carried);
      expect(inner[0]!.via).toEqual(via);
    });
  }

  it("names are compared by basename (/usr/bin/sudo is sudo)", async () => {
    const [sudo, rm] = await commandsOf("/usr/bin/sudo /bin/rm x");
    expect(sudo).toMatchObject({ name: "sudo", path: "/usr/bin/sudo" });
    expect(rm).toMatchObject({ name: "rm", path: "/bin/rm", via: ["sudo"] });
  });

  it("nests to any depth, each level naming its wrapper", async () => {
    const commands = await commandsOf("timeout 5 sudo -u root nice -n 1 env A=1 bash -c 'xargs rm'");
    const rm = commands.find((c) => c.name === "rm")!;
    expect(rm.via).toEqual(["timeout", "sudo", "nice", "env", "bash -c", "xargs"]);
  });

  it("an option value is not taken for the command", async () => {
    for (const [command, value] of [
      ["timeout -s KILL 5 ls", "KILL"],
      ["nice -n 5 ls", "5"],
      ["sudo -u root ls", "root"],
      ["env -u HOME ls", "HOME"],
      ["xargs -n 1 ls", "1"],
      ["ssh -p 22 host ls", "22"],
      ["stdbuf -o L ls", "L"],
    ] as const) {
      const names = (await commandsOf(command)).map((c) => c.name);
      expect(names, command).not.toContain(value);
      expect(names, command).toContain("ls");
    }
  });

  it("a position inside a -c string points into the original command", async () => {
    const commands = await commandsOf("sudo bash -c 'ls; rm x'");
    expect(commands.find((c) => c.name === "rm")!.at).toBe("1:19");
  });

  it("a script that is not a single plain word points at the word", async () => {
    const commands = await commandsOf("ssh host ls '&&' rm x");
    expect(commands.find((c) => c.name === "rm")!.at).toBe("1:10");
  });

  it("does not recurse forever", async () => {
    let command = "rm x";
    for (let i = 0; i < 20; i++) command = `bash -c ${JSON.stringify(command).replace(/\$/g, "\\$")}`;
    const d = await decide(command, { no_delete: true });
    expect(d.decision).toBe("deny");
    expect(d.reasons.join(" ")).toMatch(/nested more than/);
  });

  it("wrappers hand their cwd changes on: env -C and sudo -D move the carried command", async () => {
    const policy = await getPolicy();
    const ex = policy.extract("env -C /etc cat passwd; sudo -D /var ls log", { cwd: "/srv", home: HOME });
    expect(ex.commands.find((c) => c.name === "cat")!.cwds).toEqual(["/etc"]);
    expect(ex.commands.find((c) => c.name === "ls")!.cwds).toEqual(["/var"]);
  });
});
