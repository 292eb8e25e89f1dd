import * as fs from "node:fs";
import { parseDocument } from "yaml";
import { z } from "zod";
import { UsageError } from "./errors";
import { vulnerabilityGateSchema, type VulnerabilityGate } from "./scan/gate";

/** `30m`, `1h`, `1h30m`, `2d`: days, hours, minutes, seconds. */
const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
/** A registry host (with a dot, a port or `localhost`) and an optional path, without scheme or trailing slash. */
const REGISTRY = /^(?:[a-z0-9.-]+\.[a-z0-9-]+|[a-z0-9.-]+:\d+|localhost)(?:\/[a-z0-9._-]+)*$/;
const STAGE_NAME = /^[a-z0-9][-a-z0-9]{0,62}$/;
/** The layer every environment has besides its teams: never a lane. */
export const PLATFORM = "platform";

const stageSchema = z.strictObject({
  /** The environment of this stage: a lane's stack here is `<environment>.<lane>`. @default the stage name */
  stack: z
    .string()
    .regex(STAGE_NAME, {
      message:
        "must be an environment name: lowercase letters, digits and '-' (the lane's stack is <environment>.<lane>)",
    })
    .optional(),
  /** Stages this one takes releases from. None: an entry stage, fed by `--release` (CI). */
  from: z.array(z.string()).default([]),
  /** Whether the release must be verified in `all` upstream stages or in `any` one. @default "all" */
  require: z.enum(["all", "any"]).default("all"),
  /** Time the release must have run verified upstream before it may come here, e.g. `1h`, `2d`. */
  soak: z
    .string()
    .regex(DURATION, { message: "must be a duration such as 30m, 1h, 1h30m or 2d" })
    .refine((s) => s !== "", { message: "must not be empty" })
    .optional(),
  /** Approvals (by distinct people) a release needs before it may be promoted here. @default 0 */
  approvals: z.number().int().min(0).max(10).default(0),
  /** The registry this stage pulls from (`host[/path]`): images become `<registry>/<path>@<same digest>`. */
  registry: z
    .string()
    .regex(REGISTRY, {
      message: "must be a registry host with an optional path, such as europe-docker.pkg.dev/my-project/my-repo",
    })
    .optional(),
  /** What the scans of a release's images must satisfy here (see promotion/scan/gate.ts). */
  vulnerabilities: vulnerabilityGateSchema
    .extend({
      /** Reports older than this do not count, e.g. `7d`. */
      maxAge: z
        .string()
        .regex(DURATION, { message: "must be a duration such as 12h or 7d" })
        .refine((s) => s !== "", { message: "must not be empty" })
        .optional(),
    })
    .optional(),
});

/** What a lane may set differently for a stage: its gates, never where the stage is or what feeds it. */
const laneOverrideSchema = stageSchema
  .pick({ soak: true, approvals: true, vulnerabilities: true, require: true })
  .partial();

const stagesFileSchema = z.strictObject({
  stages: z.record(z.string(), stageSchema),
  /** Per-lane overrides of stage settings: `lanes.<lane>.<stage>.{soak,approvals,vulnerabilities,require}`. */
  lanes: z.record(z.string(), z.record(z.string(), laneOverrideSchema)).optional(),
});

type StageInput = z.input<typeof stageSchema>;
/** A lane's override of one stage, as written in stages.yaml. */
export type LaneOverride = z.input<typeof laneOverrideSchema>;

/** One stage of the promotion graph. */
export interface Stage {
  readonly name: string;
  /** The environment the stage deploys to (`stack:` in stages.yaml, default the stage name). */
  readonly environment: string;
  /** The Pulumi stack of the stage: `<environment>.<lane>` for a lane's stages, the environment otherwise. */
  readonly stack: string;
  /** The lane (team) this stage is of, for a lane's stages. */
  readonly lane?: string;
  /** The settings the lane overrides for this stage (`lanes.<lane>.<stage>` in stages.yaml). */
  readonly overridden?: readonly string[];
  readonly from: readonly string[];
  readonly require: "all" | "any";
  /** Soak time in milliseconds (0 when none). */
  readonly soakMs: number;
  /** The soak time as written, for messages. */
  readonly soak?: string;
  readonly approvals: number;
  readonly registry?: string;
  /** The vulnerability gate, when the stage has one. */
  readonly vulnerabilities?: VulnerabilityGate;
}

/** The stages, in promotion order (every stage after all of its upstream stages). */
export interface Stages {
  readonly file: string;
  /** The lane these stages are of (their stacks are `<environment>.<lane>`), when they are a lane's. */
  readonly lane?: string;
  readonly ordered: readonly Stage[];
  get(name: string, flag?: string): Stage;
  /** Stages fed by `name`. */
  downstream(name: string): Stage[];
  /** The stages of one lane: stacks `<environment>.<lane>`, with the lane's overrides from stages.yaml. */
  forLane(lane: string): Stages;
  /** Lanes that stages.yaml overrides settings for. */
  readonly overriddenLanes: readonly string[];
}

/** Where stages.yaml sets `key` of a stage, for messages: the lane's override when it has one. */
export function settingKey(stage: Pick<Stage, "name" | "lane" | "overridden">, key: string): string {
  return stage.overridden?.includes(key) ? `lanes.${stage.lane}.${stage.name}.${key}` : `stages.${stage.name}.${key}`;
}

/** ` --lane <lane>` for commands printed about a lane's stage, so they can be pasted as they are. */
export function laneArg(stage: Pick<Stage, "lane">): string {
  return stage.lane === undefined ? "" : ` --lane ${stage.lane}`;
}

