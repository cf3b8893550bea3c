// Short-flag synonyms used when matching forbidden_commands / require_approval entries and the
// built-in patterns: `rm --recursive --force /` matches "rm -rf /" (DESIGN §9 rule 5).
import type { RuleFile } from "../rule-schema.js";

export const FLAGS: RuleFile = {
  name: "flags",
  kind: "flags",
  description: "long options and upper-case letters that mean the same as a short flag",
  // Commands whose single-dash words are long options (find -delete), never letter clusters.
  singleDashCommands: ["find", "java", "go", "gcc", "clang", "ffmpeg", "xdotool", "tcpdump"],
  rules: [
    {
      id: "rm",
      names: ["rm"],
      flags: { "-R": "r", "--recursive": "r", "--force": "f", "--dir": "d", "--verbose": "v", "--interactive": "i" },
      match: ["rm --recursive --force / => rm -rf /", "rm -R -f / => rm -rf /", "rm -fR / => rm -rf /", "rm -rfv / => rm -rf /"],
      not_match: ["rm --force / => rm -rf /", "rm -rf /tmp => rm -rf /"],
    },
    {
      id: "cp",
      names: ["cp"],
      flags: { "-R": "r", "--recursive": "r", "--force": "f", "--archive": "a" },
      match: ["cp --recursive a b => cp -r", "cp -R a b => cp -r"],
      not_match: ["cp a b => cp -r"],
    },
    {
      id: "mv",
      names: ["mv"],
      flags: { "--force": "f", "--no-clobber": "n", "--interactive": "i" },
      match: ["mv --force a b => mv -f"],
      not_match: ["mv a b => mv -f"],
    },
    {
      id: "chmod",
      names: ["chmod", "chown", "chgrp"],
      flags: { "--recursive": "R" },
      match: ["chmod --recursive 777 / => chmod -R 777 /", "chown -R me / => chown -R me /"],
      not_match: ["chmod 777 / => chmod -R 777 /"],
    },
    {
      id: "git",
      names: ["git"],
      flags: { "--force": "f" },
      match: ["git push --force origin main => git push -f", "git clean -fdx => git clean -f"],
      not_match: ["git push origin main => git push -f"],
    },
  ],
};
