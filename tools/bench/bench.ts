import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseCommandLine, UsageError, userPath } from "../offline/cli";
import type { ChildReport } from "./child";
import { compareObjectSets, contentDifferences, describeDifference, sameObjectSet } from "./compare";
import { parseManifests, writeKustomization } from "./kustomize";
import { measureProcess, type ProcessRun } from "./measure";
import { formatMb, formatMs, formatRatio, summarise, table, type Summary } from "./stats";
import { syntheticEnvironment } from "./synth";
import { BENCH_DIR, ROOT, bareProject, programProject, writeSingleStack, writeStack } from "./workspace";
import { coldStart, type ColdStartResult } from "./coldstart";
import { moduleIsolation, type IsolationResult } from "./isolation";
import { promotionTiming, type PromotionResult } from "./promotion";
import { validationTiming, type ValidationResult } from "./validation";
import { YOUNG_GENERATION } from "../offline/render";
import { startProgress } from "../progress";

const USAGE = `Usage: npm run bench -- [options]

Evaluates synthetic environments (teams of 10 apps; each app with config, workload, Service, PDB
and HPA) with our program under the mock engine, each run in a fresh process, next to the same
objects registered with the bare Pulumi SDK, synthesised by cdk8s and built by kustomize.
Also measures cold start, provider-SDK isolation per stack, the promotion commands and config
validation at 1000 apps (as a share of our program's evaluation time there).

Options:
  --sizes <n,n,...>        app counts (default 10,100,1000)
  --large                  also run 5000 apps
  --runs <n>               repetitions per measurement (default 3, at least 3 for figures)
  --only <v,v,...>         variants: ours, bare, bare-components, render, render-single, cdk8s,
                           kustomize, kustomize-teams (default all). render is the layered
                           environment (platform, then team stacks in parallel); render-single
                           the same apps as one stack, rendered by the program before the layers
  --kustomize-timeout <s>  give up on a kustomize build after this many seconds (default 120);
                           a size where it gives up is reported as "over <s> s" and larger
                           sizes skip that variant
  --skip <part,...>        coldstart, isolation, promotion, validation
  --json                   print the results as JSON instead of tables
  --report <file>          print the tables of a saved --json result, measuring nothing
                           (a relative path is read from the folder you ran npm run bench in)
  --quiet                  no progress bar (it shows only when stdout and stderr are terminals)
  --help                   this text`;

/** The variants measured per size, in the order each round runs them. */
const VARIANTS = [
  "ours",
  "bare",
  "bare-components",
  "render",
  "render-current",
  "render-single",
  "cdk8s",
  "kustomize",
  "kustomize-teams",
] as const;
type Variant = (typeof VARIANTS)[number];
type KustomizeVariant = "kustomize" | "kustomize-teams";

/** Figures of one variant at one size. */
interface VariantResult {
  readonly variant: Variant;
  readonly apps: number;
  readonly objects?: number;
  readonly registered?: number;
  /** Whole-process wall time. */
  readonly wallMs?: Summary;
  /** In-process evaluation time (node variants that report it). */
  readonly evalMs?: Summary;
  readonly maxRssKb?: Summary;
  /** Objects per second of the headline time (eval time where reported, else wall). */
  readonly objectsPerSecond?: number;
  /** Set when the variant could not be measured (timeout, failure). */
  readonly note?: string;
}

/** Object-set check of one reference against ours. */
interface CheckResult {
  readonly apps: number;
  readonly reference: string;
  readonly sameSet: boolean;
  readonly detail: string;
  /** Objects in both whose contents differ (generated names normalised). */
  readonly contentDiffers: number;
}

interface Target {
  readonly name: string;
  readonly goal: string;
  readonly measured: string;
  readonly met: boolean | undefined;
}

const CHILD = path.join(ROOT, "tools/bench/child.ts");
/** Apps above which every node process gets a larger heap (node's default limit is about 4 GiB). */
const LARGE_HEAP_FROM = 2000;
const LARGE_HEAP_MB = 16384;

