import * as fs from "node:fs";
import * as path from "node:path";
import { measureProcess } from "./measure";
import { summarise, type Summary } from "./stats";
import { BENCH_DIR, ROOT } from "./workspace";
import { fakeDigest } from "./synth";

/**
 * Times `status` and `promote` on long histories: a project with 20 lanes (teams), each with its own
 * team stack files, 100 releases and 1,000 audit records (each release promoted and verified through
 * every stage, the last one verified in dev only), written through the release store and the
 * history's own chaining (`chainRecord`) so the files are exactly what the commands write, hash
 * chains included. The stages are the project's stacks/stages.yaml; the team stack files are written
 * here, so the figures do not depend on the shipped stacks. Each `promote` run starts from a fresh copy.
 */

/** Figures of one command. */
export interface CommandTiming {
  readonly command: string;
  readonly wallMs?: Summary;
  readonly note?: string;
}

/** All promotion figures. */
export interface PromotionResult {
  /** Lanes, and releases and records per lane. */
  readonly lanes: number;
  readonly releases: number;
  readonly records: number;
  readonly commands: readonly CommandTiming[];
  readonly note?: string;
}

const LANES = 20;
const RELEASES = 100;
const RECORDS = 1000;
const ACTOR = "bench <bench@example.com>";
const DAY = 24 * 3600 * 1000;

type Stores = {
  ReleaseStore: typeof import("../../promotion/release").ReleaseStore;
  chainRecord: typeof import("../../promotion/history").chainRecord;
  loadStages: typeof import("../../promotion/stages").loadStages;
  readPointer: typeof import("../../promotion/pointer").readPointer;
  writePointer: typeof import("../../promotion/pointer").writePointer;
  pulledImages: typeof import("../../promotion/commands").pulledImages;
};

async function loadStores(): Promise<Stores> {
  const [release, history, stages, pointer, commands] = await Promise.all([
    import("../../promotion/release"),
    import("../../promotion/history"),
    import("../../promotion/stages"),
    import("../../promotion/pointer"),
    import("../../promotion/commands"),
  ]);
  return {
    ReleaseStore: release.ReleaseStore,
    chainRecord: history.chainRecord,
    loadStages: stages.loadStages,
    readPointer: pointer.readPointer,
    writePointer: pointer.writePointer,
    pulledImages: commands.pulledImages,
  };
}

/**
 * The lanes of the bench project: the teams stages.yaml overrides settings for (they must exist),
 * then `team-NN` up to {@link LANES}.
 */
function laneNames(overridden: readonly string[]): string[] {
  const names = [...overridden];
  for (let i = 1; names.length < LANES; i++) {
    const name = `team-${String(i).padStart(2, "0")}`;
    if (!names.includes(name)) names.push(name);
  }
  return names.slice(0, LANES);
}

/** A team stack file as the layered program reads it: two apps on the image `app`, a pointer with no release yet. */
function teamStackText(team: string, environment: string): string {
  return [
    "config:",
    "  blueprint:layer: team",
    `  blueprint:team: ${team}`,
    `  blueprint:production: ${environment.startsWith("prod")}`,
    "  blueprint:release:",
    "    images:",
    `      app: ghcr.io/acme/app@${fakeDigest("initial")}`,
    "  blueprint:apps:",
    "    web: { image: app, port: 8080 }",
    "    worker: { image: app, port: 8080 }",
    "",
  ].join("\n");
}

/** Builds the long-history project in `dir`; returns the lane and stage `promote` is timed on. */
export function buildHistory(
  s: Stores,
  dir: string,
  now: Date,
): { lane: string; stage: string; lanes: number; records: number } {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, "stacks"), { recursive: true });
  fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  const stacksDir = path.join(dir, "stacks");
  fs.copyFileSync(path.join(ROOT, "stacks", "stages.yaml"), path.join(stacksDir, "stages.yaml"));
  const all = s.loadStages(path.join(stacksDir, "stages.yaml"));
  const lanes = laneNames(all.overriddenLanes);
  for (const lane of lanes) {
    for (const env of new Set(all.ordered.map((st) => st.environment)))
      fs.writeFileSync(path.join(stacksDir, `Pulumi.${env}.${lane}.yaml`), teamStackText(lane, env));
  }
  let records = 0;
  let stage = "";
  for (const lane of lanes) {
    const built = buildLane(s, stacksDir, all.forLane(lane), lane, now);
    records = built.records;
    stage = built.stage;
  }
  return { lane: lanes[0], stage, lanes: lanes.length, records };
}

