// git's global options (before the subcommand) and which subcommands write the repository.
import type { OptionSpec } from "../options.js";

export const GIT_OPTIONS: OptionSpec = {
  shortValue: "Cc",
  longValue: ["git-dir", "work-tree", "namespace", "config-env", "super-prefix", "list-cmds", "attr-source"],
  longOptional: ["exec-path"],
};

/** Subcommands that write the work tree or the repository (checked against allowed_dirs). */
export const GIT_WRITE_SUBCOMMANDS = [
  "add", "am", "apply", "bisect", "branch", "checkout", "cherry-pick", "clean", "clone", "commit", "config", "fetch", "gc", "init", "merge",
  "mv", "prune", "pull", "push", "rebase", "reset", "restore", "revert", "rm", "stash", "submodule", "switch", "tag", "worktree", "notes", "repack",
];