/** Node flags for one size: the same for every variant, so their figures stay comparable. */
function nodeFlags(apps: number): string[] {
  return apps > LARGE_HEAP_FROM ? [`--max-old-space-size=${LARGE_HEAP_MB}`] : [];
}

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseCommandLine(
      argv,
      {
        sizes: { type: "string", default: "10,100,1000" },
        large: { type: "boolean", default: false },
        runs: { type: "string", default: "3" },
        only: { type: "string", default: VARIANTS.join(",") },
        "kustomize-timeout": { type: "string", default: "120" },
        skip: { type: "string", default: "" },
        json: { type: "boolean", default: false },
        quiet: { type: "boolean", default: false },
        report: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      false,
    );
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`bench: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (args.values.help) {
    console.log(USAGE);
    return 0;
  }
  if (args.values.report) {
    const file = userPath(args.values.report, ["bench"]);
    if (!fs.existsSync(file)) {
      console.error(`bench: --report ${file}: no such file`);
      return 2;
    }
    const saved = JSON.parse(fs.readFileSync(file, "utf8")) as SavedResult;
    console.log(
      report(
        saved.machine,
        saved.runs,
        saved.checks,
        saved.results,
        saved.coldStart,
        saved.isolation,
        saved.promotion,
        saved.targets,
      ),
    );
    return 0;
  }
  const sizes = args.values.sizes!.split(",").map(Number);
  if (args.values.large && !sizes.includes(5000)) sizes.push(5000);
  const runs = Number(args.values.runs);
  const only = new Set(args.values.only!.split(",").filter(Boolean));
  const skip = new Set(args.values.skip!.split(",").filter(Boolean));
  const kustomizeTimeoutMs = Number(args.values["kustomize-timeout"]) * 1000;
  if (
    sizes.some((n) => !Number.isInteger(n) || n < 1) ||
    !Number.isInteger(runs) ||
    runs < 1 ||
    [...only].some((v) => !VARIANTS.includes(v as Variant))
  ) {
    console.error(`bench: bad option value\n\n${USAGE}`);
    return 2;
  }
  const variants = VARIANTS.filter((v) => only.has(v));
  // Progress of the timed runs on a terminal (stderr), above which the log lines scroll; elsewhere, or
  // with --quiet, the log lines alone, as before.
  const progress = startProgress(sizes.length * runs * variants.length, {
    label: "bench",
    unit: "runs",
    quiet: args.values.quiet || process.stdout.isTTY !== true,
  });
  const log = (s: string) => progress.log(s);

  fs.mkdirSync(BENCH_DIR, { recursive: true });
  const program = programProject();
  bareProject();
  const machine = machineInfo();
  log(`bench: ${machine.cpus}, ${machine.memory}, node ${process.version}, load ${machine.loadBefore}`);

  const checks: CheckResult[] = [];
  const results: VariantResult[] = [];
  // Variants that exceeded the timeout at a smaller size are not tried at larger ones.
  const tooSlow = new Map<Variant, string>();
  for (const apps of sizes) {
    const env = syntheticEnvironment(apps);
    const stack = writeStack(program, env);
    const single = writeSingleStack(env);
    const builds: Record<KustomizeVariant, string> = {
      kustomize: writeKustomization(env, path.join(BENCH_DIR, `kustomize-${apps}`), "single"),
      "kustomize-teams": writeKustomization(env, path.join(BENCH_DIR, `kustomize-teams-${apps}`), "per-team"),
    };
    const gaveUp = new Map<Variant, string>(tooSlow);

    // Before timing: every reference must produce our set of objects.
    log(`bench: ${apps} apps: checking that the references produce our objects`);
    const ours = await dumpOf("ours", apps);
    for (const ref of variants.filter(
      (v) => v !== "ours" && v !== "render" && v !== "render-current" && v !== "render-single" && !gaveUp.has(v),
    )) {
      let theirs: Record<string, unknown>[];
      if (ref === "kustomize" || ref === "kustomize-teams") {
        const file = path.join(BENCH_DIR, `${ref}-${apps}.out.yaml`);
        const run = await measureProcess("kubectl", ["kustomize", builds[ref]], {
          stdoutFile: file,
          timeoutMs: kustomizeTimeoutMs,
        });
        if (run.timedOut || run.code !== 0) {
          const why = run.timedOut
            ? `over ${kustomizeTimeoutMs / 1000} s (stopped; not run at larger sizes)`
            : `failed: ${run.stderr.trim()}`;
          gaveUp.set(ref, why);
          if (run.timedOut) tooSlow.set(ref, `skipped: over ${kustomizeTimeoutMs / 1000} s at a smaller size`);
          checks.push({ apps, reference: ref, sameSet: false, detail: why, contentDiffers: 0 });
          continue;
        }
        theirs = parseManifests(fs.readFileSync(file, "utf8"));
      } else {
        theirs = await dumpOf(ref as "bare" | "bare-components" | "cdk8s", apps);
      }
      const diff = compareObjectSets(ours, theirs);
      const check = {
        apps,
        reference: ref,
        sameSet: sameObjectSet(diff),
        detail: describeDifference(diff),
        contentDiffers: contentDifferences(ours, theirs).length,
      };
      checks.push(check);
      if (!check.sameSet) {
        progress.stop();
        console.error(
          `bench: ${ref} does not produce the same objects as our program at ${apps} apps: ${check.detail}`,
        );
        return 1;
      }
    }

    const samples = new Map<Variant, { run: ProcessRun; report?: ChildReport }[]>();
    for (let r = 1; r <= runs; r++) {
      for (const v of variants) {
        if (gaveUp.has(v)) continue;
        log(`bench: ${apps} apps: ${v}, run ${r}/${runs}`);
        const sample = await runVariant(v, apps, { stack, program, single, builds, kustomizeTimeoutMs });
        progress.done({
          name: `${v} at ${apps} apps`,
          ms: sample.run.wallMs,
          ok: !sample.run.timedOut && sample.run.code === 0,
        });
        if (sample.run.timedOut || sample.run.code !== 0) {
          gaveUp.set(
            v,
            sample.run.timedOut
              ? `over ${kustomizeTimeoutMs / 1000} s (stopped)`
              : `failed: ${sample.run.stderr.trim().split("\n").slice(-3).join(" ")}`,
          );
          if (sample.run.timedOut) tooSlow.set(v, `skipped: over ${kustomizeTimeoutMs / 1000} s at a smaller size`);
          continue;
        }
        samples.set(v, [...(samples.get(v) ?? []), sample]);
      }
    }
    for (const v of variants) results.push(summariseVariant(v, apps, samples.get(v) ?? [], gaveUp.get(v), ours.length));
  }

  progress.stop();
  const cold = skip.has("coldstart") ? undefined : await coldStart(Math.max(runs, 5), log);
  const isolation = skip.has("isolation") ? undefined : await moduleIsolation(log);
  const promotion = skip.has("promotion") ? undefined : await promotionTiming(runs, log);
  const validation = skip.has("validation") ? undefined : await validationTiming(VALIDATION_APPS, runs, log);
  const targets = evaluateTargets(results, cold, promotion, isolation, validation);
  machine.loadAfter = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

  if (args.values.json) {
    const saved: SavedResult = {
      machine,
      sizes,
      runs,
      checks,
      results,
      coldStart: cold,
      isolation,
      promotion,
      validation,
      targets,
    };
    console.log(JSON.stringify(saved, null, 2));
  } else {
    console.log(report(machine, runs, checks, results, cold, isolation, promotion, targets));
  }
  return 0;
}

async function dumpOf(
  variant: "ours" | "bare" | "bare-components" | "cdk8s",
  apps: number,
): Promise<Record<string, unknown>[]> {
  const file = path.join(BENCH_DIR, `${variant}-${apps}.objects.json`);
  const run = await measureProcess(
    process.execPath,
    [...nodeFlags(apps), "--import", "tsx", CHILD, variant, String(apps), "--dump", file],
    { cwd: ROOT },
  );
  if (run.code !== 0) throw new Error(`bench: ${variant} failed at ${apps} apps:\n${run.stderr}`);
  return JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>[];
}

async function runVariant(
  v: Variant,
  apps: number,
  ctx: {
    stack: string;
    program: string;
    single: { project: string; render: string };
    builds: Record<KustomizeVariant, string>;
    kustomizeTimeoutMs: number;
  },
): Promise<{ run: ProcessRun; report?: ChildReport }> {
  switch (v) {
    case "ours":
    case "bare":
    case "bare-components":
    case "cdk8s": {
      const run = await measureProcess(
        process.execPath,
        [...nodeFlags(apps), "--import", "tsx", CHILD, v, String(apps)],
        { cwd: ROOT },
      );
      const report = run.code === 0 ? (JSON.parse(run.stdout.trim().split("\n").pop()!) as ChildReport) : undefined;
      return { run, report };
    }
    case "render":
    case "render-current": {
      // As `npm run render` runs it (package.json). "render" renders the platform first (--fresh),
      // as on a fresh clone; "render-current" after a render of the same environment, so the
      // platform's contract is current and the team stacks start at once.
      const out = path.join(BENCH_DIR, "rendered");
      const args = [
        ...nodeFlags(apps),
        YOUNG_GENERATION,
        path.join(ROOT, "tools/launch.cjs"),
        "tools/render",
        ctx.stack,
        "--out",
        out,
        ...(v === "render" ? ["--fresh"] : []),
      ];
      const run = await measureProcess(process.execPath, args, { cwd: ctx.program });
      if (run.code === 0 && v === "render-current" && !run.stdout.includes("from the last render of"))
        throw new Error(`bench: render-current at ${apps} apps did not find the platform's contract current`);
      return { run };
    }
    case "render-single": {
      const out = path.join(BENCH_DIR, "rendered-single");
      const run = await measureProcess(
        process.execPath,
        [...nodeFlags(apps), "--import", "tsx", ctx.single.render, ctx.stack, "--out", out],
        { cwd: ctx.single.project },
      );
      return { run };
    }
    case "kustomize":
    case "kustomize-teams": {
      const run = await measureProcess("kubectl", ["kustomize", ctx.builds[v]], {
        stdoutFile: path.join(BENCH_DIR, `${v}-${apps}.out.yaml`),
        timeoutMs: ctx.kustomizeTimeoutMs,
      });
      return { run };
    }
  }
}

