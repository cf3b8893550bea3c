// no_sudo (DESIGN §9 rule 3): privilege escalation anywhere in the command → deny.
import type { RuleFile } from "../rule-schema.js";

export const NO_SUDO: RuleFile = {
  name: "no_sudo",
  kind: "no_sudo",
  description: "commands that run something as another (usually the root) user",
  rules: [
    {
      id: "escalation",
      patterns: ["sudo", "sudoedit", "su", "doas", "pkexec", "run0"],
      match: [
        "sudo ls",
        "/usr/bin/sudo ls",
        "env FOO=1 sudo ls",
        "bash -c 'sudo ls'",
        "su -c id",
        "echo $(doas id)",
        "pkexec ls",
        "run0 ls",
        "ls | xargs sudo rm",
        "timeout 5 sudo -u root ls",
        "s'u'do ls",
        "ssh host sudo reboot",
      ],
      not_match: ["echo sudo", "ls sudo", "sudoku", "grep su file", "man sudo"],
    },
  ],
};