/** One lane's releases and history (see {@link buildHistory}). */
function buildLane(
  s: Stores,
  stacksDir: string,
  stages: ReturnType<Stores["loadStages"]>,
  lane: string,
  now: Date,
): { stage: string; records: number } {
  const order = stages.ordered;
  const entry = order.find((st) => st.from.length === 0);
  const next = order.find((st) => entry && st.from.includes(entry.name));
  if (!entry || !next) throw new Error("promotion bench: stages.yaml needs an entry stage and a stage fed by it");
  const releases = new s.ReleaseStore(path.join(stacksDir, "releases", lane));
  const historyDir = path.join(stacksDir, "history", lane);
  // Records are chained here as the store chains them, without re-reading each chain per record.
  const tails = new Map<string, ReturnType<Stores["chainRecord"]>["stored"]>();
  const stackFile = (stage: string) => path.join(stacksDir, `Pulumi.${stages.get(stage).stack}.yaml`);

  const start = now.getTime() - (RELEASES + 2) * DAY;
  let records = 0;
  const add = (rec: Parameters<Stores["chainRecord"]>[0]) => {
    const { name, text, stored } = s.chainRecord(rec, tails.get(rec.stage), lane);
    fs.mkdirSync(path.join(historyDir, rec.stage), { recursive: true });
    fs.writeFileSync(path.join(historyDir, rec.stage, name), text);
    tails.set(rec.stage, stored);
    records++;
  };
  const verification = (stage: string, release: string, at: string) =>
    add({
      kind: "verification",
      stage,
      release,
      at,
      by: ACTOR,
      result: "passed",
      problems: [],
      problemCount: 0,
      evidence: [
        {
          source: `outputs:${stage}-outputs.json`,
          sha256: "0".repeat(64),
          bytes: 400,
          stack: stages.get(stage).stack,
          images: 2,
        },
      ],
    });
  const images = (ref: string) => {
    const apps = s.readPointer(stackFile(entry.name), entry.name, lane).appImages;
    return Object.fromEntries(
      [...new Set(Object.values(apps))].map((img) => [
        img,
        `ghcr.io/acme/${img}@${fakeDigest(`${lane}-${img}-${ref}`)}`,
      ]),
    );
  };
  const current = new Map<string, { id: string; images: Record<string, string> } | undefined>();
  for (let i = 1; i <= RELEASES; i++) {
    const t0 = start + i * DAY;
    const commit = fakeDigest(`commit-${lane}-${i}`).slice("sha256:".length, "sha256:".length + 40);
    const { release } = releases.create(images(String(i)), commit, new Date(t0), ACTOR);
    // The last release has only reached the entry stage: it is what `promote` moves on.
    const path_ = i === RELEASES ? [entry] : order;
    let t = t0;
    for (const st of path_) {
      const at = () => new Date((t += 60_000)).toISOString();
      const before = current.get(st.name);
      for (let a = 0; a < st.approvals; a++) {
        add({
          kind: "approval",
          stage: st.name,
          release: release.id,
          at: at(),
          by: `approver-${a} <a${a}@example.com>`,
        });
      }
      add({
        kind: "promotion",
        stage: st.name,
        release: release.id,
        at: at(),
        by: ACTOR,
        from: before?.id ?? null,
        upstream: [...st.from],
        before: before?.images ?? {},
        images: { ...release.images },
      });
      current.set(st.name, { id: release.id, images: { ...release.images } });
      verification(st.name, release.id, at());
    }
  }
  // Periodic re-verification of the entry stage fills the history up to the round number.
  let t = start + (RELEASES + 1) * DAY;
  const last = current.get(entry.name)!;
  while (records < RECORDS) {
    verification(entry.name, last.id, new Date((t += 60_000)).toISOString());
  }
  for (const [stage, ptr] of current) {
    const file = stackFile(stage);
    s.writePointer(file, stage, s.readPointer(file, stage, lane).pointer, ptr!, lane);
  }
  return { stage: next.name, records };
}

