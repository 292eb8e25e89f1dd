import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { execKubeconfig, awsExec } from "../../components/cluster/kubeconfig";
import {
  PROJECT_DIR,
  platformOf,
  runStack,
  setConfig,
  shippedStacks,
  stackConfig,
  withEdits,
} from "../helpers/program";
import { one, unsecret } from "./harness";

const run = promisify(execFile);

describe("the cluster seam", () => {
  it.each(shippedStacks().filter((s) => s.endsWith(".platform")))(
    "%s: every Kubernetes resource, Helm releases included, uses the cluster's one provider",
    async (stack) => {
      const result = await runStack(stack);
      const providers = result.resources.filter((r) => r.type === "pulumi:providers:kubernetes");
      expect(providers).toHaveLength(1);
      const clusterName = result.outputs.clusterName as string;
      expect(providers[0].name).toBe(`${clusterName}-k8s`);
      const kube = result.resources.filter((r) => r.type.startsWith("kubernetes:"));
      expect(kube.length).toBeGreaterThan(10);
      const refs = new Set(kube.map((r) => r.provider));
      expect(refs.size).toBe(1);
      expect([...refs][0]).toMatch(
        new RegExp(`\\$pulumi:providers:kubernetes::${clusterName}-k8s::${clusterName}-k8s-id$`),
      );
    },
  );

  it.each(shippedStacks().filter((s) => !s.endsWith(".platform")))(
    "%s: every Kubernetes object uses the team's one provider, built from the contract",
    async (stack) => {
      const result = await runStack(stack);
      const providers = result.resources.filter((r) => r.type === "pulumi:providers:kubernetes");
      expect(providers).toHaveLength(1);
      const contract = (await platformOf(stack))[`${stack.split(".")[0]}.platform`].outputs.contract as Record<
        string,
        { clusterIdentifier: string; namespace: string }
      >;
      const team = contract[stack.split(".")[1]];
      expect(providers[0].inputs).toMatchObject({
        clusterIdentifier: team.clusterIdentifier,
        namespace: team.namespace,
      });
      const kube = result.resources.filter((r) => r.type.startsWith("kubernetes:"));
      expect(new Set(kube.map((r) => r.provider))).toEqual(
        new Set([expect.stringMatching(/\$pulumi:providers:kubernetes::k8s::k8s-id$/)]),
      );
    },
  );

  it.each([
    ["prod-gke.platform", { aws: false, gcp: true }],
    ["prod.platform", { aws: true, gcp: false }],
    ["local.platform", { aws: false, gcp: false }],
  ])("a run of %s loads only its own cloud's SDK", async (stack, expected) => {
    const script = path.join(__dirname, "fixtures", "loaded-sdks.cjs");
    const { stdout } = await run(process.execPath, [script, stack], {
      cwd: PROJECT_DIR,
      timeout: 60_000,
    });
    const loaded = JSON.parse(stdout.trim().split("\n").pop()!) as {
      aws: boolean;
      gcp: boolean;
      kubernetes: boolean;
      resources: number;
    };
    expect({ aws: loaded.aws, gcp: loaded.gcp }).toEqual(expected);
    expect(loaded.kubernetes).toBe(true);
    expect(loaded.resources).toBeGreaterThan(20);
  });

  it.each(["prod.shop", "prod-gke.payments"])(
    "a run of the team stack %s loads no cloud SDK and no cluster code",
    async (stack) => {
      const outputs = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "platform-outputs-")), "platform.json");
      fs.writeFileSync(outputs, JSON.stringify(await platformOf(stack)));
      const script = path.join(__dirname, "fixtures", "loaded-sdks.cjs");
      const { stdout } = await run(process.execPath, [script, stack, outputs], {
        cwd: PROJECT_DIR,
        timeout: 60_000,
      });
      const loaded = JSON.parse(stdout.trim().split("\n").pop()!) as {
        aws: boolean;
        gcp: boolean;
        kubernetes: boolean;
        clusterCode: boolean;
        resources: number;
      };
      expect(loaded).toMatchObject({ aws: false, gcp: false, clusterCode: false, kubernetes: true });
      expect(loaded.resources).toBeGreaterThan(5);
    },
  );

  it.each([
    [
      "prod.platform",
      [
        ["blueprint:cluster.kubernetesVersion", "1.35"],
        ["blueprint:cluster.aws.nodeGroups.general.maxSize", 20],
      ],
    ],
    ["prod-gke.platform", [["blueprint:cluster.gcp.nodePools.general.maxSize", 20]]],
  ] as const)(
    "%s: keeps the kubeconfig text across an update of the cluster (upgrade, node bounds), so the provider replaces nothing; only another cluster changes it",
    async (stack, edits) => {
      const kubeconfig = async (cfg = stackConfig(stack)) =>
        unsecret(one(await runStack(stack, cfg), "pulumi:providers:kubernetes").inputs.kubeconfig) as string;
      const deployed = await kubeconfig(
        withEdits(
          stackConfig(stack),
          edits.map(([k, v]) => [k, v] as const),
        ),
      );
      const updated = await kubeconfig();
      expect(updated).toContain('"server":"https://');
      expect(updated).toBe(deployed);
      const other = await kubeconfig(setConfig(stackConfig(stack), "blueprint:cluster.name", "blueprint-other"));
      expect(JSON.parse(other).clusters[0].name).toMatch(/blueprint-other$/);
      expect(JSON.parse(updated).clusters[0].name).toMatch(/blueprint-prod(-gke)?$/);
    },
  );

  it("builds the same kubeconfig from the same fields, and a different one when a stable field changes", () => {
    const fields = {
      name: "c",
      server: "https://x",
      certificateAuthorityData: "Q0E=",
      exec: awsExec("c", "eu-west-1"),
    };
    expect(execKubeconfig(fields)).toBe(execKubeconfig({ ...fields }));
    expect(execKubeconfig({ ...fields, server: "https://y" })).not.toBe(execKubeconfig(fields));
    expect(execKubeconfig(fields)).not.toMatch(/token"\s*:/);
  });

  it("reaches the local kind cluster through the named context of the ambient kubeconfig", async () => {
    const result = await runStack("local.platform");
    const provider = one(result, "pulumi:providers:kubernetes").inputs;
    expect(provider.context).toBe("kind-blueprint");
    const team = one(await runStack("local.shop"), "pulumi:providers:kubernetes").inputs;
    expect(team.context).toBe("kind-blueprint");
    expect(team.kubeconfig).toBeUndefined();
    expect(provider.kubeconfig).toBeUndefined();
    expect(result.outputs.cloud).toBe("existing");
    expect(result.resources.some((r) => r.type.startsWith("aws:") || r.type.startsWith("gcp:"))).toBe(false);
  });

  it("uses the secret kubeconfig of an existing cluster without a context, keeping it secret", async () => {
    const cfg = setConfig(stackConfig("local.platform"), "blueprint:cluster.existing.context", undefined);
    cfg.config["blueprint:kubeconfig"] = "apiVersion: v1\nkind: Config\n";
    cfg.secretKeys.push("blueprint:kubeconfig");
    const provider = one(await runStack("local.platform", cfg), "pulumi:providers:kubernetes").inputs;
    expect(provider.context).toBeUndefined();
    expect(provider.kubeconfig).not.toBe("apiVersion: v1\nkind: Config\n");
    expect(unsecret(provider.kubeconfig)).toBe("apiVersion: v1\nkind: Config\n");
  });
});
