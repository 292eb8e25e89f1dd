import * as fs from "node:fs";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import type { RunResult } from "../../tools/offline/run";
import { deployAddOns, type AddOn, type AddOnResult } from "../../components/cluster/addon";
import { eksAddOns } from "../../components/cluster/eks/addons";
import { gkeAddOns } from "../../components/cluster/gke/addons";
import { existingAddOns } from "../../components/cluster/existing/addons";
import { onExistingCluster, stackConfig } from "../helpers/program";
import { clusterHandle, registration, runStackWithGraph, urnOf, type Registration, type ResourceKey } from "./harness";

type Graph = Map<ResourceKey, Registration>;
const LBC = "kubernetes:helm.sh/v3:Release::blueprint-prod-load-balancer-controller";
/** The CSI snapshot controller (managed add-on): VolumeSnapshots carry its finalizers. */
const SNAPSHOT = "aws:eks/addon:Addon::blueprint-prod-snapshot-controller";
const EBS_CSI = "aws:eks/addon:Addon::blueprint-prod-aws-ebs-csi-driver";

/** A stand-in resource: the add-on plumbing only carries resources along, it never reads them. */
const fake = (id: string) => ({ id }) as unknown as pulumi.Resource;
const addOn = (name: string, result: AddOnResult): AddOn<null> => ({ name, deploy: () => result });

let eks: { result: RunResult; graph: Graph };
let gke: { result: RunResult; graph: Graph };
beforeAll(async () => {
  eks = await runStackWithGraph("prod.platform");
  gke = await runStackWithGraph("prod-gke.platform");
});

describe("team namespaces and the controllers whose finalizers they need", () => {
  it("makes every team Namespace on EKS depend on the Load Balancer Controller release and the EBS CSI driver, by URN", () => {
    for (const team of ["shop", "payments"]) {
      const ns = registration(eks.graph, `kubernetes:core/v1:Namespace::${team}`);
      // The engine deletes a resource before what it depends on: the namespace (and its Ingresses
      // and volumes) goes while the controllers still run their finalizers.
      expect([...ns.dependencyUrns]).toEqual(
        expect.arrayContaining([
          "urn:pulumi:prod.platform::blueprint::blueprint:cluster:Eks$kubernetes:helm.sh/v3:Release::blueprint-prod-load-balancer-controller",
          "urn:pulumi:prod.platform::blueprint::blueprint:cluster:Eks$aws:eks/addon:Addon::blueprint-prod-aws-ebs-csi-driver",
        ]),
      );
    }
  });

  it("hands the handle's finalizer owners, and only them, to the namespaces", async () => {
    const { handle } = await clusterHandle("prod.platform");
    const urns = async (rs: readonly Parameters<typeof urnOf>[0][]) =>
      (await Promise.all(rs.map(urnOf))).map((u) => u.split("$").pop());
    expect(await urns(handle.finalizerOwners)).toEqual([EBS_CSI, LBC, SNAPSHOT]);
    expect(await urns(handle.ingress.dependsOn)).toEqual([LBC]);
    const deps = [...registration(eks.graph, "kubernetes:core/v1:Namespace::shop").dependsOn].sort();
    expect(deps).toEqual([EBS_CSI, LBC, SNAPSHOT].sort());
  });

  it("gives a namespace no controller to wait for where the cloud runs them itself (GKE) or the cluster is not ours (existing)", async () => {
    expect(registration(gke.graph, "kubernetes:core/v1:Namespace::shop").dependsOn.size).toBe(0);
    expect((await clusterHandle("prod-gke.platform")).handle.finalizerOwners).toEqual([]);
    expect(
      (await clusterHandle("dev.platform", onExistingCluster(stackConfig("dev.platform")))).handle.finalizerOwners,
    ).toEqual([]);
  });

  it("keeps the namespace's other objects after the Namespace, not tied to the controllers themselves", () => {
    const quota = registration(eks.graph, "kubernetes:core/v1:ResourceQuota::shop-quota");
    expect([...quota.dependsOn]).toContain("kubernetes:core/v1:Namespace::shop");
    expect([...quota.dependsOn]).not.toContain(LBC);
  });
});

