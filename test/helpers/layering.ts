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
 * are resolved against the importing file; `examples/<name>/` may import nothing of the
 * repository outside its own folder (only the packed library).
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
      if (target !== own && !target.startsWith(`${own}/`)) problems.push(`${from} imports ${specifier}: an example imports the repository only through the package`);
      continue;
    }
    if (target.startsWith("..")) {
      problems.push(`${from} imports ${specifier}: outside the repository`);
      continue;
    }
    const toLayer = targetLayer(target);
    if (!fromLayer || !toLayer) continue;
    if (!LAYERS[fromLayer].includes(toLayer)) problems.push(`${from} imports ${specifier}: ${fromLayer}/ may import only ${LAYERS[fromLayer].join(", ")}, not ${toLayer}/`);
  }
  return problems;
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
        for (const specifier of importsOf(fs.readFileSync(path.join(root, child), "utf8"))) edges.push({ from: child, specifier });
      }
    }
  };
  walk("");
  return edges;
}
