import * as path from "node:path";
import { isMap, Pair, Scalar, YAMLMap, type Node as YamlNode } from "yaml";
import { NAMESPACE, RESERVED_TEAM_NAMES, teamSchema } from "../../config";
import {
  asRecord,
  compact,
  configValue,
  entryStage,
  knownTeams,
  laneEnvironments,
  nameProblem,
  PRINCIPAL_PLACEHOLDER,
  readPlatformFile,
  renderEdited,
  teamNames,
  teamStackText,
  writtenKey,
} from "./edit";
import { addReview, undoneReview, type TeamReport } from "./report";
import { validate } from "./stage";
import { recoverInterrupted, swapFiles } from "./transaction";
import { openWorkspace, rel, stackPath, teamsKey, TeamRefused, TeamUsageError, type TeamContext } from "./workspace";

/** What `add` is asked for. */
export interface AddRequest {
  readonly name: string;
  readonly maintainers?: readonly string[];
  readonly viewers?: readonly string[];
  /** @default every environment (each one with a `<env>.platform` stack) */
  readonly environments?: readonly string[];
}

/** Provisions a team in the platform stacks and creates its team stacks; validates, then writes all or nothing. */
export async function addTeam(ctx: TeamContext, req: AddRequest): Promise<TeamReport> {
  const undone = recoverInterrupted(openWorkspace(ctx));
  const ws = openWorkspace(ctx);
  const bad = nameProblem(req.name);
  if (bad) throw new TeamUsageError(bad);
  const name = req.name;
  if (RESERVED_TEAM_NAMES.has(name))
    throw new TeamRefused([`"${name}" cannot be a team name: the stack <env>.${name} is the platform's own`]);
  if (ws.envs.length === 0)
    throw new TeamRefused([
      `${path.relative(ws.project.dir, ws.project.stackConfigDir) || "."}: no platform stack (Pulumi.<env>.platform.yaml): a team is added to an environment's platform`,
    ]);
  const envs = req.environments ?? ws.envs;
  const unknown = envs.filter((e) => !ws.envs.includes(e));
  if (unknown.length > 0)
    throw new TeamUsageError(
      `--environments names ${unknown.map((e) => `"${e}"`).join(", ")}, which ${unknown.length > 1 ? "are not environments" : "is not an environment"} (environments: ${ws.envs.join(", ")})`,
    );
  if (envs.length === 0) throw new TeamUsageError("--environments names no environment");

  const platforms = ws.envs.map((env) => readPlatformFile(ws, env));
  const known = knownTeams(ws, platforms);
  if (known.has(name)) {
    // A team may be added to more environments later; never twice to one.
    const here = (env: string) => [
      ...platforms
        .filter((p) => p.env === env && teamNames(ws, p).includes(name))
        .map((p) => `${rel(ws, p.file)} (${teamsKey}.${name})`),
      ...ws.stacks.filter((s) => s === `${env}.${name}`).map((s) => rel(ws, stackPath(ws, s))),
    ];
    const where = envs.flatMap(here);
    if (where.length > 0) {
      const elsewhere = ws.envs.filter((e) => here(e).length === 0);
      throw new TeamRefused([
        `team "${name}" already exists: ${where.join(", ")}; choose another name, or edit those files${elsewhere.length > 0 ? ` (to add it to the other environments: --environments ${elsewhere.join(",")})` : ""}`,
      ]);
    }
  }
  // Names that differ only by '-' make namespaces, roles and lanes a reader cannot tell apart.
  const squash = (n: string) => n.replace(/-/g, "");
  const twin = [...known].find((t) => t !== name && squash(t) === squash(name));
  if (twin !== undefined)
    throw new TeamRefused([
      `team "${name}" would be confused with the existing team "${twin}" (the names differ only by '-'); choose a distinct name`,
    ]);

  const maintainers = req.maintainers ?? [];
  const viewers = req.viewers ?? [];
  const defaults = JSON.parse(JSON.stringify(teamSchema.parse({}))) as Record<string, unknown>;
  const changes = new Map<string, string | null>();
  const originals = new Map<string, string | undefined>();
  const review: string[] = [];
  const placeholders: string[] = [];

  for (const p of platforms.filter((x) => envs.includes(x.env))) {
    const plain = asRecord(asRecord(p.doc.toJS())?.config) ?? {};
    const production = configValue(ws, plain, `${NAMESPACE}:production`) === true;
    const cluster = asRecord(configValue(ws, plain, `${NAMESPACE}:cluster`));
    const key = p.teamsKey ?? teamsKey;
    const found: unknown = p.config.get(key, true);
    const teams = isMap(found) ? found : new YAMLMap();
    if (teams !== found) p.config.set(key, teams);
    const entry = p.doc.createNode({
      groups: { maintainers, viewers },
      podSecurity: defaults.podSecurity,
      quota: defaults.quota,
      limits: defaults.limits,
    }) as YAMLMap;
    compact(entry.get("groups", true));
    for (const k of ["default", "defaultRequest", "max", "maxLimitRequestRatio"])
      compact((entry.get("limits", true) as unknown as YAMLMap).get(k, true));
    const teamKey = new Scalar(name);
    teamKey.commentBefore = ` Added by \`npm run team -- add\`: the schema's default quota and limits; size them to the team's apps.\n Hosts it may serve (hosts: [...]) and cloud identities it may bind (identities: {...}): see docs/teams.md.`;
    teams.add(new Pair(teamKey, entry));

    // A production EKS cluster needs to know who may act as each team group (config rule on aws.groupPrincipals).
    const aws = cluster?.cloud === "aws" ? (asRecord(cluster.aws) ?? {}) : undefined;
    if (production && aws) {
      const mapped = new Set([
        ...Object.keys(asRecord(aws.groupRoles) ?? {}),
        ...Object.keys(asRecord(aws.groupPrincipals) ?? {}),
      ]);
      const clusterKey = writtenKey(ws, p.config, `${NAMESPACE}:cluster`) ?? `${NAMESPACE}:cluster`;
      for (const group of [...new Set([...maintainers, ...viewers])].filter((g) => !mapped.has(g))) {
        const at = ["config", clusterKey, "aws", "groupPrincipals"];
        if (!isMap(p.doc.getIn(at, true))) p.doc.setIn(at, new YAMLMap());
        const principals = p.doc.getIn(at, true) as YAMLMap;
        const groupKey = new Scalar(group);
        groupKey.commentBefore = ` REPLACE: who may act as "${group}" (IAM role ARNs, e.g. its IAM Identity Center permission-set role). This placeholder trusts no one.`;
        const list = p.doc.createNode([PRINCIPAL_PLACEHOLDER(group)]) as YamlNode & { flow?: boolean };
        list.flow = true;
        principals.add(new Pair(groupKey, list));
        placeholders.push(
          `${rel(ws, p.file)}: ${NAMESPACE}:cluster.aws.groupPrincipals.${group} is a placeholder (trusts no one): replace it with the role ARNs of the people in "${group}" before \`pulumi up -s ${p.env}.platform\``,
        );
      }
    }
    changes.set(p.file, renderEdited(p));
    originals.set(p.file, p.text);
    const teamFile = stackPath(ws, `${p.env}.${name}`);
    changes.set(teamFile, teamStackText(p.env, name, production));
    originals.set(teamFile, undefined);
  }

  await validate(
    ctx,
    ws,
    changes,
    envs.map((env) => `${env}.${name}`),
  );
  swapFiles(changes, originals, ws);

  const created = [...changes.keys()].filter((f) => originals.get(f) === undefined).map((f) => rel(ws, f));
  const changed = [...changes.keys()].filter((f) => originals.get(f) !== undefined).map((f) => rel(ws, f));
  const missingLanes = laneEnvironments(ws).filter((e) => !envs.includes(e) && !ws.stacks.includes(`${e}.${name}`));
  const entry = entryStage(ws);
  return {
    created,
    changed,
    removed: [],
    review: [
      ...undoneReview(undone),
      ...review,
      ...addReview({
        name,
        envs,
        created,
        changed,
        placeholders,
        groups: maintainers.length + viewers.length,
        missingLanes,
        entryStage: entry && envs.includes(entry.environment) ? entry.name : undefined,
      }),
    ],
  };
}
