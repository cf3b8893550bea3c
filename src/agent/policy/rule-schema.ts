// The shape of a rule file (the built-in lists of src/agent/policy/rules/ and any file given to
// compileRules). Every rule may carry `match` / `not_match` examples; they are run through the
// real parser and matcher when the rules load, and a rule whose examples do not behave as
// declared is rejected with a message naming the file, the rule and the example.
import { z } from "zod";

const OptionSpec = z
  .object({
    shortValue: z.string().optional(),
    shortOptional: z.string().optional(),
    longValue: z.array(z.string()).optional(),
    longOptional: z.array(z.string()).optional(),
    numeric: z.boolean().optional(),
    plus: z.boolean().optional(),
  })
  .strict();

const examples = {
  match: z.array(z.string()).optional(),
  not_match: z.array(z.string()).optional(),
};

/**
 * A command rule (no_sudo, no_delete, read_only, fail_closed lists). It matches a simple command
 * when one of `patterns` does (a pattern is matched like a forbidden_commands entry: the names
 * are equal and every further word occurs among the arguments) and every extra condition holds.
 * Examples: a `match` example is a command line in which some simple command matches the rule;
 * in a `not_match` example none does.
 */
export const CommandRule = z
  .object({
    id: z.string().min(1),
    patterns: z.array(z.string().min(1)).min(1),
    /** The command's own options (read up to its first operand), for subcommands / globalOptions. */
    options: OptionSpec.optional(),
    /** The first operand is one of these (`git status`). */
    subcommands: z.array(z.string()).optional(),
    /** One of these options comes before the first operand (`git -c …`). */
    globalOptions: z.array(z.string()).optional(),
    /** None of these words occurs among the arguments (same matching as pattern words). */
    unless: z.array(z.string()).optional(),
    /** At most this many operands (options read GNU-style with `options`). */
    maxOperands: z.number().int().min(0).optional(),
    /** The first operand matches this regular expression (`sed -n 5p`). */
    firstOperand: z.string().optional(),
    reason: z.string().optional(),
    ...examples,
  })
  .strict();
export type CommandRule = z.infer<typeof CommandRule>;

/**
 * A wrapper: a command that runs another one (`sudo CMD`, `bash -c STR`, `find -exec CMD ;`).
 * Examples: `"WRAPPED => CARRIED"`: the command carried by the wrapper, as written (for a script,
 * its first simple command); a `not_match` example carries no command.
 */
export const WrapperRule = z
  .object({
    id: z.string().min(1),
    names: z.array(z.string().min(1)).min(1),
    /**
     * argv: the carried command is the words after the options (and `skip` operands);
     * joined: those words joined by spaces are a shell script (ssh, watch, eval);
     * shell: `-c STR` is a script, any other operand a script file, none means stdin;
     * su: `-c STR` anywhere; find: `-exec … ;`; script: the first operand is a script (trap).
     */
    kind: z.enum(["argv", "joined", "shell", "su", "find", "script"]),
    label: z.string().optional().describe('how the wrapper is named in `via` (default: the name; shells: "bash -c")'),
    options: OptionSpec.optional(),
    skip: z.number().int().min(0).optional(),
    optionsAfterSkip: z.boolean().optional(),
    assignments: z.boolean().optional(),
    chdir: z.array(z.string()).optional(),
    noCommand: z.array(z.string()).optional(),
    shellOptions: z.array(z.string()).optional(),
    scriptOptions: z.array(z.string()).optional(),
    scriptJoinsRest: z.boolean().optional(),
    argvOptions: z.array(z.string()).optional(),
    defaultCommand: z.string().optional(),
    stdinOperands: z.boolean().optional(),
    remote: z.boolean().optional(),
    stdinShellWithoutCommand: z.boolean().optional(),
    readOnly: z.boolean().optional(),
    ...examples,
  })
  .strict();
export type WrapperRule = z.infer<typeof WrapperRule>;

const PathMode = z.enum(["read", "write", "read@"]);

/**
 * Which words of a command are paths, and which of those it writes (rule 6). Examples:
 * `"CMD => PATH…"`: the paths written (`w:` prefix optional) and, when any `r:PATH` is listed,
 * exactly the paths read; a `not_match` example writes nothing.
 */
