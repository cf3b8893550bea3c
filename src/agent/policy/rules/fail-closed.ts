// Fail closed (DESIGN §9 rule 2): when any restriction is set, constructs whose effect cannot be
// known from the text → deny. (Parse errors, non-literal command names and shells reading their
// script from stdin, a heredoc or a file are found by the parser walk itself.)
import type { RuleFile } from "../rule-schema.js";
import { GIT_OPTIONS } from "./git.js";

export const FAIL_CLOSED: RuleFile = {
  name: "fail_closed",
  kind: "fail_closed",
  description: "builtins that run text the policy cannot see",
  rules: [
    { id: "eval", patterns: ["eval"], reason: "eval runs a string as a command", match: ["eval 'rm x'", "eval ls", "command eval ls"], not_match: ["echo eval"] },
    {
      id: "source",
      patterns: ["source", "."],
      reason: "source runs a file's commands",
      match: [". ./x.sh", "source ~/.bashrc", "bash -c '. /tmp/x'"],
      not_match: ["echo .", "ls .", "cd ."],
    },
    { id: "alias", patterns: ["alias *=*"], reason: "an alias definition changes what a later name runs", match: ["alias ls='rm -rf'", "alias a=b c=d"], not_match: ["alias", "alias ls"] },
    { id: "hash", patterns: ["hash -p"], reason: "hash -p changes what a name runs", match: ["hash -p /tmp/x ls"], not_match: ["hash", "hash -r"] },
    { id: "enable", patterns: ["enable -f"], reason: "enable -f loads a builtin from a shared object", match: ["enable -f ./x.so x"], not_match: ["enable -n echo"] },
    { id: "fc", patterns: ["fc"], reason: "fc re-runs commands from the history", match: ["fc -s", "fc -e vi 1"], not_match: ["echo fc"] },
    {
      id: "git-config-commands",
      patterns: ["git"],
      options: GIT_OPTIONS,
      globalOptions: ["-c", "--config-env"],
      reason: "git -c can make git run commands (core.pager, core.sshCommand, alias.*)",
      match: ["git -c core.pager='rm x' log", "git -c alias.x='!rm y' x", "git --config-env=core.editor=E commit"],
      not_match: ["git log -c", "git status", "git -C repo log"],
    },
  ],
};

export const VARIABLES: RuleFile = {
  name: "variables",
  kind: "variables",
  description: "variables whose assignment changes which program runs or makes a shell run code",
  rules: [
    {
      id: "exec-variables",
      names: [
        "PATH", "LD_*", "BASH_ENV", "ENV", "PROMPT_COMMAND", "SHELLOPTS", "BASHOPTS", "IFS", "PS4", "BASH_FUNC_*",
        "GIT_SSH", "GIT_SSH_COMMAND", "GIT_EXTERNAL_DIFF", "GIT_PAGER", "GIT_EDITOR", "GIT_SEQUENCE_EDITOR", "GIT_ASKPASS", "GIT_CONFIG*", "GIT_EXEC_PATH",
        "PAGER", "EDITOR", "VISUAL", "SUDO_ASKPASS", "SSH_ASKPASS", "PYTHONSTARTUP", "PERL5OPT", "NODE_OPTIONS",
      ],
      reason: "assigning it changes what runs",
      match: ["PATH=/tmp ls", "export PATH=/tmp:$PATH", "env LD_PRELOAD=/x.so ls", "sudo BASH_ENV=x bash -c ls", "IFS=/ ls", "declare -x NODE_OPTIONS=--require=x"],
      not_match: ["FOO=1 ls", "echo PATH=/x", "export FOO=1", "MYPATH=/x ls"],
    },
  ],
};
