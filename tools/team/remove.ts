import * as fs from "node:fs";
import * as path from "node:path";
import { isMap, parse as parseYaml, type YAMLMap } from "yaml";
import { NAMESPACE, RESERVED_TEAM_NAMES } from "../../config";
import {
  asRecord,
  configValue,
  knownTeams,
  nameProblem,
  ownFile,
  parseYamlQuiet,
  readPlatformFile,
  renderEdited,
  teamNames,
  writtenKey,
} from "./edit";
import { removeReview, undoneReview, type TeamReport } from "./report";
import { validate } from "./stage";
import { recoverInterrupted, swapFiles } from "./transaction";
import { openWorkspace, rel, stackPath, teamsKey, TeamRefused, TeamUsageError, type TeamContext } from "./workspace";

/** Removes a team that has nothing left: no apps, volumes or release in any environment. */
export async function removeTeam(ctx: TeamContext, name: string): Promise<TeamReport> {
  const undone = recoverInterrupted(openWorkspace(ctx));
  const ws = openWorkspace(ctx);
  const bad = nameProblem(name);
  if (bad) throw new TeamUsageError(bad);
  if (RESERVED_TEAM_NAMES.has(name))
    throw new TeamRefused([`"${name}" is not a team: the stack <env>.${name} is the platform's own`]);
  const platforms = ws.envs.map((env) => readPlatformFile(ws, env));
  const withEntry = platforms.filter((p) => teamNames(ws, p).includes(name));
  const teamStacks = ws.stacks.filter((s) => s.slice(s.indexOf(".") + 1) === name);
  if (withEntry.length === 0 && teamStacks.length === 0) {
    throw new TeamRefused([
      `there is no team "${name}" (teams: ${[...knownTeams(ws, platforms)].sort().join(", ") || "none"})`,
    ]);
  }

  const blockers: string[] = [];
  for (const stack of teamStacks) {
    const file = rel(ws, stackPath(ws, stack));
    let config: Record<string, unknown>;
    try {
      config = asRecord(asRecord(parseYaml(fs.readFileSync(ownFile(ws, stackPath(ws, stack)), "utf8")))?.config) ?? {};
    } catch (e) {
      blockers.push(
        `${file}: not valid YAML (${(e as Error).message.split("\n")[0]}): cannot tell whether the team still has apps; repair it first`,
      );
      continue;
    }
    for (const what of ["apps", "volumes"] as const) {
      const value = configValue(ws, config, `${NAMESPACE}:${what}`);
      if (value === undefined || value === null) continue;
      const entries = asRecord(value);
      if (!entries)
        blockers.push(
          `${file}: ${NAMESPACE}:${what} is not a map: cannot tell whether the team still has ${what}; repair it first`,
        );
      else if (Object.keys(entries).length > 0) {
        blockers.push(
          `${file}: ${NAMESPACE}:${what} still has ${Object.keys(entries).join(", ")}: remove ${what === "apps" ? "the apps" : "the volumes (and their data)"} and \`pulumi up -s ${stack}\` first`,
        );
      }
    }
    const release = asRecord(configValue(ws, config, `${NAMESPACE}:release`));
    if (release?.id !== undefined)
      blockers.push(
        `${file}: ${NAMESPACE}:release.id is ${JSON.stringify(release.id)}: the team has a release; a team with releases is kept`,
      );
    else if (Object.keys(asRecord(release?.images) ?? {}).length > 0)
      blockers.push(
        `${file}: ${NAMESPACE}:release.images is not empty: the team has a release pointer; a team with releases is kept`,
      );
  }
  for (const dir of ["releases", "history"]) {
    const where = path.join(ws.project.stackConfigDir, dir, name);
    if (fs.existsSync(where))
      blockers.push(
        `${rel(ws, where)}/: the team has ${dir === "releases" ? "release files" : "promotion history"}, its audit trail: a team with releases is kept`,
      );
  }
  const stagesFile = path.join(ws.project.stackConfigDir, "stages.yaml");
  if (fs.existsSync(stagesFile)) {
    const lanes = asRecord(asRecord(parseYamlQuiet(fs.readFileSync(stagesFile, "utf8")))?.lanes);
    if (lanes && Object.hasOwn(lanes, name))
      blockers.push(`${rel(ws, stagesFile)}: lanes.${name} overrides stages for this team: remove that entry first`);
  }
  if (blockers.length > 0) throw new TeamRefused(blockers);

  const changes = new Map<string, string | null>();
  const originals = new Map<string, string | undefined>();
  const review: string[] = [];
  for (const p of withEntry) {
    const plain = asRecord(asRecord(p.doc.toJS())?.config) ?? {};
    const teams = asRecord(configValue(ws, plain, teamsKey)) ?? {};
    const groupsOf = (t: unknown) => {
      const g = asRecord(asRecord(t)?.groups) ?? {};
      return [
        ...(Array.isArray(g.maintainers) ? g.maintainers : []),
        ...(Array.isArray(g.viewers) ? g.viewers : []),
      ].map(String);
    };
    const stillUsed = new Set(
      Object.entries(teams)
        .filter(([t]) => t !== name)
        .flatMap(([, t]) => groupsOf(t)),
    );
    (p.config.get(p.teamsKey, true) as unknown as YAMLMap).delete(name);
    // The cluster refuses group mappings no team uses, so the team's own go with it.
    const clusterKey = writtenKey(ws, p.config, `${NAMESPACE}:cluster`);
    const orphans = groupsOf(teams[name]).filter((g) => !stillUsed.has(g));
    for (const map of ["groupRoles", "groupPrincipals"]) {
      const at = ["config", clusterKey ?? `${NAMESPACE}:cluster`, "aws", map];
      const node = clusterKey ? p.doc.getIn(at, true) : undefined;
      if (!isMap(node)) continue;
      for (const g of orphans)
        if (node.has(g)) {
          node.delete(g);
          review.push(
            `${rel(ws, p.file)}: removed ${NAMESPACE}:cluster.aws.${map}.${g} (no other team uses the group)`,
          );
        }
    }
    changes.set(p.file, renderEdited(p));
    originals.set(p.file, p.text);
  }
  for (const stack of teamStacks) {
    changes.set(stackPath(ws, stack), null);
    originals.set(stackPath(ws, stack), fs.readFileSync(stackPath(ws, stack), "utf8"));
  }

  await validate(ctx, ws, changes, []);
  swapFiles(changes, originals, ws);

  const touched = withEntry.map((p) => ({
    env: p.env,
    production:
      configValue(ws, asRecord(asRecord(parseYaml(p.text))?.config) ?? {}, `${NAMESPACE}:production`) === true,
  }));
  return {
    created: [],
    changed: withEntry.map((p) => rel(ws, p.file)),
    removed: teamStacks.map((s) => rel(ws, stackPath(ws, s))),
    review: [...undoneReview(undone), ...review, ...removeReview({ name, teamStacks, platforms: touched })],
  };
}