describe("the cluster's resources keep their URNs wherever their files live", () => {
  // The cluster's own Helm releases; the platform's monitoring stack (PlatformObservability, `observability-*`) is not a cluster add-on.
  // Backing services' cloud resources (blueprint:services:*) are the platform's, not the cluster's.
  const childrenOf = (graph: Graph, cloudPrefix: string) =>
    [...graph.entries()].filter(
      ([k, r]) =>
        (k.startsWith(cloudPrefix) || (k.startsWith("kubernetes:helm.sh/") && !k.includes("::observability-"))) &&
        !String(r.parent).startsWith("blueprint:services:"),
    );

  it("registers every AWS resource and Helm release of an EKS cluster directly under the cluster component", () => {
    const children = childrenOf(eks.graph, "aws:");
    // One resource of each file: network, control plane, nodes, access, and add-ons of each moment.
    expect(children.map(([k]) => k)).toEqual(
      expect.arrayContaining([
        "aws:ec2/vpc:Vpc::blueprint-prod-vpc",
        "aws:eks/cluster:Cluster::blueprint-prod-eks",
        "aws:eks/nodeGroup:NodeGroup::blueprint-prod-general-a",
        "aws:eks/accessEntry:AccessEntry::blueprint-prod-team-shop-maintainers",
        "aws:eks/addon:Addon::blueprint-prod-vpc-cni",
        "aws:iam/role:Role::blueprint-prod-vpc-cni",
        EBS_CSI,
        "kubernetes:helm.sh/v3:Release::blueprint-prod-cluster-autoscaler",
        LBC,
      ]),
    );
    for (const [key, r] of children) expect([key, r.parent]).toEqual([key, "blueprint:cluster:Eks::blueprint-prod"]);
  });

  it("registers every Google Cloud resource of a GKE cluster directly under the cluster component", () => {
    const children = childrenOf(gke.graph, "gcp:");
    expect(children.map(([k]) => k)).toEqual(
      expect.arrayContaining([
        "gcp:compute/network:Network::blueprint-prod-gke-network",
        "gcp:container/cluster:Cluster::blueprint-prod-gke-gke",
        "gcp:container/nodePool:NodePool::blueprint-prod-gke-general",
        "gcp:artifactregistry/repository:Repository::blueprint-prod-gke-mirror",
        "gcp:compute/globalAddress:GlobalAddress::blueprint-prod-gke-ingress-shop-951623a2",
      ]),
    );
    for (const [key, r] of children)
      expect([key, r.parent]).toEqual([key, "blueprint:cluster:Gke::blueprint-prod-gke"]);
  });
});

describe("the add-on interface", () => {
  it("merges what add-ons give in their order, onto what earlier add-ons gave", () => {
    const [a, b, c] = [fake("a"), fake("b"), fake("c")];
    const first = deployAddOns([addOn("one", { nodesWaitFor: [a], finalizerOwners: [a] })], null, fake("parent"));
    const all = deployAddOns(
      [
        addOn("two", { kubernetesWaitsFor: [b], ingressDependencies: [b], finalizerOwners: [b] }),
        addOn("three", { finalizerOwners: [c] }),
      ],
      null,
      fake("parent"),
      first,
    );
    expect(all).toEqual({
      nodesWaitFor: [a],
      kubernetesWaitsFor: [b],
      ingressDependencies: [b],
      finalizerOwners: [a, b, c],
      mirror: undefined,
    });
  });

  it("passes the cluster context and the parent to each add-on", () => {
    const parent = fake("cluster");
    const seen: unknown[] = [];
    deployAddOns<string>([{ name: "x", deploy: (ctx, p) => (seen.push(ctx, p), {}) }], "context", parent);
    expect(seen).toEqual(["context", parent]);
  });

  it("adds nothing for an add-on that is off", () => {
    expect(deployAddOns([addOn("off", {})], null, fake("parent"))).toEqual({
      nodesWaitFor: [],
      kubernetesWaitsFor: [],
      ingressDependencies: [],
      finalizerOwners: [],
      mirror: undefined,
    });
  });

  it("refuses a second registry mirror, naming the add-on", () => {
    const mirror = { upstream: "ghcr.io", registry: "r.example/ghcr" };
    expect(() => deployAddOns([addOn("one", { mirror }), addOn("two", { mirror })], null, fake("parent"))).toThrow(
      "add-on two provides a registry mirror, but another add-on already did",
    );
  });

  it.each([
    ["eks", eksAddOns],
    ["gke", gkeAddOns],
    ["existing", { beforeNodes: [], afterNodes: [], onKubernetes: existingAddOns }],
  ] as const)("lists every add-on file of %s once, under the name its file has", (cloud, list) => {
    const dir = path.resolve(__dirname, `../../components/cluster/${cloud}/addons`);
    const listed = [...list.beforeNodes, ...list.afterNodes, ...list.onKubernetes] as AddOn<unknown>[];
    const files = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".ts") && !["index.ts", "managed.ts", "minio.ts"].includes(f));
    const exported = files.flatMap((f) =>
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      Object.values(require(path.join(dir, f)) as Record<string, unknown>)
        .filter((v): v is AddOn<unknown> => typeof (v as AddOn<unknown>)?.deploy === "function")
        .map((a) => [f, a] as const),
    );
    expect(exported.map(([f]) => f).sort()).toEqual(files.sort());
    for (const [file, a] of exported) {
      expect(listed.filter((l) => l === a)).toHaveLength(1);
      expect(`${a.name}.ts`).toBe(file);
    }
  });
});
