import * as fs from "node:fs";
import { parse as parseYaml } from "yaml";
import { normaliseKey } from "../lib/project";
import { isAllowedImage, registryHost } from "../lib/registries";
import { POINTER_KEY } from "./pointer";
import type { Problem } from "./rules";
import type { Stage } from "./stages";
import { platformFile, shown, type Workspace } from "./workspace";

const NAMESPACE = POINTER_KEY.slice(0, POINTER_KEY.indexOf(":"));

/** What the environment's admission policy allows, as its platform stack file says (the program adds its mirror). */
interface PlatformRegistries {
  readonly file: string;
  readonly stack: string;
  readonly allowed: readonly string[];
  /** The registry the cluster mirrors (`blueprint:cluster.<cloud>.registryMirror.upstream`), if any. */
  readonly mirrorUpstream?: string;
}

function record(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function platformRegistries(ws: Workspace, stage: Stage): PlatformRegistries | undefined {
  const file = platformFile(ws, stage);
  let text: string;
  try {
    if (!fs.statSync(file).isFile()) return undefined;
    text = fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  let config: Record<string, unknown>;
  try {
    config = record(record(parseYaml(text)).config);
  } catch {
    return undefined;
  }
  const get = (key: string) =>
    Object.entries(config).find(([k]) => normaliseKey(k, NAMESPACE) === `${NAMESPACE}:${key}`)?.[1];
  const allowed = record(get("policy")).allowedRegistries;
  const cluster = record(get("cluster"));
  const upstream =
    typeof cluster.cloud === "string" ? record(record(cluster[cluster.cloud]).registryMirror).upstream : undefined;
  return {
    file,
    stack: `${stage.environment}.platform`,
    allowed: Array.isArray(allowed) ? allowed.filter((x): x is string => typeof x === "string") : [],
    ...(typeof upstream === "string" ? { mirrorUpstream: upstream } : {}),
  };
}

/**
 * Images of a release that the stage's environment would refuse at admission. The cluster pulls an
 * image from the platform's mirror when its registry is the mirror's upstream
 * (`blueprint:cluster.<cloud>.registryMirror.upstream`; the program adds the mirror to the allowed
 * registries), else from its own registry, which must then be under the platform's
 * `blueprint:policy.allowedRegistries`: an image the mirror does not cover and the policy does not
 * list is refused. Checked before anything is written, so `promote` never writes a pointer the
 * render or the cluster then refuses. The cluster's admission policy is the enforcement; this is the
 * early, friendlier copy of its rule (config/validate.ts applies the same one at render).
 */
export function admissionProblems(ws: Workspace, stage: Stage, images: Readonly<Record<string, string>>): Problem[] {
  const platform = platformRegistries(ws, stage);
  if (!platform) return [];
  const problems: Problem[] = [];
  for (const [name, ref] of Object.entries(images).sort(([a], [b]) => a.localeCompare(b))) {
    if (platform.mirrorUpstream !== undefined && registryHost(ref) === platform.mirrorUpstream) continue;
    if (isAllowedImage(ref, platform.allowed)) continue;
    const mirror = platform.mirrorUpstream ? `; its mirror covers only ${platform.mirrorUpstream}` : "";
    problems.push({
      rule: "admission",
      overridable: false,
      message: `image ${name} ${ref} would be refused by the admission policy of the platform stack ${platform.stack}: it allows ${platform.allowed.length ? platform.allowed.join(", ") : "no registry"} (${shown(ws, platform.file)}: ${NAMESPACE}:policy.allowedRegistries)${mirror}`,
    });
  }
  return problems;
}
