import * as fs from "node:fs";
import * as path from "node:path";
import { runProgram, type RunResult } from "./offline/run";
import { isKubernetesObject } from "./offline/mocks";
import { ProjectError, listStacks, readProject, readStackConfig, type StackConfig } from "../lib/project";
import { fillSecretPlaceholders } from "./offline/placeholders";
import { writeFileAtomic } from "../lib/files";
import { parsePlatform, platformStackOf, stackLayer, teamOf } from "../config/load";
import type { StackOutputsByName } from "./offline/mocks";
import { platformOutputs, renderInWorker } from "./offline/render";
import { parseCommandLine, UsageError } from "./offline/cli";
import { ALLOWED_REGISTRIES_ANNOTATION, IMAGE_POLICY_NAME } from "../components/admission-rules";
import { MINIO_NAMESPACE, minioImage } from "../components/cluster/existing/addons/minio";
import { DATA_ADMIN_NAMESPACE } from "../lib/namespaces";
import { MANAGED_USERS_IMAGE } from "../lib/services";
import { pullReferenceFor } from "../lib/mirrors";
import { evaluate, RULES, type PolicyResourceView } from "../policy/rules";
import {
  formatPackConfig,
  packConfig,
  settingsOf,
  type PackConfig,
  type PolicyEnvironment,
} from "../policy/pack-config";
import { localStackName, platformStackProblem } from "../lib/stacks";

const USAGE = `Usage: npm run audit -- <stack> [--write-pack-config]

Runs the Pulumi program for <stack> offline (as npm run render does) and checks every resource it
registers with the policy pack's rules (policy/rules.ts), at the enforcement levels of the stack's
pack config policy/config/<stack>.json. Exit 0: no mandatory violation; 1: a mandatory violation,
a stale pack config or a program error; 2: bad usage.
  --write-pack-config  write policy/config/<stack>.json for this stack, then audit
  --help               this text, with the project's stacks`;

/**
 * Images the platform runs in its own namespaces, outside the teams' allow-list (pinned by digest):
 * an existing cluster's MinIO, and the Job that sets up the users of managed Postgres.
 */
const PLATFORM_IMAGES: readonly { readonly image: string; readonly namespace: string }[] = [
  { image: minioImage, namespace: MINIO_NAMESPACE },
  { image: MANAGED_USERS_IMAGE, namespace: DATA_ADMIN_NAMESPACE },
];

/** The registry mirrors the platform's contract names (upstream host -> mirror prefix); one per cluster. */
function contractMirrors(result: RunResult): Record<string, string> {
  const contract = result.stackOutputs?.outputs.contract as
    Record<string, { registry?: { mirrors?: Record<string, string> } }> | undefined;
  return Object.assign({}, ...Object.values(contract ?? {}).map((c) => c.registry?.mirrors ?? {})) as Record<
    string,
    string
  >;
}

/** The resources of a run as the policy rules see them. */
export function policyViews(result: RunResult): PolicyResourceView[] {
  return result.resources
    .filter((r) => isKubernetesObject(r.type))
    .map((r, i) => ({
      type: r.type,
      name: r.name,
      props: result.objects[i],
      protect: result.protectedResources.has(`${r.type}::${r.name}`),
    }));
}

