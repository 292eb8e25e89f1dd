import * as fs from "node:fs";
import * as path from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { plainObjects, type ObjectSpec } from "./reference";
import type { SyntheticEnvironment } from "./synth";

/**
 * The kustomize reference: the same objects as a base (one file per namespace, ConfigMaps from
 * `configMapGenerator` so they get a content-hash suffix and references to them are rewritten)
 * and an overlay that pins every image to its digest. Writing the files is set-up (they would
 * live in git); only `kubectl kustomize <folder>` is timed.
 */

function manifest(o: ObjectSpec): Record<string, unknown> {
  return { apiVersion: o.apiVersion, kind: o.kind, ...o.body };
}

const KUSTOMIZATION = { apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization" };

/** How the kustomize reference is laid out. */
export type KustomizeLayout = "single" | "per-team";

/** A base (resources and ConfigMap generators) plus an overlay setting the images' digests. */
function writeBaseAndOverlay(
  dir: string,
  objects: readonly ObjectSpec[],
  images: readonly { name: string; digest: string }[],
): string {
  const base = path.join(dir, "base");
  const overlay = path.join(dir, "overlay");
  fs.mkdirSync(base, { recursive: true });
  fs.mkdirSync(overlay, { recursive: true });
  const files = new Map<string, Record<string, unknown>[]>();
  const generators: Record<string, unknown>[] = [];
  for (const o of objects) {
    if (o.kind === "ConfigMap") {
      const meta = o.body.metadata as { namespace: string; labels: Record<string, string> };
      generators.push({
        name: o.logicalName,
        namespace: meta.namespace,
        literals: Object.entries(o.body.data as Record<string, string>).map(([k, v]) => `${k}=${v}`),
        options: { labels: meta.labels, immutable: true },
      });
      continue;
    }
    const ns =
      (o.body.metadata.namespace as string | undefined) ??
      (o.kind === "Namespace" ? String(o.body.metadata.name) : "_cluster");
    const file = `${ns}.yaml`;
    if (!files.has(file)) files.set(file, []);
    files.get(file)!.push(manifest(o));
  }
  for (const [file, docs] of files)
    fs.writeFileSync(path.join(base, file), docs.map((d) => stringify(d, { lineWidth: 0 })).join("---\n"));
  // JSON is YAML: kustomization files are written as JSON to keep this short.
  fs.writeFileSync(
    path.join(base, "kustomization.yaml"),
    JSON.stringify(
      {
        ...KUSTOMIZATION,
        resources: [...files.keys()].sort(),
        ...(generators.length ? { configMapGenerator: generators } : {}),
      },
      null,
      1,
    ),
  );
  fs.writeFileSync(
    path.join(overlay, "kustomization.yaml"),
    JSON.stringify(
      {
        ...KUSTOMIZATION,
        resources: ["../base"],
        ...(images.length ? { images } : {}),
      },
      null,
      1,
    ),
  );
  return overlay;
}

/**
 * Writes the environment for kustomize under `dir`; returns the folder to build. `single`: one
 * base and one overlay for everything. `per-team`: a base and an overlay per team (and one for
 * the cluster-wide objects), aggregated by a top kustomization, so each team's generators and
 * image settings only touch that team's objects.
 */
export function writeKustomization(env: SyntheticEnvironment, dir: string, layout: KustomizeLayout = "single"): string {
  fs.rmSync(dir, { recursive: true, force: true });
  const objects = plainObjects(
    env,
    (a) => `${a.name}-config`,
    (a) => a.repository,
  );
  const images = (apps: SyntheticEnvironment["apps"]) => apps.map((a) => ({ name: a.repository, digest: a.digest }));
  if (layout === "single") return writeBaseAndOverlay(dir, objects, images(env.apps));
  const namespaceOf = (o: ObjectSpec) =>
    o.kind === "Namespace" ? String(o.body.metadata.name) : (o.body.metadata.namespace as string | undefined);
  const parts = [
    path.relative(
      dir,
      writeBaseAndOverlay(
        path.join(dir, "cluster"),
        objects.filter((o) => !namespaceOf(o)),
        [],
      ),
    ),
  ];
  for (const team of env.teams) {
    const own = objects.filter((o) => namespaceOf(o) === team.name);
    parts.push(
      path.relative(
        dir,
        writeBaseAndOverlay(
          path.join(dir, "teams", team.name),
          own,
          images(env.apps.filter((a) => a.team === team.name)),
        ),
      ),
    );
  }
  fs.writeFileSync(
    path.join(dir, "kustomization.yaml"),
    JSON.stringify({ ...KUSTOMIZATION, resources: parts }, null, 1),
  );
  return dir;
}

/** Parses kustomize's multi-document output. */
export function parseManifests(text: string): Record<string, unknown>[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Record<string, unknown> | null)
    .filter((o): o is Record<string, unknown> => o !== null);
}
