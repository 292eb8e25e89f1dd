import * as fs from "node:fs";
import * as path from "node:path";
import { evaluate, RULES, type PolicyResourceView } from "../../policy/rules";
import { settingsOf, type PackConfig } from "../../policy/pack-config";
import { IN_CLUSTER_IMAGES } from "../../lib/services";
import { isAllowedImage } from "../../lib/registries";
import { policyEnvironment, policyViews } from "../../tools/audit";
import type { RunResult } from "../../tools/offline/run";
import { PROJECT_DIR, runStack } from "../helpers/program";

/**
 * The platform's own users Job (namespace blueprint-data) runs the upstream Postgres image: the
 * pack allows that exact reference, and the teams' allow-list does not grow for it.
 */

const ALPINE = `docker.io/library/alpine@sha256:${"c".repeat(64)}`;
const OTHER_POSTGRES = `docker.io/library/postgres@sha256:${"d".repeat(64)}`;
const rule = RULES.find((r) => r.name === "images-from-allowed-registries")!;

const packConfigOf = (stack: string) =>
  JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "policy", "config", `${stack}.json`), "utf8")) as PackConfig;
/** What the registry rule says about `views` at the committed pack config of `stack`. */
const violations = (stack: string, views: readonly PolicyResourceView[]) =>
  evaluate([rule], views, (r) => settingsOf(packConfigOf(stack), r)).map((v) => v.message);

type Props = { metadata: { namespace?: string }; spec: { template: { spec: { containers: { image: string }[] } } } };
const propsOf = (v: PolicyResourceView) => v.props as unknown as Props;
/** A copy of a workload view whose first container runs `image`. */
function withImage(view: PolicyResourceView, image: string): PolicyResourceView {
  const props = structuredClone(view.props) as unknown as Props;
  props.spec.template.spec.containers[0].image = image;
  return { ...view, props: props as unknown as Record<string, unknown> };
}

describe.each(["staging", "prod", "prod-gke"])("%s: the platform's users Job and the teams' allow-list", (env) => {
  let platform: RunResult;
  let job: PolicyResourceView;
  beforeAll(async () => {
    platform = await runStack(`${env}.platform`);
    job = policyViews(platform).find(
      (v) => v.props.kind === "Job" && propsOf(v).metadata.namespace === "blueprint-data",
    )!;
  });

  it("gives the teams a contract whose allow-list has no docker.io/library, which the Job's image is outside of", () => {
    const contract = platform.stackOutputs.outputs.contract as Record<string, { allowedRegistries: string[] }>;
    expect(Object.keys(contract).length).toBeGreaterThan(0);
    for (const team of Object.values(contract)) {
      expect(team.allowedRegistries).not.toContain("docker.io/library");
      expect(isAllowedImage(ALPINE, team.allowedRegistries)).toBe(false);
      expect(isAllowedImage(IN_CLUSTER_IMAGES.postgres, team.allowedRegistries)).toBe(false);
    }
    // No mirror of Docker Hub on these clusters: the Job pulls the pinned reference itself.
    expect(propsOf(job).spec.template.spec.containers[0].image).toBe(IN_CLUSTER_IMAGES.postgres);
  });

  it("lets the platform's pack config allow the Job's exact image, and nothing else from its registry", () => {
    expect(packConfigOf(`${env}.platform`)["images-from-allowed-registries"].platformImages).toEqual([
      IN_CLUSTER_IMAGES.postgres,
    ]);
    expect(violations(`${env}.platform`, [job])).toEqual([]);
    for (const image of [ALPINE, OTHER_POSTGRES])
      expect(violations(`${env}.platform`, [withImage(job, image)])).toEqual([
        expect.stringMatching(
          new RegExp(`^Job blueprint-data/.*"${image.replace(/[./]/g, "\\$&")}" is not from an allowed registry`),
        ),
      ]);
  });

  it("refuses a team image from docker.io/library at the team stacks' pack configs, and the Job's image too", () => {
    const workload = policyViews(platform).find((v) => v.props.kind === "Job")!;
    for (const team of ["shop", "payments"]) {
      for (const image of [ALPINE, IN_CLUSTER_IMAGES.postgres])
        expect(violations(`${env}.${team}`, [withImage(workload, image)])).toEqual([
          expect.stringMatching(/is not from an allowed registry \((ghcr\.io|europe-west1-docker\.pkg\.dev\/\S+)\)$/),
        ]);
    }
  });
});

describe("the platform images the audit lists", () => {
  const MIRROR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/docker";
  const mirrored = IN_CLUSTER_IMAGES.postgres.replace("docker.io", MIRROR);
  const job = (namespace: string, image: string) => ({
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "users", namespace },
    spec: { template: { spec: { containers: [{ name: "psql", image }] } } },
  });
  const run = (objects: Record<string, unknown>[], mirrors: Record<string, string>): RunResult =>
    ({
      objects,
      resources: objects.map((_, i) => ({ type: "kubernetes:batch/v1:Job", name: `j${i}`, inputs: {} })),
      stackOutputs: { outputs: { contract: { shop: { registry: { mirrors } } } }, secretOutputNames: [] },
    }) as unknown as RunResult;

  it("names the reference the Job pulls through a mirror of Docker Hub, not the upstream one", () => {
    const env = policyEnvironment(run([job("blueprint-data", mirrored)], { "docker.io": MIRROR }), true, undefined);
    expect(env.platformImages).toEqual([mirrored]);
  });

  it("names the pinned image only where the platform runs it, never for a team namespace", () => {
    expect(
      policyEnvironment(run([job("shop", IN_CLUSTER_IMAGES.postgres)], {}), true, undefined).platformImages,
    ).toEqual([]);
    expect(
      policyEnvironment(run([job("blueprint-data", IN_CLUSTER_IMAGES.postgres)], {}), true, undefined).platformImages,
    ).toEqual([IN_CLUSTER_IMAGES.postgres]);
    // The upstream reference on a cluster that mirrors Docker Hub is not what the Job pulls.
    expect(
      policyEnvironment(
        run([job("blueprint-data", IN_CLUSTER_IMAGES.postgres)], { "docker.io": MIRROR }),
        true,
        undefined,
      ).platformImages,
    ).toEqual([]);
  });
});
