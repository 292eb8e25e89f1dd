import * as fs from "node:fs";
import * as path from "node:path";
import { listStacks, readProject, readStackConfig } from "../../lib/project";
import { measureProcess } from "./measure";
import { BENCH_DIR, ROOT } from "./workspace";
import { defaultPlatformStack } from "../../lib/stacks";

/** Which provider SDKs one stack loaded. */
export interface StackModules {
  readonly stack: string;
  readonly cloud: string;
  /** Files of each package found in `require.cache` after the run. */
  readonly aws: number;
  readonly gcp: number;
  readonly kubernetes: number;
  readonly ok: boolean;
}

/** The isolation check over every shipped stack. */
export interface IsolationResult {
  readonly stacks: readonly StackModules[];
  readonly ok: boolean;
  readonly summary: string;
}

/** The rule: a stack loads its own cloud's SDK only (and Kubernetes always, as the positive control). */
export function isolationHolds(m: Omit<StackModules, "ok">): boolean {
  if (m.kubernetes === 0) return false;
  if (m.cloud === "aws") return m.gcp === 0;
  if (m.cloud === "gcp") return m.aws === 0;
  return m.aws === 0 && m.gcp === 0;
}

/**
 * Runs every shipped stack in its own process under the mock engine and lists the provider SDK
 * files loaded. `require.cache` sees every CommonJS module, also those reached through the
 * program's dynamic `import()`; @pulumi/kubernetes, always loaded, shows the detection works.
 */
export async function moduleIsolation(log: (s: string) => void): Promise<IsolationResult> {
  const project = readProject(ROOT);
  const stacks: StackModules[] = [];
  const child = path.join(ROOT, "tools/bench/child.ts");
  for (const stack of listStacks(project)) {
    log(`bench: isolation: ${stack}`);
    const config = readStackConfig(project, stack).config;
    // A team stack must load no cloud SDK at all: it reads its platform's outputs, written by a
    // separate process so the platform's cloud SDK is not counted against the team.
    const team = config["blueprint:layer"] === "team";
    const cloud = team
      ? "none (team stack)"
      : ((JSON.parse(config["blueprint:cluster"] ?? "{}") as { cloud?: string }).cloud ?? "unknown");
    const extra: string[] = [];
    if (team) {
      const platform = defaultPlatformStack(stack);
      const file = path.join(BENCH_DIR, `${platform}.outputs.json`);
      fs.mkdirSync(BENCH_DIR, { recursive: true });
      const outputs = await measureProcess(
        process.execPath,
        ["--import", "tsx", child, "platform-outputs", platform, file],
        { cwd: ROOT },
      );
      if (outputs.code === 0) extra.push(file);
    }
    const run = await measureProcess(process.execPath, ["--import", "tsx", child, "modules", stack, ...extra], {
      cwd: ROOT,
    });
    if (run.code !== 0) {
      stacks.push({ stack, cloud, aws: NaN, gcp: NaN, kubernetes: NaN, ok: false });
      log(`bench: isolation: ${stack} failed to run: ${run.stderr.trim().split("\n").slice(-2).join(" ")}`);
      continue;
    }
    const r = JSON.parse(run.stdout.trim().split("\n").pop()!) as {
      modules: { aws: number; gcp: number; kubernetes: number };
    };
    const m = { stack, cloud, ...r.modules };
    stacks.push({ ...m, ok: isolationHolds(m) });
  }
  const clouds = new Set(stacks.map((s) => s.cloud));
  const missing = ["aws", "gcp"].filter((c) => !clouds.has(c));
  const ok = stacks.length > 0 && stacks.every((s) => s.ok);
  const summary = `${stacks.filter((s) => s.ok).length}/${stacks.length} stacks load only their own cloud's SDK${missing.length ? `; no ${missing.join(" or ")} stack exists, so that direction is unproven` : ""}`;
  return { stacks, ok: ok && missing.length === 0, summary };
}
