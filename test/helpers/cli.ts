import * as path from "node:path";
import { PROJECT_DIR } from "./program";

/** The command lines `tools/launch.cjs` starts, as the npm scripts name them. */
export type Entry =
  "tools/render" | "tools/audit" | "tools/team/cli" | "tools/ci/cli" | "promotion/cli" | "promotion/demo";

/**
 * The node arguments that start `entry` as its npm script does (`npm run render`, `audit`, `team`,
 * `release`...): through tools/launch.cjs, which runs the tools compiled from the current sources.
 * The suite's global setup compiled them once (test/helpers/compile-tools.cjs), so no test pays
 * for a TypeScript loader in each process it starts.
 */
export function launch(entry: Entry, ...args: string[]): string[] {
  return [path.join(PROJECT_DIR, "tools", "launch.cjs"), entry, ...args];
}
