import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { runProgram, type RunResult } from "./offline/run";
import { isKubernetesObject } from "./offline/mocks";
import { ProjectError, listStacks, readProject, readStackConfig } from "./offline/project";
import { fillSecretPlaceholders } from "./offline/placeholders";
import { writeFileAtomic } from "./offline/write";
import { parseEnvironment } from "../config/load";
import { ALLOWED_REGISTRIES_ANNOTATION } from "../components/admission-policy";
import { evaluate, RULES, type PolicyResourceView } from "../policy/rules";
import { formatPackConfig, packConfig, settingsOf, type PackConfig, type PolicyEnvironment } from "../policy/pack-config";

const USAGE = `Usage: npm run audit -- <stack> [--write-pack-config]

Runs the Pulumi program for <stack> offline (as npm run render does) and checks every resource it
registers with the policy pack's rules (policy/rules.ts), at the enforcement levels of the stack's
pack config policy/config/<stack>.json. Exit 0: no mandatory violation; 1: a mandatory violation,
a stale pack config or a program error; 2: bad usage.
  --write-pack-config  write policy/config/<stack>.json for this stack, then audit`;

/** Where a stack's policy pack config lives, relative to the project. */
export function packConfigPath(stack: string): string {
  return path.join("policy", "config", `${stack}.json`);
}

/** The resources of a run as the policy rules see them. */
export function policyViews(result: RunResult): PolicyResourceView[] {
  return result.resources.filter((r) => isKubernetesObject(r.type)).map((r, i) => ({
    type: r.type,
    name: r.name,
    props: result.objects[i],
    protect: result.protectedResources.has(`${r.type}::${r.name}`),
  }));
}

/** The environment the pack must know, from the stack's config and what the program registered. */
export function policyEnvironment(result: RunResult, production: boolean, ingressNamespace: string | undefined): PolicyEnvironment {
  // The admission policy carries the allow-list the program computed (mirror included), so the
  // pack config and the cluster enforce the same list.
  const admission = result.objects.find((o) => o.kind === "ValidatingAdmissionPolicy");
  const annotations = ((admission?.metadata as { annotations?: Record<string, string> } | undefined)?.annotations) ?? {};
  const listed = annotations[ALLOWED_REGISTRIES_ANNOTATION];
  return {
    production,
    allowedRegistries: listed ? listed.split(",") : [],
    platformNamespaces: ["kube-system", ...(ingressNamespace ? [ingressNamespace] : [])],
  };
}

/** Audits one stack; returns the process exit code. */
export async function main(argv: string[], out: (line: string) => void = console.log, err: (line: string) => void = console.error): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, allowPositionals: true, options: { "write-pack-config": { type: "boolean", default: false }, help: { type: "boolean", short: "h" } } });
  } catch (e) {
    err(`audit: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const project = readProject(process.cwd());
  if (args.values.help) {
    out(`${USAGE}\n\nStacks: ${listStacks(project).join(", ")}`);
    return 0;
  }
  if (args.positionals.length !== 1) {
    err(`audit: give exactly one stack (stacks: ${listStacks(project).join(", ")})\n\n${USAGE}`);
    return 2;
  }
  const stack = args.positionals[0];
  if (!listStacks(project).includes(stack)) {
    err(`audit: no stack "${stack}" (stacks: ${listStacks(project).join(", ")})`);
    return 2;
  }
  const stackConfig = readStackConfig(project, stack);
  fillSecretPlaceholders(stackConfig, project.name);

  let result: RunResult;
  try {
    result = await runProgram({ projectDir: project.dir, stack, config: stackConfig });
  } catch (e) {
    const error = e as Error;
    err(error.name === "ConfigError" ? error.message : `audit: the program failed for stack "${stack}": ${error.name}: ${error.message}`);
    return 1;
  }
  const env = parseEnvironment(stackConfig.config, stack, project.name, new Set(stackConfig.secretKeys));
  const ingressNamespace = env.cluster.cloud === "existing" ? env.cluster.existing?.ingressNamespace : undefined;
  const expected = packConfig(policyEnvironment(result, env.production, ingressNamespace));

  const file = path.join(project.dir, packConfigPath(stack));
  if (args.values["write-pack-config"]) {
    writeFileAtomic(file, formatPackConfig(expected));
    out(`audit: wrote ${packConfigPath(stack)}`);
  } else {
    const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
    if (current !== formatPackConfig(expected)) {
      err(`audit: ${packConfigPath(stack)} is ${current === undefined ? "missing" : "out of date with stacks/Pulumi." + stack + ".yaml"}; write it with: npm run audit -- ${stack} --write-pack-config`);
      return 1;
    }
  }
  return report(stack, expected, policyViews(result), out);
}

function report(stack: string, config: PackConfig, views: readonly PolicyResourceView[], out: (line: string) => void): number {
  const active = RULES.filter((r) => settingsOf(config, r).enforcementLevel !== "disabled");
  const violations = evaluate(active, views, (r) => settingsOf(config, r));
  const levelOf = (rule: string) => settingsOf(config, RULES.find((r) => r.name === rule)!).enforcementLevel;
  for (const v of violations) out(`  ${levelOf(v.rule)} ${v.rule}: ${v.message}`);
  const mandatory = violations.filter((v) => levelOf(v.rule) === "mandatory").length;
  out(`audit ${stack}: ${active.length} of ${RULES.length} policies over ${views.length} Kubernetes objects: ${mandatory} mandatory, ${violations.length - mandatory} advisory violation(s)`);
  return mandatory > 0 ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: Error) => {
      console.error(`audit: ${e.message}`);
      process.exit(e instanceof ProjectError ? 2 : 1);
    },
  );
}
