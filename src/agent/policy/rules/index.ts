// The built-in rule files, in load order (wrappers first: the other files' examples go through them).
import type { RuleFile } from "../rule-schema.js";
import { NO_DELETE } from "./delete.js";
import { FAIL_CLOSED, VARIABLES } from "./fail-closed.js";
import { FILES } from "./files.js";
import { FLAGS } from "./flags.js";
import { NO_SUDO } from "./privilege.js";
import { READ_ONLY } from "./read-only.js";
import { WRAPPERS } from "./wrappers.js";

export const BUILTIN_RULE_FILES: readonly RuleFile[] = [WRAPPERS, FLAGS, FILES, NO_SUDO, NO_DELETE, FAIL_CLOSED, VARIABLES, READ_ONLY];
