// The command policy (DESIGN §9): a pure function from a bash command string, restrictions and a
// working directory to allow | deny | ask | simulate, with reasons and the simple commands found.
export { checkCommand, loadPolicy, parseRestrictions, Policy } from "./check.js";
export { narrowRestrictions } from "./narrow.js";
export { PolicyRuleError, compileRules, type RuleSet } from "./ruleset.js";
export { RuleFile } from "./rule-schema.js";
export { BUILTIN_RULE_FILES } from "./rules/index.js";
export {
  CommandEntry,
  DECISIONS,
  FoundCommandJson,
  PolicyConfigError,
  PolicyDecisionJson,
  Restrictions,
  type CheckOptions,
  type Decision,
  type FoundCommand,
  type ParsedRestrictions,
  type PolicyDecision,
} from "./types.js";