function summariseVariant(
  v: Variant,
  apps: number,
  samples: { run: ProcessRun; report?: ChildReport }[],
  note: string | undefined,
  objects: number,
): VariantResult {
  if (samples.length === 0) return { variant: v, apps, note: note ?? "not run" };
  const wallMs = summarise(samples.map((s) => s.run.wallMs));
  const rss = samples.map((s) => s.run.maxRssKb).filter((x) => Number.isFinite(x));
  const evals = samples.map((s) => s.report?.evalMs).filter((x): x is number => x !== undefined);
  const evalMs = evals.length ? summarise(evals) : undefined;
  const first = samples[0].report;
  const count = first?.objects ?? objects;
  return {
    variant: v,
    apps,
    objects: count,
    registered: first?.registered,
    wallMs,
    evalMs,
    maxRssKb: rss.length ? summarise(rss) : undefined,
    objectsPerSecond: count / ((evalMs ?? wallMs).median / 1000),
    note: note ?? (samples.length < 3 ? `${samples.length} run(s) only` : undefined),
  };
}

function find(results: readonly VariantResult[], v: Variant, apps: number): VariantResult | undefined {
  return results.find((r) => r.variant === v && r.apps === apps && r.wallMs);
}

/** App count at which config validation is weighed against the render. */
const VALIDATION_APPS = 1000;