/** The environment the pack must know, from the stack's config and what the program registered. */
export function policyEnvironment(
  result: RunResult,
  production: boolean,
  ingressNamespace: string | undefined,
  contractRegistries?: readonly string[],
  podSecurityVersion?: string,
): PolicyEnvironment {
  const platformNamespaces = ["kube-system", ...(ingressNamespace ? [ingressNamespace] : [])];
  // A team stack's pods are admitted by its platform's policy: the contract carries that list.
  if (contractRegistries)
    return { production, allowedRegistries: [...contractRegistries], platformNamespaces, podSecurityVersion };
  // The platform's own pinned images that this stack runs in their namespace, as the cluster pulls
  // them (through a mirror of their registry if it has one): exactly those references are allowed.
  const mirrors = contractMirrors(result);
  const platformImages = PLATFORM_IMAGES.map(({ image, namespace }) => ({
    pulled: pullReferenceFor(image, mirrors),
    namespace,
  }))
    .filter(({ pulled, namespace }) =>
      result.objects.some(
        (o) =>
          (o.metadata as { namespace?: string } | undefined)?.namespace === namespace &&
          JSON.stringify(o).includes(`"image":${JSON.stringify(pulled)}`),
      ),
    )
    .map(({ pulled }) => pulled);
  // The admission policy carries the allow-list the program computed (mirror included), so the
  // pack config and the cluster enforce the same list.
  const admission = result.objects.find(
    (o) =>
      o.kind === "ValidatingAdmissionPolicy" &&
      (o.metadata as { name?: string } | undefined)?.name === IMAGE_POLICY_NAME,
  );
  const annotations = (admission?.metadata as { annotations?: Record<string, string> } | undefined)?.annotations ?? {};
  const listed = annotations[ALLOWED_REGISTRIES_ANNOTATION];
  return {
    production,
    allowedRegistries: listed ? listed.split(",") : [],
    platformImages,
    platformNamespaces,
    podSecurityVersion,
  };
}

/** Options for {@link auditStack}. */
export interface AuditOptions {
  readonly projectDir: string;
  readonly stack: string;
  /** Config to use instead of the stack file's. */
  readonly config?: StackConfig;
  /** The program to run instead of the project's (tests use programs that bypass the components). */
  readonly main?: string;
  /** Folder of the pack configs. @default <projectDir>/policy/config */
  readonly packConfigDir?: string;
  /** Write the stack's pack config instead of checking it. */
  readonly writePackConfig?: boolean;
  /** The platform's outputs, for a team stack; rendered in a worker process when not given. */
  readonly stacks?: StackOutputsByName;
}

/** What one audit found: the exit code and the lines to print (stdout, stderr). */
export interface AuditResult {
  readonly code: number;
  readonly out: string[];
  readonly err: string[];
}

/** Audits one stack: runs its program offline and checks the pack's rules at the pack config's levels. */
export async function auditStack(opts: AuditOptions): Promise<AuditResult> {
  const out: string[] = [];
  const err: string[] = [];
  const project = readProject(opts.projectDir);
  const stack = opts.stack;
  const stackConfig = opts.config ?? readStackConfig(project, stack);
  if (!opts.config) fillSecretPlaceholders(stackConfig, project.name);

  let result: RunResult;
  let platformStack = stack;
  let stacks = opts.stacks;
  try {
    if (stackLayer(stackConfig.config, stack) === "team") {
      const named = platformStackOf(stackConfig.config, stack);
      const local = localStackName(named, project.name);
      if (local === undefined) {
        err.push(
          `audit: stack "${stack}" reads the platform stack "${named}" of another project; the audit renders only this project's stacks`,
        );
        return { code: 1, out, err };
      }
      const crossed = platformStackProblem(stack, named);
      if (crossed) {
        err.push(
          `${path.relative(project.dir, stackConfig.file)}: blueprint:platformStack names "${named}": ${crossed}`,
        );
        return { code: 1, out, err };
      }
      platformStack = local;
      if (!stacks) {
        // The platform's last render when it is current, else a render in a worker process.
        const platform = await platformOutputs(project, platformStack, {
          trace: false,
          renderPlatform: renderInWorker,
        });
        if (!platform.ok) {
          err.push(platform.message);
          return { code: 1, out, err };
        }
        stacks = { [platformStack]: platform.stackOutputs };
      }
    }
    result = await runProgram({ projectDir: project.dir, stack, config: stackConfig, main: opts.main, stacks });
  } catch (e) {
    const error = e as Error;
    err.push(
      error.name === "ConfigError"
        ? error.message
        : `audit: the program failed for stack "${stack}": ${error.name}: ${error.message}`,
    );
    return { code: 1, out, err };
  }
  // Production and the ingress controller's namespace are the platform's.
  const platformConfig = platformStack === stack ? stackConfig : readStackConfig(project, platformStack);
  if (platformConfig !== stackConfig) fillSecretPlaceholders(platformConfig, project.name);
  const env = parsePlatform(platformConfig.config, platformStack, project.name, new Set(platformConfig.secretKeys));
  const ingressNamespace = env.cluster.cloud === "existing" ? env.cluster.existing?.ingressNamespace : undefined;
  const contract =
    platformStack === stack
      ? undefined
      : (stacks?.[platformStack]?.outputs.contract as Record<string, { allowedRegistries?: string[] }> | undefined)?.[
          teamOf(stack) ?? ""
        ];
  const expected = packConfig(
    policyEnvironment(
      result,
      env.production,
      ingressNamespace,
      contract ? (contract.allowedRegistries ?? []) : undefined,
      env.cluster.kubernetesVersion,
    ),
  );

  const file = path.join(opts.packConfigDir ?? path.join(project.dir, "policy", "config"), `${stack}.json`);
  const shown = path.relative(project.dir, file);
  // A folder (or a device), or a link to one, where the pack config belongs is refused by name,
  // written or read: it is never replaced, and never reported as a read error of the system.
  const kind = fs.statSync(file, { throwIfNoEntry: false });
  if (kind && !kind.isFile()) {
    err.push(
      `audit: ${shown} is ${kind.isDirectory() ? "a folder" : "not a regular file"}, not a pack config; move it away, then write the pack config with: npm run audit -- ${stack} --write-pack-config`,
    );
    return { code: 1, out, err };
  }
  if (opts.writePackConfig) {
    writeFileAtomic(file, formatPackConfig(expected));
    out.push(`audit: wrote ${shown}`);
  } else {
    const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
    if (current !== formatPackConfig(expected)) {
      err.push(
        `audit: ${shown} is ${current === undefined ? "missing" : `out of date with ${env.file}`}; write it with: npm run audit -- ${stack} --write-pack-config`,
      );
      return { code: 1, out, err };
    }
  }
  return { code: report(stack, expected, policyViews(result), (line) => out.push(line)), out, err };
}

