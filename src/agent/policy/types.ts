// The command policy's public shapes (DESIGN §9): the restrictions it takes and the decision it
// returns, as zod schemas (the CLI and the agent validate input with them) and TypeScript types.
import { z } from "zod";

/**
 * An entry of `forbidden_commands` / `require_approval`: `"rm -rf /"`, `"shutdown"`, or the same
 * with examples that are checked before the entry is used (like Codex's execpolicy rules).
 */
export const CommandEntry = z.union([
  z.string().trim().min(1, "must not be empty"),
  z
    .object({
      command: z.string().trim().min(1, "must not be empty").describe('the entry, e.g. "rm -rf /"'),
      reason: z.string().optional().describe("shown in the decision's reasons"),
      match: z.array(z.string()).optional().describe("commands the entry must match (checked before use)"),
      not_match: z.array(z.string()).optional().describe("commands the entry must not match (checked before use)"),
    })
    .strict(),
]);
export type CommandEntry = z.infer<typeof CommandEntry>;

export const Restrictions = z
  .object({
    no_sudo: z.boolean().optional().describe("deny sudo su doas pkexec run0 anywhere in the command"),
    no_delete: z.boolean().optional().describe("deny rm rmdir unlink shred, find -delete, git clean|rm, rsync --delete*"),
    dry_run: z.boolean().optional().describe("read-only commands are allowed, anything else is simulated"),
    allowed_dirs: z.array(z.string().min(1)).optional().describe("directories the command may read and write (present, even empty: every path must be inside)"),
    read_only_dirs: z.array(z.string().min(1)).optional().describe("directories the command may read"),
    forbidden_commands: z.array(CommandEntry).optional().describe('entries such as "rm -rf /" or "shutdown": a matching command is denied'),
    require_approval: z.array(CommandEntry).optional().describe("entries whose matching commands need approval (ask)"),
  })
  .strict();
export type Restrictions = z.input<typeof Restrictions>;
export type ParsedRestrictions = z.output<typeof Restrictions>;

export const DECISIONS = ["allow", "deny", "ask", "simulate"] as const;
export type Decision = (typeof DECISIONS)[number];

export const FoundCommandJson = z.object({
  name: z.string().describe("the command name; a literal name is compared by basename (/usr/bin/sudo is sudo)"),
  args: z.array(z.string()).describe("the arguments, unquoted; a non-literal argument is given as written"),
  at: z.string().describe("line:column of the command name in the checked command string"),
  text: z.string().describe("the simple command as written"),
  via: z.array(z.string()).optional().describe("the wrappers that carry it, outermost first (e.g. [\"sudo\", \"bash -c\"])"),
  path: z.string().optional().describe("the command name as written, when it is a path"),
  literal: z.boolean().optional().describe("false when the command name is not a literal word"),
  redirects: z.array(z.object({ op: z.string(), target: z.string().nullable() })).optional(),
});
export type FoundCommand = z.infer<typeof FoundCommandJson>;

export const PolicyDecisionJson = z.object({
  decision: z.enum(DECISIONS),
  reasons: z.array(z.string()).describe('short strings naming the rule and the command, e.g. no_sudo: "sudo" at 1:1'),
  commands: z.array(FoundCommandJson).describe("every simple command found, wrapped ones included"),
});
export type PolicyDecision = z.infer<typeof PolicyDecisionJson>;

export interface CheckOptions {
  /** The directory the command runs in (absolute; relative paths resolve against process.cwd()). */
  cwd: string;
  /** The home directory `~` expands to (default: os.homedir()). */
  home?: string;
}

/** A restrictions object or a rule file that is not usable. `path` names the field. */
export class PolicyConfigError extends Error {
  override name = "InputError";
  constructor(
    readonly detail: string,
    readonly path: string,
  ) {
    super(path ? `${path}: ${detail}` : detail);
  }
}
