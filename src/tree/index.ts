// Tree files (DESIGN §3): parse, check, normalise into task rows.
export { parseTreeText, isYamlFileName, lineColumn, locateJsonError } from "./parse.js";
export {
  APFLOW_EXECUTOR_ALIASES,
  ROOT_EXECUTOR,
  loadTree,
  readTreeDocument,
  readGroveTree,
  readApflowTree,
  type LoadTreeOptions,
  type DraftTree,
  type DraftTask,
  type DraftDependency,
} from "./normalize.js";
export {
  resolveReferences,
  checkCycles,
  checkExecutorsAndInputs,
  findCycle,
  type ResolvedTask,
  type ResolvedDependency,
  type DependencyOrigin,
} from "./validate.js";
export { expandFleets, FLEET_EXECUTOR, MachinesNeeded, type FleetMachine } from "./fleet.js";