/** The command line; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseCommandLine(argv, { "write-pack-config": { type: "boolean" }, help: { type: "boolean", short: "h" } });
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`audit: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  const project = readProject(process.cwd());
  const stacks = listStacks(project);
  if (args.values.help) {
    console.log(`${USAGE}\n\nStacks: ${stacks.join(", ")}`);
    return 0;
  }
  if (args.positionals.length !== 1 || !stacks.includes(args.positionals[0])) {
    console.error(`audit: give exactly one stack of: ${stacks.join(", ")}\n\n${USAGE}`);
    return 2;
  }
  const result = await auditStack({
    projectDir: project.dir,
    stack: args.positionals[0],
    writePackConfig: args.values["write-pack-config"] ?? false,
  });
  result.out.forEach((line) => console.log(line));
  result.err.forEach((line) => console.error(line));
  return result.code;
}

function report(
  stack: string,
  config: PackConfig,
  views: readonly PolicyResourceView[],
  out: (line: string) => void,
): number {
  const active = RULES.filter((r) => settingsOf(config, r).enforcementLevel !== "disabled");
  const violations = evaluate(active, views, (r) => settingsOf(config, r));
  const levelOf = (rule: string) =>
    settingsOf(
      config,
      RULES.find((r) => r.name === rule)!,
    ).enforcementLevel;
  for (const v of violations) out(`  ${levelOf(v.rule)} ${v.rule}: ${v.message}`);
  const mandatory = violations.filter((v) => levelOf(v.rule) === "mandatory").length;
  out(
    `audit ${stack}: ${active.length} of ${RULES.length} policies over ${views.length} Kubernetes objects: ${mandatory} mandatory, ${violations.length - mandatory} advisory violation(s)`,
  );
  return mandatory > 0 ? 1 : 0;
}

/** Runs {@link main} as a command (`npm run audit`): the exit code, and one line for an error. */
export function cli(argv: string[]): void {
  main(argv).then(
    (code) => process.exit(code),
    (e: Error) => {
      console.error(`audit: ${e.message}`);
      process.exit(e instanceof ProjectError ? 2 : 1);
    },
  );
}

if (require.main === module) cli(process.argv.slice(2));
