import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { runProgram, type RunResult } from "./offline/run";
import { staleSources, type CompiledManifest } from "./offline/compiled";
import { ProjectError, listStacks, readProject, readStackConfig } from "./offline/project";
import { cloudInventory } from "./offline/cloud-state";
import { fillSecretPlaceholders } from "./offline/placeholders";
import { checkOutput, manifestPath, OutputRefused, replaceDirectory, toYaml, writeFileAtomic } from "./offline/write";

const USAGE = `Usage: npm run render -- <stack> [--out <dir>] [--trace]

Runs the Pulumi program for <stack> offline (Pulumi's mock engine, no CLI, no cluster) and writes
every Kubernetes object it registers as YAML, one file per object, under <dir>/<stack>/
(default dir: rendered). Also writes <dir>/<stack>.stack.json: outputs and cloud resources.
Secret values never appear in the output.
  --trace  keep stack traces (slower: the SDK records one for every internal promise)`;

/**
 * Stack frames kept while the program runs. The SDK records a stack trace for every internal
 * promise (runtime/debuggable.js), and formatting them (through source maps under tsx) is about a
 * third of an offline run; without them a render of 1000 apps is that much faster and smaller.
 * Config errors never need a trace; `--trace` restores them for debugging the program.
 */
const FAST_STACK_TRACE_LIMIT = 0;

/**
 * The compiled tree this file belongs to, when it runs as compiled JavaScript
 * (`<out>/tools/render.js`, with `<out>/compiled.json` naming the source folder). Undefined otherwise.
 */
function compiledTree(self: string): { out: string; manifest: CompiledManifest } | undefined {
  if (!self.endsWith(".js")) return undefined;
  const out = path.dirname(path.dirname(self));
  const file = path.join(out, "compiled.json");
  if (!fs.existsSync(file)) return undefined;
  return { out, manifest: JSON.parse(fs.readFileSync(file, "utf8")) as CompiledManifest };
}

/**
 * The program file to run: when this file runs as compiled JavaScript, the program compiled
 * beside it (`<out>/index.js` for `index.ts`), so no TypeScript loader is needed. Undefined otherwise.
 */
export function compiledProgram(main: string, self: string = __filename): string | undefined {
  const tree = compiledTree(self);
  if (!tree || !main.endsWith(".ts")) return undefined;
  const rel = path.relative(tree.manifest.source, main);
  if (rel.startsWith("..") || path.isAbsolute(rel)) return undefined;
  const js = path.join(tree.out, rel.replace(/\.ts$/, ".js"));
  return fs.existsSync(js) ? js : undefined;
}

/** Why the compiled render must not run (its sources changed since), or undefined. */
export function staleCompiled(self: string = __filename): string | undefined {
  const tree = compiledTree(self);
  if (!tree) return undefined;
  const stale = staleSources(tree.manifest);
  if (stale.length === 0) return undefined;
  const shown = `${stale.slice(0, 3).join(", ")}${stale.length > 3 ? `, and ${stale.length - 3} more` : ""}`;
  return `the compiled render in ${path.relative(process.cwd(), tree.out) || "."} is older than its sources (${shown} changed): run \`npm run compile\` again, or \`npm run render\``;
}

/** Renders one stack; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, allowPositionals: true, options: { out: { type: "string", default: "rendered" }, trace: { type: "boolean", default: false }, help: { type: "boolean", short: "h" } } });
  } catch (e) {
    console.error(`render: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const stale = staleCompiled();
  if (stale) {
    console.error(`render: ${stale}`);
    return 1;
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
  const outDir = path.resolve(args.values.out!);
  // Before the program runs: a refused output folder should not cost a whole render.
  checkOutput(outDir, stack);
  const placeholders = [...stackConfig.placeholders, ...fillSecretPlaceholders(stackConfig, project.name)];

  let result: RunResult;
  const traceLimit = Error.stackTraceLimit;
  if (!args.values.trace) Error.stackTraceLimit = FAST_STACK_TRACE_LIMIT;
  try {
    result = await runProgram({ projectDir: project.dir, stack, config: stackConfig, main: compiledProgram(project.main) });
  } catch (e) {
    const err = e as Error;
    // Config errors are the user's to fix: print them plainly. Anything else is a bug: keep the trace.
    const trace = args.values.trace ? (err.stack ?? err.message) : `${err.name}: ${err.message}\n(run again with --trace for the stack trace)`;
    console.error(err.name === "ConfigError" ? err.message : `render: the program failed for stack "${stack}": ${trace}`);
    return 1;
  } finally {
    Error.stackTraceLimit = traceLimit;
  }
  if (result.defaultProviderUses.length > 0) {
    console.error(`render: ${result.defaultProviderUses.length} resource(s) would use a default provider, which every stack disables (pulumi:disable-default-providers):\n  ${result.defaultProviderUses.join("\n  ")}`);
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
  replaceDirectory(path.join(outDir, stack), files);
  const inventory = cloudInventory(result.resources);
  writeFileAtomic(path.join(outDir, `${stack}.stack.json`), `${JSON.stringify({
    stack,
    outputs: result.outputs,
    ...inventory,
    secretPlaceholders: placeholders,
  }, null, 2)}\n`);

  console.log(summary(result, path.relative(process.cwd(), path.join(outDir, stack)) || ".", inventory, placeholders));
  return 0;
}

function summary(result: RunResult, where: string, inventory: ReturnType<typeof cloudInventory>, placeholders: readonly string[]): string {
  const byKind = new Map<string, number>();
  const namespaces = new Set<string>();
  const images = new Set<string>();
  for (const o of result.objects) {
    byKind.set(String(o.kind), (byKind.get(String(o.kind)) ?? 0) + 1);
    const ns = (o.metadata as { namespace?: string } | undefined)?.namespace;
    if (ns) namespaces.add(ns);
    collectImages(o, images);
  }
  const recreate = result.objects
    .filter((o) => o.kind === "Deployment" && (o.spec as { strategy?: { type?: string } } | undefined)?.strategy?.type === "Recreate")
    .map((o) => { const m = o.metadata as { name?: string; namespace?: string }; return `${m.namespace}/${m.name}`; });
  const kinds = [...byKind].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`).join(", ");
  return [
    `stack ${result.stack}: ${result.objects.length} Kubernetes objects written to ${where}/`,
    `  kinds:      ${kinds}`,
    `  namespaces: ${[...namespaces].sort().join(", ") || "none"}`,
    `  images:     ${[...images].sort().join("\n              ") || "none"}`,
    `  cloud:      ${inventory.cloudResources.length} cloud resources, ${inventory.helmReleases.length} Helm releases (see ${where}.stack.json)`,
    ...(recreate.length ? [`  rollout:    Recreate for ${recreate.sort().join(", ")} (one replica with a ReadWriteOnce volume: a surge pod on another node could not attach it)`] : []),
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

/** Runs {@link main} as a command: one line and an exit code for anything the user must fix. */
export function cli(argv: string[]): void {
  main(argv).then(
    (code) => process.exit(code),
    (e: Error) => {
      if (e instanceof ProjectError || e instanceof OutputRefused) {
        console.error(`render: ${e.message}`);
        process.exit(e instanceof ProjectError ? e.exitCode : 1);
      }
      console.error(e.stack);
      process.exit(1);
    },
  );
}

if (require.main === module) cli(process.argv.slice(2));
