import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";

/**
 * The layers of the repository, bottom first, and what each may import. A layer is named by the
 * first folder of a file's path (`index.ts` at the root is the program; `tools/bench/` is its own). `lib/` is the bottom:
 * pure helpers that load no Pulumi SDK, so they run anywhere (the CLIs, the policy pack, the
 * package's consumers). Promotion and the tools sit beside the program and reach only down.
 */
export const LAYERS: Readonly<Record<string, readonly string[]>> = {
  lib: ["lib"],
  components: ["lib", "components"],
  config: ["lib", "components", "config"],
  policy: ["lib", "policy"],
  layers: ["lib", "components", "config", "layers"],
  promotion: ["lib", "config", "promotion"],
  tools: ["lib", "components", "config", "policy", "layers", "tools"],
  // The benchmarks measure everything, promotion included: the top of the stack.
  "tools/bench": ["lib", "components", "config", "policy", "layers", "promotion", "tools", "tools/bench"],
};

/** Packages a layer may not import (prefixes): lib stays free of every Pulumi SDK. */
export const FORBIDDEN_PACKAGES: Readonly<Record<string, readonly string[]>> = {
  lib: ["@pulumi/"],
};

/** One import of one file: the importing file, the specifier as written. */
export interface ImportEdge {
  readonly from: string;
  readonly specifier: string;
}

/** The layer a repository-relative path belongs to, or undefined outside the checked layers. */
export function layerOf(file: string): string | undefined {
  const parts = file.split("/");
  if (parts.length === 1) return parts[0] === "index.ts" ? "layers" : undefined;
  if (parts[0] === "tools" && parts[1] === "bench") return "tools/bench";
  return parts[0] in LAYERS ? parts[0] : undefined;
}

/** Every module specifier of a TypeScript source: static, type-only, re-export, `import()`, `require()`. */
export function importsOf(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

/**
 * The rule each edge breaks, as one line `<from> imports <specifier>: <why>`. Relative imports
 * are resolved against the importing file. A file of a layer imports only the layers below it:
 * a folder that is no layer (test/, stacks/, docs/, a file at the root) is refused, not skipped.
 * `examples/<name>/` may import nothing of the repository outside its own folder (only the packed
 * library). Files outside the layers (test/) are not checked as importers.
 */
export function layeringProblems(edges: readonly ImportEdge[]): string[] {
  const problems: string[] = [];
  for (const { from, specifier } of edges) {
    const fromLayer = layerOf(from);
    if (!specifier.startsWith(".")) {
      const banned = fromLayer ? FORBIDDEN_PACKAGES[fromLayer]?.find((p) => specifier.startsWith(p)) : undefined;
      if (banned) problems.push(`${from} imports ${specifier}: ${fromLayer}/ loads no ${banned}* package`);
      continue;
    }
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
    if (from.startsWith("examples/")) {
      const own = from.split("/").slice(0, 2).join("/");
      if (target !== own && !target.startsWith(`${own}/`))
        problems.push(`${from} imports ${specifier}: an example imports the repository only through the package`);
      continue;
    }
    if (target.startsWith("..")) {
      problems.push(`${from} imports ${specifier}: outside the repository`);
      continue;
    }
    if (!fromLayer) continue;
    const toLayer = targetLayer(target);
    const allowed = LAYERS[fromLayer].join(", ");
    // A folder the layers do not know (test/, stacks/, docs/, a new one) is never a dependency of the product.
    if (!toLayer)
      problems.push(
        `${from} imports ${specifier}: ${fromLayer}/ may import only ${allowed}, not ${target.split("/")[0]}/, which is no layer`,
      );
    else if (!LAYERS[fromLayer].includes(toLayer))
      problems.push(`${from} imports ${specifier}: ${fromLayer}/ may import only ${allowed}, not ${toLayer}/`);
    else {
      const cloud = cloudProblem(from, target);
      if (cloud) problems.push(`${from} imports ${specifier}: ${cloud}`);
    }
  }
  return problems;
}

/** The clouds' folders under `components/cluster/`: each loads its own cloud SDK, and no other. */
export const CLOUD_FOLDERS: readonly string[] = ["eks", "gke"];

/** `components/cluster/<cloud>` of a path, or undefined. */
function cloudOf(file: string): string | undefined {
  const [a, b, c] = file.split("/");
  return a === "components" && b === "cluster" && c !== undefined && CLOUD_FOLDERS.includes(c.replace(/\.ts$/, ""))
    ? c.replace(/\.ts$/, "")
    : undefined;
}

/**
 * Inside components/, a cloud's folder is reached only from itself: another cloud's folder, or a
 * shared file (`components/index.ts`, `cluster/handle.ts`, `cluster/addon.ts`), importing it
 * would load that cloud's SDK in every program. The program reaches it lazily through layers/cluster.ts.
 */
function cloudProblem(from: string, target: string): string | undefined {
  const to = cloudOf(target);
  if (!from.startsWith("components/") || to === undefined || cloudOf(from) === to) return undefined;
  const own = cloudOf(from);
  return own
    ? `components/cluster/${own}/ may not import another cloud's folder (${to}/)`
    : `only components/cluster/${to}/ itself imports it; shared components stay free of a cloud SDK`;
}

/** The layer of a resolved import target: a file (`lib/images`), a folder (`components`) or the root program (`index`). */
function targetLayer(target: string): string | undefined {
  const [first, second] = target.split("/");
  if (target === "." || first === "index" || first === "index.ts") return "layers";
  if (first === "tools" && second === "bench") return "tools/bench";
  return first in LAYERS ? first : undefined;
}

const SKIP = new Set(["node_modules", "dist", "rendered", ".bench", "coverage", ".git"]);

/** Every import edge of every `.ts` file under `root` (repository-relative, `/`-separated paths). */
export function repositoryImports(root: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!SKIP.has(entry.name)) walk(child);
      } else if (entry.name.endsWith(".ts")) {
        for (const specifier of importsOf(fs.readFileSync(path.join(root, child), "utf8")))
          edges.push({ from: child, specifier });
      }
    }
  };
  walk("");
  return edges;
}