function evaluateTargets(
  results: readonly VariantResult[],
  cold?: ColdStartResult,
  promotion?: PromotionResult,
  isolation?: IsolationResult,
  validation?: ValidationResult,
): Target[] {
  const targets: Target[] = [];
  const ours1k = find(results, "ours", 1000);
  const bare1k = find(results, "bare", 1000);
  if (ours1k?.evalMs && bare1k?.evalMs && ours1k.maxRssKb && bare1k.maxRssKb) {
    const t = ours1k.evalMs.median / bare1k.evalMs.median;
    const m = ours1k.maxRssKb.median / bare1k.maxRssKb.median;
    targets.push({
      name: "component overhead, time (1000 apps)",
      goal: "<= 1.15x bare SDK",
      measured: `${formatRatio(t)} (${Math.round(ours1k.evalMs.median)} vs ${Math.round(bare1k.evalMs.median)} ms)`,
      met: t <= 1.15,
    });
    targets.push({
      name: "component overhead, peak RSS (1000 apps)",
      goal: "<= 1.15x bare SDK",
      measured: `${formatRatio(m)} (${formatMb(ours1k.maxRssKb)} vs ${formatMb(bare1k.maxRssKb)} MB)`,
      met: m <= 1.15,
    });
  }
  const wrapped1k = find(results, "bare-components", 1000);
  if (ours1k?.evalMs && bare1k?.evalMs && wrapped1k?.evalMs) {
    const sdk = wrapped1k.evalMs.median / bare1k.evalMs.median;
    const code = ours1k.evalMs.median / wrapped1k.evalMs.median;
    targets.push({
      name: "  of which: the SDK's cost of components / our components' code",
      goal: "(analysis)",
      measured: `${formatRatio(sdk)} (bare in empty components vs bare) / ${formatRatio(code)} (ours vs that)`,
      met: undefined,
    });
  }
  const render1k = find(results, "render", 1000);
  if (render1k?.wallMs && bare1k?.wallMs) {
    const r = render1k.wallMs.median / bare1k.wallMs.median;
    targets.push({
      name: "full render vs bare SDK, default settings (1000 apps, whole process)",
      goal: "<= 1.00x",
      measured: `${formatRatio(r)} (${Math.round(render1k.wallMs.median)} vs ${Math.round(bare1k.wallMs.median)} ms)`,
      met: r <= 1,
    });
  }
  const single1k = find(results, "render-single", 1000);
  if (render1k?.wallMs && single1k?.wallMs) {
    const r = render1k.wallMs.median / single1k.wallMs.median;
    targets.push({
      name: "layered environment render vs one stack (1000 apps, 100 teams, whole process; platform rendered first, --fresh)",
      goal: "<= 0.60x",
      measured: `${formatRatio(r)} (${Math.round(render1k.wallMs.median)} vs ${Math.round(single1k.wallMs.median)} ms)`,
      met: r <= 0.6,
    });
  }
  const current1k = find(results, "render-current", 1000);
  if (current1k?.wallMs && single1k?.wallMs) {
    const r = current1k.wallMs.median / single1k.wallMs.median;
    targets.push({
      name: "  the same, platform's contract current (team stacks start at once)",
      goal: "<= 0.60x",
      measured: `${formatRatio(r)} (${Math.round(current1k.wallMs.median)} vs ${Math.round(single1k.wallMs.median)} ms)`,
      met: r <= 0.6,
    });
  }
  if (render1k?.wallMs) {
    for (const v of ["kustomize", "kustomize-teams"] as const) {
      const kust = results.find((r) => r.variant === v && r.apps === 1000);
      if (!kust) continue;
      const k = kust.wallMs?.median;
      const stopped = kust.note !== undefined && /over \d+ s/.test(kust.note);
      targets.push({
        name: `full render vs ${v} (1000 apps)`,
        goal: "faster",
        measured: k
          ? `${formatRatio(render1k.wallMs.median / k)} (${Math.round(render1k.wallMs.median)} vs ${Math.round(k)} ms)`
          : `${Math.round(render1k.wallMs.median)} ms vs ${v} ${kust.note}`,
        met: k ? render1k.wallMs.median < k : stopped ? true : undefined,
      });
    }
  }
  const perObject = (r?: VariantResult) => (r?.evalMs && r.objects ? r.evalMs.median / r.objects : undefined);
  const g100 = perObject(find(results, "ours", 100));
  const g1k = perObject(ours1k);
  if (g100 && g1k) {
    const g5k = perObject(find(results, "ours", 5000));
    targets.push({
      name: "growth: cost per object, 1000 vs 100 apps",
      goal: "<= 1.3x",
      measured: `${formatRatio(g1k / g100)} (${(g1k * 1000).toFixed(0)} vs ${(g100 * 1000).toFixed(0)} us/object)${g5k ? `; 5000 apps: ${(g5k * 1000).toFixed(0)} us/object (${formatRatio(g5k / g100)} of 100)` : ""}`,
      met: g1k / g100 <= 1.3,
    });
  }
  if (cold) {
    const base = cold.bareLoad.median;
    const current = cold.teamCurrent.median / base;
    targets.push({
      name: "render of one team stack (npm run render) vs loading the SDK, platform's contract current",
      goal: "<= 1.5x",
      measured: `${formatRatio(current)} (${Math.round(cold.teamCurrent.median)} vs ${Math.round(base)} ms)`,
      met: current <= 1.5,
    });
    const fresh = cold.teamFresh.median / base;
    targets.push({
      name: "render of one team stack (npm run render) vs loading the SDK, contract not current (--fresh)",
      goal: "<= 2.0x",
      measured: `${formatRatio(fresh)} (${Math.round(cold.teamFresh.median)} vs ${Math.round(base)} ms)`,
      met: fresh <= 2,
    });
    const tsx = cold.teamTsx.median / base;
    targets.push({
      name: "  the same, sources through tsx (node --import tsx tools/render.ts), contract current",
      goal: "(for comparison)",
      measured: `${formatRatio(tsx)} (${Math.round(cold.teamTsx.median)} vs ${Math.round(base)} ms)`,
      met: undefined,
    });
    const compiled = cold.teamCompiled.median / base;
    targets.push({
      name: "  the same, precompiled (npm run render:compiled), contract current",
      goal: "(for comparison)",
      measured: `${formatRatio(compiled)} (${Math.round(cold.teamCompiled.median)} vs ${Math.round(base)} ms)`,
      met: undefined,
    });
  }
  if (isolation) {
    targets.push({
      name: "a stack loads only its cloud's SDK",
      goal: "aws stacks never load @pulumi/gcp and vice versa",
      measured: isolation.summary,
      met: isolation.ok,
    });
  }
  if (validation) {
    const ours = find(results, "ours", validation.apps)?.evalMs;
    const share = ours ? validation.ms.median / ours.median : undefined;
    targets.push({
      name: `config validation (${validation.apps} apps) vs our program's evaluation`,
      goal: "< 5%",
      measured:
        share === undefined
          ? `${formatMs(validation.ms)} ms (ours not measured at ${validation.apps} apps)`
          : `${(share * 100).toFixed(1)}% (${formatMs(validation.ms)} of ${Math.round(ours!.median)} ms)`,
      met: share === undefined ? undefined : share < 0.05,
    });
  }
  if (promotion) {
    for (const c of promotion.commands) {
      targets.push({
        name: `${c.command} (100 releases, 1000 records)`,
        goal: "< 1 s",
        measured: c.wallMs ? `${formatMs(c.wallMs)} ms` : (c.note ?? "-"),
        met: c.wallMs ? c.wallMs.median < 1000 : undefined,
      });
    }
    if (promotion.commands.length === 0)
      targets.push({
        name: "promote / status",
        goal: "< 1 s",
        measured: promotion.note ?? "not measured",
        met: undefined,
      });
  }
  return targets;
}