/** Times `status` and `promote <stage>` on the long history; reports a gap when the CLI is missing. */
export async function promotionTiming(runs: number, log: (s: string) => void): Promise<PromotionResult> {
  const cli = path.join(ROOT, "promotion/cli.ts");
  if (!fs.existsSync(cli))
    return {
      lanes: LANES,
      releases: RELEASES,
      records: RECORDS,
      commands: [],
      note: "not measured: promotion/cli.ts does not exist yet",
    };
  let stores: Stores;
  try {
    stores = await loadStores();
  } catch (e) {
    return {
      lanes: LANES,
      releases: RELEASES,
      records: RECORDS,
      commands: [],
      note: `not measured: the promotion modules did not load (${(e as Error).message.split("\n")[0]})`,
    };
  }
  const pristine = path.join(BENCH_DIR, "promotion", "pristine");
  const work = path.join(BENCH_DIR, "promotion", "work");
  log(`bench: promotion: writing ${LANES} lanes of ${RELEASES} releases and ${RECORDS} records`);
  const { lane, stage, lanes, records } = buildHistory(stores, pristine, new Date());
  const env = { ...process.env, BLUEPRINT_ACTOR: ACTOR };
  const node = [process.execPath, "--import", "tsx", cli];
  const commands: CommandTiming[] = [];
  const cache = path.join(pristine, "stacks", "history", ".cache");
  // status only writes its read cache, so it runs in the pristine copy: once without the cache (a
  // fresh clone, a CI job), then again with it (any later run on the same checkout).
  const timed: { name: string; args: string[]; before: () => void; cwd: string }[] = [
    {
      name: `status, ${lanes} lanes, first run,`,
      args: ["status"],
      before: () => fs.rmSync(cache, { recursive: true, force: true }),
      cwd: pristine,
    },
    { name: `status, ${lanes} lanes, again,`, args: ["status"], before: () => undefined, cwd: pristine },
    { name: "status --lane, again,", args: ["status", "--lane", lane], before: () => undefined, cwd: pristine },
    {
      name: `promote ${stage}`,
      args: ["promote", stage, "--lane", lane],
      before: () => {
        fs.rmSync(work, { recursive: true, force: true });
        fs.cpSync(pristine, work, { recursive: true });
      },
      cwd: work,
    },
  ];
  const times = new Map<string, number[]>(timed.map((t) => [t.name, []]));
  const notes = new Map<string, string>();
  for (let r = 1; r <= runs; r++) {
    for (const t of timed) {
      if (notes.has(t.name)) continue;
      t.before();
      log(`bench: promotion: ${t.name} run ${r}/${runs}`);
      const run = await measureProcess(node[0], [...node.slice(1), ...t.args], { cwd: t.cwd, env });
      if (run.code !== 0)
        notes.set(
          t.name,
          `failed (exit ${run.code}): ${(run.stderr || run.stdout).trim().split("\n").slice(0, 3).join(" ")}`,
        );
      else times.get(t.name)!.push(run.wallMs);
    }
  }
  for (const t of timed) {
    const got = times.get(t.name)!;
    commands.push({ command: t.name, wallMs: got.length ? summarise(got) : undefined, note: notes.get(t.name) });
  }
  return {
    lanes,
    releases: RELEASES,
    records,
    commands,
    note: `${lanes} lanes, each with ${RELEASES} releases and ${records} history records; stages from stacks/stages.yaml; whole-process time of \`node --import tsx promotion/cli.ts ...\``,
  };
}

/** `node --import tsx tools/bench/promotion.ts [runs]`: the promotion figures alone. */
if (require.main === module) {
  const runs = Number(process.argv[2] ?? 5);
  promotionTiming(Number.isInteger(runs) && runs > 0 ? runs : 5, (s) => console.error(s)).then(
    (r) => {
      console.log(r.note ?? "");
      for (const c of r.commands)
        console.log(
          `${c.command.padEnd(32)} ${c.wallMs ? `median ${c.wallMs.median.toFixed(0)} ms, min ${c.wallMs.min.toFixed(0)}, max ${c.wallMs.max.toFixed(0)} (${c.wallMs.runs} runs)` : c.note}`,
        );
    },
    (e: Error) => {
      console.error(`bench: promotion: ${e.message}`);
      process.exit(1);
    },
  );
}