/** Milliseconds in a duration such as `1h30m`. */
export function parseDuration(text: string): number {
  const m = DURATION.exec(text);
  if (!m || text === "") throw new UsageError(`"${text}" is not a duration (e.g. 30m, 1h, 1h30m, 2d)`);
  const [d, h, min, s] = m.slice(1).map((x) => Number(x ?? 0));
  return (((d * 24 + h) * 60 + min) * 60 + s) * 1000;
}

/** `1d 2h`, `3h 05m`, `12m`, `40s`: a duration for people. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const d = Math.floor(s / 86400),
    h = Math.floor((s % 86400) / 3600),
    m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}

/** Reads and checks the stage definition (`stacks/stages.yaml`). Problems are usage errors naming the key. */
export function loadStages(file: string): Stages {
  if (!fs.existsSync(file))
    throw new UsageError(`${file}: not found; it defines the promotion stages (see docs/promotion.md)`);
  const doc = parseDocument(fs.readFileSync(file, "utf8"));
  if (doc.errors.length > 0) throw new UsageError(`${file}: not valid YAML: ${doc.errors[0].message}`);
  const parsed = stagesFileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    throw new UsageError(
      `${file}: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"} ${i.message}`).join("; ")}`,
    );
  }
  const stages = buildStages(file, parsed.data.stages, parsed.data.lanes);
  // Every lane's overrides are checked now, not when that lane is first used.
  for (const lane of stages.overriddenLanes) stages.forLane(lane);
  return stages;
}

/** Builds the graph from parsed definitions; exported for tests that define stages in code. */
export function buildStages(
  file: string,
  defs: Record<string, StageInput>,
  lanes: Record<string, Record<string, LaneOverride>> = {},
  lane?: string,
): Stages {
  const problems: string[] = [];
  for (const [l, overrides] of Object.entries(lanes)) {
    if (!STAGE_NAME.test(l) || l === PLATFORM)
      problems.push(`lanes.${l}: a lane is a team: lowercase letters, digits and '-', not "${PLATFORM}"`);
    for (const st of Object.keys(overrides)) {
      if (!Object.hasOwn(defs, st))
        problems.push(`lanes.${l}.${st} names "${st}", which is not a stage (stages: ${Object.keys(defs).join(", ")})`);
    }
  }
  // A lane's override replaces the stage's settings it names, and only those.
  const own = lane !== undefined && Object.hasOwn(lanes, lane) ? lanes[lane] : {};
  const byName = new Map<string, Stage>();
  for (const [name, written] of Object.entries(defs)) {
    const override = Object.hasOwn(own, name) ? own[name] : {};
    const def = stageSchema.parse({
      ...written,
      ...Object.fromEntries(Object.entries(override).filter(([, v]) => v !== undefined)),
    });
    if (!STAGE_NAME.test(name)) problems.push(`stages.${name}: a stage name must be lowercase letters, digits and '-'`);
    for (const up of def.from) {
      if (!Object.hasOwn(defs, up))
        problems.push(
          `stages.${name}.from names "${up}", which is not a stage (stages: ${Object.keys(defs).join(", ")})`,
        );
      if (up === name) problems.push(`stages.${name}.from must not name the stage itself`);
    }
    if (def.from.length === 0 && def.soak)
      problems.push(
        `${override.soak ? `lanes.${lane}.${name}` : `stages.${name}`}.soak is counted from the upstream verification, so it needs "from"`,
      );
    const environment = def.stack ?? name;
    byName.set(name, {
      name,
      environment,
      stack: lane === undefined ? environment : `${environment}.${lane}`,
      ...(lane !== undefined
        ? { lane, overridden: Object.keys(override).filter((k) => override[k as keyof LaneOverride] !== undefined) }
        : {}),
      from: def.from,
      require: def.require,
      soak: def.soak,
      soakMs: def.soak ? parseDuration(def.soak) : 0,
      approvals: def.approvals,
      registry: def.registry,
      ...(def.vulnerabilities
        ? {
            vulnerabilities: {
              ...def.vulnerabilities,
              maxAgeMs: def.vulnerabilities.maxAge ? parseDuration(def.vulnerabilities.maxAge) : undefined,
            },
          }
        : {}),
    });
  }
  if (byName.size === 0) problems.push("stages: define at least one stage");
  const ordered: Stage[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (s: Stage, trail: string[]): void => {
    if (state.get(s.name) === "done") return;
    if (state.get(s.name) === "visiting") {
      problems.push(`stages: the "from" links form a cycle: ${[...trail, s.name].join(" -> ")}`);
      return;
    }
    state.set(s.name, "visiting");
    for (const up of s.from) {
      const u = byName.get(up);
      if (u && u !== s) visit(u, [...trail, s.name]);
    }
    state.set(s.name, "done");
    ordered.push(s);
  };
  for (const s of byName.values()) visit(s, []);
  if (problems.length > 0) throw new UsageError(`${file}: ${[...new Set(problems)].join("; ")}`);
  return {
    file,
    ...(lane !== undefined ? { lane } : {}),
    ordered,
    get(name: string, flag = "<stage>"): Stage {
      const s = byName.get(name);
      if (!s)
        throw new UsageError(
          `${flag} "${name}" is not a stage in ${file} (stages: ${ordered.map((x) => x.name).join(", ")})`,
        );
      return s;
    },
    downstream(name: string): Stage[] {
      return ordered.filter((s) => s.from.includes(name));
    },
    forLane(l: string): Stages {
      return buildStages(file, defs, lanes, l);
    },
    overriddenLanes: Object.keys(lanes),
  };
}
