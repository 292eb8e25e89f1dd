import * as path from "node:path";
import { parseArgs } from "node:util";
import { runProgram, type RunResult } from "./offline/run";
import { ProjectError, listStacks, readProject, readStackConfig } from "./offline/project";
import { fillSecretPlaceholders } from "./offline/placeholders";
import { manifestPath, replaceDirectory, toYaml, writeFileAtomic } from "./offline/write";

const USAGE = `Usage: npm run render -- <stack> [--out <dir>]

Runs the Pulumi program for <stack> offline (Pulumi's mock engine, no CLI, no cluster) and writes
every Kubernetes object it registers as YAML, one file per object, under <dir>/<stack>/
(default dir: rendered). Also writes <dir>/<stack>.stack.json: outputs and cloud resources.
Secret values never appear in the output.`;

/** Renders one stack; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, allowPositionals: true, options: { out: { type: "string", default: "rendered" }, help: { type: "boolean", short: "h" } } });
  } catch (e) {
    console.error(`render: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const project = readProject(process.cwd());
  if (args.values.help) {
    console.log(`${USAGE}\n\nStacks: ${listStacks(project).join(", ")}`);
    return 0;
  }
  if (args.positionals.length !== 1) {
    console.error(`render: give exactly one stack (stacks: ${listStacks(project).join(", ")})\n\n${USAGE}`);
    return 2;
  }
  const stack = args.positionals[0];
  const stackConfig = readStackConfig(project, stack);
  const placeholders = [...stackConfig.placeholders, ...fillSecretPlaceholders(stackConfig, project.name)];

  let result: RunResult;
  try {
    result = await runProgram({ projectDir: project.dir, stack, config: stackConfig });
  } catch (e) {
    const err = e as Error;
    // Config errors are the user's to fix: print them plainly. Anything else is a bug: keep the trace.
    console.error(err.name === "ConfigError" ? err.message : `render: the program failed for stack "${stack}": ${err.stack ?? err.message}`);
    return 1;
  }
  if (result.defaultProviderUses.length > 0) {
    console.error(`render: ${result.defaultProviderUses.length} Kubernetes resource(s) would use the default provider, which this project disables:\n  ${result.defaultProviderUses.join("\n  ")}`);
    return 1;
  }

  const files = new Map<string, string>();
  for (const obj of result.objects) {
    const rel = manifestPath(obj);
    if (files.has(rel)) {
      console.error(`render: two objects would be written to ${rel}`);
      return 1;
    }
    files.set(rel, toYaml(obj));
  }
  const outDir = path.resolve(args.values.out!);
  replaceDirectory(path.join(outDir, stack), files);
  const cloud = result.resources.filter((r) => !r.type.startsWith("kubernetes:") && r.custom && !r.type.startsWith("pulumi:"));
  writeFileAtomic(path.join(outDir, `${stack}.stack.json`), `${JSON.stringify({
    stack,
    outputs: result.outputs,
    cloudResources: cloud.map((r) => ({ type: r.type, name: r.name })),
    secretPlaceholders: placeholders,
  }, null, 2)}\n`);

  console.log(summary(result, path.relative(process.cwd(), path.join(outDir, stack)) || ".", cloud.length, placeholders));
  return 0;
}

function summary(result: RunResult, where: string, cloudCount: number, placeholders: readonly string[]): string {
  const byKind = new Map<string, number>();
  const namespaces = new Set<string>();
  const images = new Set<string>();
  for (const o of result.objects) {
    byKind.set(String(o.kind), (byKind.get(String(o.kind)) ?? 0) + 1);
    const ns = (o.metadata as { namespace?: string } | undefined)?.namespace;
    if (ns) namespaces.add(ns);
    collectImages(o, images);
  }
  const kinds = [...byKind].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`).join(", ");
  return [
    `stack ${result.stack}: ${result.objects.length} Kubernetes objects written to ${where}/`,
    `  kinds:      ${kinds}`,
    `  namespaces: ${[...namespaces].sort().join(", ") || "none"}`,
    `  images:     ${[...images].sort().join("\n              ") || "none"}`,
    `  cloud:      ${cloudCount} cloud resources (see ${where}.stack.json)`,
    ...(placeholders.length ? [`  secrets:    ${placeholders.length} rendered as placeholders (${placeholders.join(", ")})`] : []),
  ].join("\n");
}

function collectImages(v: unknown, into: Set<string>): void {
  if (Array.isArray(v)) v.forEach((x) => collectImages(x, into));
  else if (v !== null && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      if (k === "image" && typeof x === "string") into.add(x);
      else collectImages(x, into);
    }
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: Error) => {
      console.error(e instanceof ProjectError ? `render: ${e.message}` : e.stack);
      process.exit(e instanceof ProjectError ? 2 : 1);
    },
  );
}