/** What `--json` prints. */
interface SavedResult {
  readonly machine: MachineInfo;
  readonly sizes: readonly number[];
  readonly runs: number;
  readonly checks: readonly CheckResult[];
  readonly results: readonly VariantResult[];
  readonly coldStart?: ColdStartResult;
  readonly isolation?: IsolationResult;
  readonly promotion?: PromotionResult;
  readonly validation?: ValidationResult;
  readonly targets: readonly Target[];
}

interface MachineInfo {
  cpus: string;
  memory: string;
  node: string;
  loadBefore: string;
  loadAfter?: string;
}

function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: `${cpus.length} x ${cpus[0]?.model.trim() ?? "unknown cpu"}`,
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    node: process.version,
    loadBefore: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" "),
  };
}

function report(
  machine: MachineInfo,
  runs: number,
  checks: readonly CheckResult[],
  results: readonly VariantResult[],
  cold: ColdStartResult | undefined,
  isolation: IsolationResult | undefined,
  promotion: PromotionResult | undefined,
  targets: readonly Target[],
): string {
  const out: string[] = [];
  out.push(
    `Machine: ${machine.cpus}, ${machine.memory}, node ${machine.node}; load average before ${machine.loadBefore}, after ${machine.loadAfter}`,
  );
  out.push(`Each figure: median of ${runs} runs in fresh processes, ± spread = (max - min) / median.`);
  out.push("");
  out.push(
    "Object sets (kind, namespace, name; generated ConfigMap suffixes ignored) compared with ours before timing:",
  );
  for (const c of checks)
    out.push(
      `  ${String(c.apps).padStart(5)} apps  ${c.reference.padEnd(9)} ${c.sameSet ? "same objects" : "not checked"}${c.sameSet ? `, ${c.contentDiffers === 0 ? "identical content" : `${c.contentDiffers} objects with different content`}` : `: ${c.detail}`}`,
    );
  out.push("");
  const rows = results.map((r) => {
    const ours = find(results, "ours", r.apps);
    const byEval = r.variant === "ours" || r.variant === "bare" || r.variant === "bare-components";
    const base = byEval ? ours?.evalMs : ours?.wallMs;
    const mine = byEval ? r.evalMs : r.wallMs;
    return [
      String(r.apps),
      r.variant,
      r.objects !== undefined ? String(r.objects) : "-",
      r.registered !== undefined ? String(r.registered) : "-",
      formatMs(r.evalMs),
      formatMs(r.wallMs),
      r.objectsPerSecond ? String(Math.round(r.objectsPerSecond)) : "-",
      formatMb(r.maxRssKb),
      r.variant === "ours" ? "1.00x" : formatRatio(mine && base ? mine.median / base.median : undefined),
      r.note ?? "",
    ];
  });
  out.push(
    table(
      [
        "apps",
        "variant",
        "objects",
        "registered",
        "eval ms",
        "process ms",
        "objects/s",
        "peak RSS MB",
        "vs ours",
        "note",
      ],
      rows,
    ),
  );
  out.push("");
  out.push(
    "eval ms: inside the process, from before the SDK loads until every object is registered (ours, bare) or synthesised (cdk8s).",
  );
  out.push("process ms: the whole process (node start, TypeScript loading, for render also writing the YAML files).");
  out.push("vs ours: eval time for bare; process time for the others (against ours' process time).");
  out.push(
    "bare-components: the bare program wrapped in empty components shaped like ours (what the SDK charges per component).",
  );
  out.push(
    "kustomize: one base and one overlay for everything; kustomize-teams: a base and overlay per team, aggregated.",
  );
  if (results.some((r) => r.apps > LARGE_HEAP_FROM))
    out.push(
      `Above ${LARGE_HEAP_FROM} apps every node process ran with --max-old-space-size=${LARGE_HEAP_MB} (the default heap limit is about 4 GiB).`,
    );
  if (cold) {
    out.push("");
    out.push(`Cold start (${cold.teamCurrent.runs} runs, whole process, one-app team stack: ${cold.command}):`);
    out.push(`  npm run render, platform's contract current   ${formatMs(cold.teamCurrent)} ms`);
    out.push(`  npm run render -- --fresh (platform rendered) ${formatMs(cold.teamFresh)} ms`);
    out.push(`  node --import tsx tools/render.ts, current     ${formatMs(cold.teamTsx)} ms`);
    out.push(`  npm run render:compiled, contract current     ${formatMs(cold.teamCompiled)} ms`);
    out.push(`  node loading only @pulumi/pulumi and @pulumi/kubernetes   ${formatMs(cold.bareLoad)} ms`);
  }
  if (isolation) {
    out.push("");
    out.push("Provider SDKs loaded per stack (files of each package in require.cache after the run):");
    for (const s of isolation.stacks)
      out.push(
        `  ${s.stack.padEnd(12)} cloud ${s.cloud.padEnd(8)} aws ${String(s.aws).padStart(4)}  gcp ${String(s.gcp).padStart(4)}  kubernetes ${String(s.kubernetes).padStart(4)}  ${s.ok ? "ok" : "WRONG"}`,
      );
    out.push(`  ${isolation.summary}`);
  }
  if (promotion) {
    out.push("");
    out.push(`Promotion: ${promotion.note ?? ""}`);
    for (const c of promotion.commands)
      out.push(`  ${c.command.padEnd(8)} ${c.wallMs ? `${formatMs(c.wallMs)} ms (process)` : c.note}`);
  }
  out.push("");
  out.push(
    table(
      ["target", "goal", "measured", "met"],
      targets.map((t) => [t.name, t.goal, t.measured, t.met === undefined ? "n/a" : t.met ? "met" : "NO"]),
    ),
  );
  return out.join("\n");
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(e.stack ?? e.message);
    process.exit(1);
  },
);
