// Rule 1: the simple commands the policy finds, as returned in `commands`.
import { describe, expect, it } from "vitest";
import { decide } from "./helpers.js";

const commandsOf = async (command: string) => (await decide(command, {})).commands;

describe("commands found", () => {
  it("every simple command, in the order they run, with its unquoted arguments and position", async () => {
    expect(await commandsOf("cd /tmp && ls -la | grep 'a b'; echo $(rm -rf ~) > out.txt")).toEqual([
      { name: "cd", args: ["/tmp"], at: "1:1", text: "cd /tmp" },
      { name: "ls", args: ["-la"], at: "1:12", text: "ls -la" },
      { name: "grep", args: ["a b"], at: "1:21", text: "grep 'a b'" },
      { name: "rm", args: ["-rf", "~"], at: "1:40", text: "rm -rf ~" },
      { name: "echo", args: ["$(rm -rf ~)"], at: "1:33", text: "echo $(rm -rf ~)", redirects: [{ op: ">", target: "out.txt" }] },
    ]);
  });

  it("quoted and escaped words are literals: their value is compared", async () => {
    const names = (await commandsOf(`'r'm a; "rm" b; \\rm c; r\\m d; $'\\x72\\x6d' e; $'\\162m' f; "r"'m' g; $"rm" h`)).map((c) => c.name);
    expect(names).toEqual(["rm", "rm", "rm", "rm", "rm", "rm", "rm", "rm"]);
  });

  it("argument values are decoded the way bash does", async () => {
    const [echo] = await commandsOf(`echo "a\\"b" 'c\\d' $'e\\tf' g\\ h "\\$i" 'j'"k"`);
    expect(echo!.args).toEqual(['a"b', "c\\d", "e\tf", "g h", "$i", "jk"]);
  });

  it("a non-literal command name is reported as written, with literal: false", async () => {
    expect(await commandsOf("$CMD x")).toEqual([{ name: "$CMD", args: ["x"], at: "1:1", text: "$CMD x", literal: false }]);
  });

  it("a path as command name keeps its basename as name", async () => {
    expect((await commandsOf("./scripts/deploy.sh --now"))[0]).toMatchObject({ name: "deploy.sh", path: "./scripts/deploy.sh" });
  });

  it("lines and columns count from 1, in UTF-16 units like JavaScript strings", async () => {
    const cmds = await commandsOf('echo "é"\n  rm x');
    expect(cmds.map((c) => c.at)).toEqual(["1:1", "2:3"]);
  });

  it("declarations are commands too (export, local, unset)", async () => {
    expect((await commandsOf("export A=1; unset B")).map((c) => c.name)).toEqual(["export", "unset"]);
  });

  it("function bodies are walked where they are defined", async () => {
    expect((await commandsOf("f() { rm x; }; f")).map((c) => c.name)).toEqual(["rm", "f"]);
    expect((await commandsOf("sudo ls $(id -u)")).map((c) => c.name)).toEqual(["id", "sudo", "ls"]);
  });
});
