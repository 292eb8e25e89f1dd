import { NAMESPACE } from "../../config";
import { teamsKey } from "./workspace";

/** What a command did: the files it changed, and what to review and run next. */
export interface TeamReport {
  readonly created: readonly string[];
  readonly changed: readonly string[];
  readonly removed: readonly string[];
  /** Lines for the reader: what to check in the files, and the next commands. */
  readonly review: readonly string[];
}

/** What `add` did, for its review lines. */
export interface AddOutcome {
  readonly name: string;
  readonly envs: readonly string[];
  readonly created: readonly string[];
  readonly changed: readonly string[];
  /** Lines naming the placeholders written (group principals that trust no one). */
  readonly placeholders: readonly string[];
  /** How many groups (maintainers and viewers) were given. */
  readonly groups: number;
  /** Stage environments the lane still lacks a team stack in. */
  readonly missingLanes: readonly string[];
  /** The promotion stage a first release enters by (stacks/stages.yaml), when the team was added to its environment. */
  readonly entryStage?: string;
}

/** What an interrupted earlier run left, and that this run put back first. */
export function undoneReview(files: readonly string[]): string[] {
  return files.length
    ? [
        `an earlier run was interrupted while it replaced files; they were put back as they were first: ${files.join(", ")}`,
      ]
    : [];
}

/** The review and next-step lines of `add`. */
export function addReview(o: AddOutcome): string[] {
  const lines = [
    ...o.placeholders,
    `${o.changed.join(", ")}: ${teamsKey}.${o.name} has the default quota and limits${o.groups === 0 ? " and no groups (only the platform's admins can act in the namespace; give --maintainers/--viewers or edit groups)" : ""}: check them`,
    "Next:",
    `  1. add the team's apps under ${NAMESPACE}:apps of ${o.created.join(", ")} (docs/teams.md; the commented example works once its image is released)`,
    `  2. release the image the apps name and bring it to the first stage: no app renders without a release${o.entryStage ? `:\n       npm run release -- create --lane ${o.name} --image web=<repo>@sha256:<64 hex>\n       npm run promote -- ${o.entryStage} --lane ${o.name} --release <the id it prints>` : ` (npm run release -- create --lane ${o.name} ..., then npm run promote -- <first stage> --lane ${o.name} --release <id>)`}`,
    `  3. check: npm run render -- ${o.envs[0]}, and commit the files above`,
    ...o.envs.map(
      (env, i) =>
        `  ${i + 4}. pulumi up -s ${env}.platform   (namespace "${o.name}", its guardrails and contract), then: pulumi stack init ${env}.${o.name} && pulumi up -s ${env}.${o.name}`,
    ),
  ];
  if (o.missingLanes.length > 0)
    lines.push(
      `Promotion: lane "${o.name}" needs a team stack in every stage's environment of stacks/stages.yaml; missing: ${o.missingLanes.join(", ")} (run add again for those when the team is ready for them)`,
    );
  return lines;
}

/** The next-step lines of `remove`. */
export function removeReview(o: {
  readonly name: string;
  readonly teamStacks: readonly string[];
  readonly platforms: readonly { readonly env: string; readonly production: boolean }[];
}): string[] {
  return [
    "Next:",
    ...o.teamStacks.map(
      (s) =>
        `  if stack ${s} exists in your backend: pulumi destroy -s ${s} && pulumi stack rm ${s}   (it has no apps, so nothing but the stack goes)`,
    ),
    ...o.platforms.map((p) =>
      p.production
        ? `  pulumi up -s ${p.env}.platform: the namespace "${o.name}" is protected in production (protect and retainOnDelete), so the update stops with "resource is protected" until you run \`pulumi state unprotect\` on it (https://www.pulumi.com/docs/iac/concepts/options/protect/); even then the namespace is only dropped from the state and stays in the cluster with whatever is in it (retainOnDelete): delete it with kubectl once you are sure`
        : `  pulumi up -s ${p.env}.platform: deletes the namespace "${o.name}" and everything left in it, its quota, limits, RBAC and contract entry`,
    ),
    `  commit the files above${o.platforms.length ? "" : " (the team had no platform entry)"}`,
  ];
}

/** The lines printed for a command's report. */
export function formatReport(command: "add" | "remove", name: string, report: TeamReport): string[] {
  const lines = [`team: ${command === "add" ? "added" : "removed"} team "${name}"`];
  for (const [label, files] of [
    ["created", report.created],
    ["changed", report.changed],
    ["removed", report.removed],
  ] as const) {
    for (const f of files) lines.push(`  ${label.padEnd(8)}${f}`);
  }
  lines.push("Review:");
  for (const line of report.review)
    lines.push(line.startsWith("  ") || line === "Next:" || line.startsWith("Promotion:") ? line : `  ${line}`);
  return lines;
}
