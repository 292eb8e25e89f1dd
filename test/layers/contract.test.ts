import { asPlatform, platformOf, runStack, runStackError, setConfig, stackConfig } from "../helpers/program";
import type { StackOutputsByName } from "../../tools/offline/mocks";

/** The dev platform's outputs with the contract edited (the whole map, keyed by team). */
async function editedPlatform(
  edit: (contract: Record<string, Record<string, unknown>>) => void,
): Promise<StackOutputsByName> {
  const shipped = await platformOf("dev.shop");
  const copy = structuredClone(shipped) as Record<
    string,
    { outputs: Record<string, unknown>; secretOutputNames: string[] }
  >;
  edit(copy["dev.platform"].outputs.contract as Record<string, Record<string, unknown>>);
  return copy;
}

describe("the platform contract, where a team stack reads it", () => {
  it("is exported per team, secret, with the settings the team stacks need", async () => {
    const platform = await runStack("dev.platform");
    expect(platform.outputs.contract).toBe("[secret]");
    expect(platform.stackOutputs.secretOutputNames).toEqual(["kubeconfig", "contract"]);
    const contract = platform.stackOutputs.outputs.contract as Record<string, Record<string, unknown>>;
    expect(Object.keys(contract).sort()).toEqual(["payments", "shop"]);
    expect(contract.shop).toMatchObject({
      version: 2,
      platformStack: "dev.platform",
      environment: "dev",
      production: false,
      cloud: "aws",
      namespace: "shop",
      cluster: { identity: "aws/eu-west-1/blueprint-dev", name: "blueprint-dev" },
      storageClasses: { names: ["app-storage"], default: "app-storage" },
      allowedRegistries: ["docker.io/library", "docker.io/valkey", "ghcr.io"],
      monitoring: "prometheus-operator",
    });
    // Exec authentication: the reader's own identity, never a token.
    expect(contract.shop.kubeconfig).toMatch(/"exec"/);
    expect(contract.shop.kubeconfig).not.toMatch(/token"\s*:/);
  });

  it("refuses a missing platform stack, naming it and the team stack file, before registering anything", async () => {
    const message = await runStackError("dev.shop", stackConfig("dev.shop"), { stacks: {} });
    expect(message).toMatch(
      /^1 configuration problem in stacks\/Pulumi\.dev\.shop\.yaml:\nstacks\/Pulumi\.dev\.shop\.yaml: blueprint:team names the platform stack "dev\.platform", which has no output "contract"/,
    );
  });

  it("reads the platform stack blueprint:platformStack names, and names it when it is missing", async () => {
    // Another organization's stack of the same environment (a platform stack may live elsewhere, never in another environment).
    const cfg = setConfig(stackConfig("dev.shop"), "blueprint:platformStack", "acme/blueprint/dev.platform");
    const message = await runStackError("dev.shop", cfg, { stacks: {} });
    expect(message).toContain(
      'stacks/Pulumi.dev.shop.yaml: blueprint:platformStack names the platform stack "acme/blueprint/dev.platform", which has no output "contract"',
    );
    const shipped = (await platformOf("dev.shop"))["dev.platform"];
    const result = await runStack("dev.shop", cfg, { stacks: { "acme/blueprint/dev.platform": shipped } });
    expect(result.outputs.namespace).toBe("shop");
  });

  it("refuses a team the platform does not provision, naming the platform stack and its teams", async () => {
    const stacks = await editedPlatform((c) => {
      delete c.shop;
    });
    expect(await runStackError("dev.shop", stackConfig("dev.shop"), { stacks })).toContain(
      'stacks/Pulumi.dev.shop.yaml: blueprint:team names team "shop", which the platform stack "dev.platform" does not provision (teams: payments); add it to blueprint:teams of dev.platform',
    );
  });

  it("refuses an old or newer contract version, naming the platform stack", async () => {
    // Version 1 had no `monitoring`: a platform not yet upgraded is named, not misread.
    const older = await editedPlatform((c) => {
      c.shop.version = 1;
      delete c.shop.monitoring;
    });
    expect(await runStackError("dev.shop", stackConfig("dev.shop"), { stacks: older })).toContain(
      'blueprint:team reads contract version 2, but the platform stack "dev.platform" exports version 1 for team "shop": run `pulumi up` in the platform stack with this program\'s version',
    );
    const newer = await editedPlatform((c) => {
      c.shop.version = 3;
    });
    expect(await runStackError("dev.shop", stackConfig("dev.shop"), { stacks: newer })).toContain(
      'exports version 3 for team "shop": upgrade this program',
    );
  });

  it("refuses a contract of the right version that is malformed", async () => {
    const stacks = await editedPlatform((c) => {
      delete c.shop.namespace;
    });
    expect(await runStackError("dev.shop", stackConfig("dev.shop"), { stacks })).toContain(
      'reads a contract from the platform stack "dev.platform" that is not valid: namespace',
    );
  });

  it("registers nothing but the StackReference when the contract is refused", async () => {
    const { runProgram } = await import("../../tools/offline/run");
    const mocks = await import("../../tools/offline/mocks");
    const seen: string[] = [];
    const original = mocks.RecordingMocks.prototype.newResource;
    const spy = jest.spyOn(mocks.RecordingMocks.prototype, "newResource").mockImplementation(function (
      this: InstanceType<typeof mocks.RecordingMocks>,
      args,
    ) {
      seen.push(args.type);
      return original.call(this, args);
    });
    try {
      await expect(runProgram({ stack: "dev.shop", config: stackConfig("dev.shop"), stacks: {} })).rejects.toThrow(
        /has no output "contract"/,
      );
    } finally {
      spy.mockRestore();
    }
    // The stack itself and the read of the platform's outputs; no Kubernetes object, no provider.
    expect(seen).toEqual(["pulumi:pulumi:Stack", "pulumi:pulumi:StackReference"]);
  });

  it("feeds a team stack the outputs of a platform run with edited config", async () => {
    const platform = await runStack(
      "dev.platform",
      setConfig(stackConfig("dev.platform"), "blueprint:teams.shop.quota.pods", 3),
    );
    const message = await runStackError("dev.shop", stackConfig("dev.shop"), { stacks: asPlatform(platform) });
    expect(message).toContain(
      'blueprint:apps need 6 of pods at maximum scale plus rollout surge, but the team\'s quota is 3 (blueprint:teams.shop.quota.pods of the platform stack "dev.platform")',
    );
  });
});
