import * as path from "node:path";
import { measureProcess } from "./measure";
import { precompile } from "../compile";
import { YOUNG_GENERATION } from "../offline/render";
import { summarise, type Summary } from "./stats";
import { syntheticEnvironment } from "./synth";
import { BENCH_DIR, ROOT, programProject, writeStack } from "./workspace";

/** Cold start figures: the render of one team stack (one app) against loading the SDK alone. */
export interface ColdStartResult {
  /** The default command (`npm run render -- <env>.<team>`: tools/launch.cjs tools/render) when the platform's last render is current. */
  readonly teamCurrent: Summary;
  /** The same with `--fresh`: the platform is rendered first, in memory, as when its contract is not current. */
  readonly teamFresh: Summary;
  /** The sources run through tsx (`node --import tsx tools/render.ts`), platform contract current. */
  readonly teamTsx: Summary;
  /** The precompiled render (`npm run render:compiled`), platform contract current. */
  readonly teamCompiled: Summary;
  /** `node` requiring only @pulumi/pulumi and @pulumi/kubernetes. */
  readonly bareLoad: Summary;
  readonly command: string;
}

/**
 * Runs the commands in turn, `runs` times each, after one unmeasured warm-up round (so the file
 * cache, tsx's transform cache and the platform's cached contract are warm, as on a developer's
 * machine after the first render). All whole-process times, for a team stack with one app.
 */
export async function coldStart(runs: number, log: (s: string) => void): Promise<ColdStartResult> {
  const project = programProject();
  const env = writeStack(project, syntheticEnvironment(1));
  const stack = `${env}.team-0001`;
  const compiled = path.join(BENCH_DIR, "dist");
  precompile(compiled);
  const out = path.join(BENCH_DIR, "rendered");
  // As the npm scripts run them (package.json).
  const launch = [
    process.execPath,
    YOUNG_GENERATION,
    path.join(ROOT, "tools/launch.cjs"),
    "tools/render",
    stack,
    "--out",
    out,
  ];
  const tsx = [
    process.execPath,
    YOUNG_GENERATION,
    "--import",
    "tsx",
    path.join(ROOT, "tools/render.ts"),
    stack,
    "--out",
    out,
  ];
  const commands = {
    teamCurrent: launch,
    teamFresh: [...launch, "--fresh"],
    teamTsx: tsx,
    teamCompiled: [process.execPath, YOUNG_GENERATION, path.join(compiled, "tools/render.js"), stack, "--out", out],
    bareLoad: [process.execPath, "-e", 'require("@pulumi/pulumi"); require("@pulumi/kubernetes")'],
  };
  const times: Record<keyof typeof commands, number[]> = {
    teamCurrent: [],
    teamFresh: [],
    teamTsx: [],
    teamCompiled: [],
    bareLoad: [],
  };
  for (let r = 0; r <= runs; r++) {
    if (r > 0) log(`bench: cold start, run ${r}/${runs}`);
    for (const [name, cmd] of Object.entries(commands) as [keyof typeof commands, string[]][]) {
      const run = await measureProcess(cmd[0], cmd.slice(1), { cwd: name === "bareLoad" ? ROOT : project });
      if (run.code !== 0) throw new Error(`bench: cold start: ${cmd.join(" ")} failed:\n${run.stderr}`);
      if (name !== "bareLoad" && !/contract: +from /.test(run.stdout))
        throw new Error(`bench: cold start: ${cmd.join(" ")} did not say where its contract came from:\n${run.stdout}`);
      if ((name === "teamCurrent" || name === "teamTsx") && r > 0 && !run.stdout.includes("from the last render of"))
        throw new Error(`bench: cold start: the platform's contract was not current for ${stack}:\n${run.stdout}`);
      if (r > 0) times[name].push(run.wallMs);
    }
  }
  return {
    teamCurrent: summarise(times.teamCurrent),
    teamFresh: summarise(times.teamFresh),
    teamTsx: summarise(times.teamTsx),
    teamCompiled: summarise(times.teamCompiled),
    bareLoad: summarise(times.bareLoad),
    command: `node ${YOUNG_GENERATION} tools/launch.cjs tools/render ${stack} (npm run render; one-app team stack, in .bench/program)`,
  };
}