export const FileRule = z
  .object({
    id: z.string().min(1),
    names: z.array(z.string().min(1)).min(1),
    options: OptionSpec.optional(),
    /** Which operands are paths: all (default), none, or the first only (the archive of unzip). */
    operands: z.enum(["all", "none", "first"]).optional(),
    /** Words matching this regular expression are operands even if they start with `-` (chmod -x). */
    operandRegex: z.string().optional(),
    /** Leading operands that are not paths (grep's pattern, chmod's mode)… */
    skip: z.number().int().min(0).optional(),
    /** …unless one of these options was given (grep -e, chmod --reference). */
    skipUnless: z.array(z.string()).optional(),
    /** Which path operands are written. `last`: the last one, unless a write path option (-t DIR) was given. */
    writes: z.enum(["all", "none", "last", "first", "second"]).optional(),
    /** The operands are written only with one of these options (sed -i)… */
    writesWith: z.array(z.string()).optional(),
    /** …or not with one of these (gzip -c). */
    writesUnless: z.array(z.string()).optional(),
    /** Every operand is written with one of these options (install -d). */
    writesAllWith: z.array(z.string()).optional(),
    /** Options whose value is a path, and how it is used (`read@`: a path only after an @, as curl -d @FILE). */
    pathOptions: z.record(z.string(), PathMode).optional(),
    /** key=value operands that are paths (dd if= of=). */
    keyPaths: z.record(z.string(), z.enum(["read", "write"])).optional(),
    /** It writes into its working directory, always or unless / only with some options (wget, curl -O). */
    implicitWrite: z.object({ with: z.array(z.string()).optional(), unless: z.array(z.string()).optional() }).strict().optional(),
    /** A symlink as last component of an operand is not followed (rm removes the link, not its target). */
    noFollow: z.boolean().optional(),
    /** Operands of the form host:path are on another machine and not checked (scp, rsync). */
    remoteOperands: z.boolean().optional(),
    /** Handled by code: tar, find, git, ln, mktemp, cd. */
    special: z.enum(["tar", "find", "git", "ln", "mktemp", "cd"]).optional(),
    ...examples,
  })
  .strict();
export type FileRule = z.infer<typeof FileRule>;

/** Short-flag synonyms per command, for pattern matching: `rm --recursive` is `rm -r`. Examples: `"COMMAND => ENTRY"`. */
export const FlagRule = z
  .object({
    id: z.string().min(1),
    names: z.array(z.string().min(1)).min(1),
    /** `--recursive` → `r`, `-R` → `r`. */
    flags: z.record(z.string(), z.string().length(1)),
    ...examples,
  })
  .strict();
export type FlagRule = z.infer<typeof FlagRule>;

/** Variables whose assignment changes what runs (PATH, LD_PRELOAD, BASH_ENV…): fail closed. */
export const VariableRule = z
  .object({
    id: z.string().min(1),
    /** Names; `*` matches any run of characters (`LD_*`). */
    names: z.array(z.string().min(1)).min(1),
    reason: z.string().optional(),
    ...examples,
  })
  .strict();
export type VariableRule = z.infer<typeof VariableRule>;

export const RULE_KINDS = ["no_sudo", "no_delete", "read_only", "fail_closed", "wrappers", "files", "flags", "variables"] as const;

export const RuleFile = z.discriminatedUnion("kind", [
  z.object({ name: z.string().min(1), kind: z.enum(["no_sudo", "no_delete", "read_only", "fail_closed"]), description: z.string().optional(), rules: z.array(CommandRule) }).strict(),
  z.object({ name: z.string().min(1), kind: z.literal("wrappers"), description: z.string().optional(), rules: z.array(WrapperRule) }).strict(),
  z.object({ name: z.string().min(1), kind: z.literal("files"), description: z.string().optional(), rules: z.array(FileRule) }).strict(),
  z.object({ name: z.string().min(1), kind: z.literal("flags"), description: z.string().optional(), singleDashCommands: z.array(z.string()).optional(), rules: z.array(FlagRule) }).strict(),
  z.object({ name: z.string().min(1), kind: z.literal("variables"), description: z.string().optional(), rules: z.array(VariableRule) }).strict(),
]);
export type RuleFile = z.input<typeof RuleFile>;
