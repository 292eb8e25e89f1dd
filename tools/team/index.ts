/**
 * `npm run team`: adds and removes teams in the stack files. The command line (`cli`), the YAML
 * edits of the stack files (`edit`), the program run over a staged copy (`stage`), the all-or-nothing
 * write of several files (`transaction`) and what is printed (`report`) each live in their own module.
 */
export { addTeam, type AddRequest } from "./add";
export { main } from "./cli";
export { removeTeam } from "./remove";
export type { TeamReport } from "./report";
export { TeamRefused, TeamUsageError, type TeamContext } from "./workspace";
