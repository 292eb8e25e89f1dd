import { readProject, readStackConfig } from "../../lib/project";
import { fillSecretPlaceholders } from "../../tools/offline/placeholders";
import type { RunResult } from "../../tools/offline/run";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { STACK_ANNOTATION } from "../../promotion/evidence";
import { expectedCluster } from "../../promotion/commands";
import { openProject } from "../../promotion/workspace";
import { PROJECT_DIR, runStack } from "../helpers/program";
import {
  attachCleanScan,
  digest,
  APPS,
  drain,
  harnessIn,
  HOUR,
  PODINFO,
  releaseVerifiedInDev,
  removeTempProjects,
  shippedProject,
  type Harness,
} from "./fixtures";

afterAll(removeTempProjects);

/** Renders a stack of the project copy with its stack file as it is now. */
async function render(h: Harness, stack: string): Promise<RunResult> {
  const cfg = readStackConfig(readProject(h.dir), stack);
  fillSecretPlaceholders(cfg, "blueprint");
  return runStack(stack, cfg);
}

/** Objects by `kind namespace/name`. */
function index(result: RunResult): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const o of result.objects) {
    const m = o.metadata as { name?: string; namespace?: string };
    out.set(`${String(o.kind)} ${m.namespace ?? ""}/${m.name ?? ""}`, o);
  }
  return out;
}

/** Paths (`a.b[0].c`) where two values differ, including keys present on one side only. */
function diffPaths(a: unknown, b: unknown, at = ""): string[] {
  if (a === b) return [];
  if (
    a !== null &&
    b !== null &&
    typeof a === "object" &&
    typeof b === "object" &&
    Array.isArray(a) === Array.isArray(b)
  ) {
    const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
    return [...keys].flatMap((k) =>
      diffPaths(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        Array.isArray(a) ? `${at}[${k}]` : `${at}.${k}`,
      ),
    );
  }
  return [at];
}

/** Every `image` value in the rendered objects. */
function images(result: RunResult): string[] {
  const found: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        if (k === "image" && typeof x === "string") found.push(x);
        else walk(x);
      }
    }
  };
  result.objects.forEach(walk);
  return found.sort();
}

describe("promoting a release, rendered", () => {
  it("changes only image references and the release-id version label of the lane's team stack, leaves the other lane's as it was, and prod pulls dev's digests byte for byte", async () => {
    const h = harnessIn(shippedProject(), "shop");
    const id = await releaseVerifiedInDev(h, "a");
    h.clock.advance(HOUR);

    const before = await render(h, "staging.shop");
    const otherBefore = await render(h, "staging.payments");
    expect(await h.cli("promote", "staging")).toBe(0);
    const after = await render(h, "staging.shop");
    expect((await render(h, "staging.payments")).objects).toEqual(otherBefore.objects);

    const objectsBefore = index(before);
    const objectsAfter = index(after);
    expect([...objectsAfter.keys()].sort()).toEqual([...objectsBefore.keys()].sort());
    const changed = [...objectsAfter].flatMap(([key, obj]) =>
      diffPaths(objectsBefore.get(key), obj).map((p) => `${key} ${p}`),
    );
    const allowed =
      /(\.containers\[\d+\]\.image|\.initContainers\[\d+\]\.image|\.labels\.app\.kubernetes\.io\/version)$/;
    expect(changed.filter((p) => !allowed.test(p))).toEqual([]);
    // Every container of every workload of the lane moved to the release's digest, and nothing else did.
    const imagePaths = changed.filter((p) => p.endsWith(".image"));
    expect(imagePaths.length).toBe(images(after).length);
    expect(imagePaths.length).toBe(images(before).length);
    expect(images(after).every((i) => i === `${PODINFO}@${digest("a")}`)).toBe(true);
    expect(after.outputs.releaseId).toBe(id);

    // The program's own outputs are accepted as staging's evidence, and refused as dev's.
    fs.writeFileSync(path.join(h.dir, "staging-outputs.json"), JSON.stringify(after.outputs));
    expect(await h.cli("verify", "dev", "--outputs", path.join(h.dir, "staging-outputs.json"))).toBe(1);
    expect(await h.cli("verify", "staging", "--outputs", path.join(h.dir, "staging-outputs.json"))).toBe(0);
    h.clock.advance(24 * HOUR);
    await attachCleanScan(h, id);
    h.actor = "Alice <alice@example.com>";
    expect(await h.cli("approve", "prod", "--release", id)).toBe(0);
    h.actor = "ci";
    expect(await h.cli("promote", "prod")).toBe(0);
    drain(h);

    const [dev, prod] = [await render(h, "dev.shop"), await render(h, "prod.shop")];
    // One container per app of the lane (frontend, backend), each on the release's digest, in dev and prod alike.
    const released = `${PODINFO}@${digest("a")}`;
    expect(images(prod)).toEqual(APPS.shop.map(() => released));
    expect(images(dev)).toEqual(images(prod));
    expect(Buffer.from(images(prod)[0])).toEqual(Buffer.from(`${PODINFO}@${digest("a")}`));
    expect(prod.outputs.images).toEqual(dev.outputs.images);
  });
});

describe("where evidence comes from, rendered", () => {
  const project = openProject(PROJECT_DIR);
  const stacks = project.lanes.flatMap((lane) =>
    project.lane(lane).stages.ordered.map((s) => [s.stack, lane, s.name] as const),
  );
  it.each(stacks)(
    "team stack %s outputs its stack and the cluster identity verify expects, and every pod names the stack",
    async (stack, lane, stage) => {
      const result = await runStack(stack);
      const ws = project.lane(lane);
      expect(result.outputs.stack).toBe(stack);
      expect(result.outputs.cluster).toBe(expectedCluster(ws, ws.stages.get(stage)));
      const workloads = result.objects.filter((o) => o.kind === "Deployment" || o.kind === "Job");
      const templates = workloads.map(
        (o) => (o.spec as { template: { metadata: { annotations?: Record<string, string> } } }).template,
      );
      // The workloads are the apps the stack file declares, one Deployment each, in the team's namespace.
      const file = parseYaml(fs.readFileSync(path.join(PROJECT_DIR, "stacks", `Pulumi.${stack}.yaml`), "utf8")) as {
        config: { "blueprint:apps": object };
      };
      const apps = Object.keys(file.config["blueprint:apps"]);
      const names = workloads.map((o) => {
        const m = o.metadata as { name: string; namespace: string };
        return `${String(o.kind)} ${m.namespace}/${m.name}`;
      });
      expect(names.sort()).toEqual(apps.map((a) => `Deployment ${lane}/${a}`).sort());
      for (const t of templates) expect(t.metadata.annotations?.[STACK_ANNOTATION]).toBe(stack);
    },
  );
});
