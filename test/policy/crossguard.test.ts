import type {
  PolicyResource,
  ResourceValidation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { crossGuardPolicies } from "../../policy/crossguard";
import { RULES } from "../../policy/rules";

const deployment = (image: string, replicas = 3) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "shop" },
  spec: {
    replicas,
    template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "app", image }] } },
  },
});
const TYPE = "kubernetes:apps/v1:Deployment";
const URN = "urn:pulumi:prod::blueprint::kubernetes:apps/v1:Deployment::web";

/** The arguments the engine hands a resource policy, with the config of `--policy-pack-config`. */
function resourceArgs(props: Record<string, unknown>, config: object, protect = false): ResourceValidationArgs {
  return {
    type: TYPE,
    name: "web",
    urn: URN,
    props,
    stackTags: new Map(),
    opts: {
      protect,
      ignoreChanges: [],
      aliases: [],
      additionalSecretOutputs: [],
      customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    },
    getConfig: <T extends object>() => config as T,
    isType: () => false,
    asType: () => undefined,
    notApplicable: () => {
      throw new Error("not applicable");
    },
  };
}

/** A resource policy's single validation function (the SDK's type also allows a list). */
const validation = (policy: ResourceValidationPolicy): ResourceValidation => {
  const v = policy.validateResource;
  if (typeof v !== "function") throw new Error(`policy ${policy.name} has no single validateResource`);
  return v;
};

describe("the CrossGuard policy pack", () => {
  const policies = crossGuardPolicies();
  const byName = (name: string) => policies.find((p) => p.name === name)!;

  it("has one policy per rule, with a config schema where the rule reads config", () => {
    expect(policies.map((p) => p.name)).toEqual(RULES.map((r) => r.name));
    expect(byName("images-from-allowed-registries").configSchema).toEqual({
      properties: {
        allowedRegistries: { type: "array", items: { type: "string" } },
        platformImages: { type: "array", items: { type: "string" } },
      },
    });
    expect(byName("images-pinned-by-digest").configSchema).toBeUndefined();
  });

  it("hands a resource's inputs and the policy's config to its rule, and reports what the rule finds", async () => {
    const policy = byName("images-from-allowed-registries") as ResourceValidationPolicy;
    const report = jest.fn();
    const pinned = `ghcr.io/acme/web@sha256:${"a".repeat(64)}`;
    await validation(policy)(resourceArgs(deployment(pinned), { allowedRegistries: ["ghcr.io"] }), report);
    expect(report).not.toHaveBeenCalled();
    await validation(policy)(resourceArgs(deployment(pinned), { allowedRegistries: ["registry.example.com"] }), report);
    expect(report).toHaveBeenCalledWith(expect.stringMatching(/not from an allowed registry \(registry.example.com\)/));
  });

  it("passes the protect option to the protection rule", async () => {
    const policy = byName("production-protected-data") as ResourceValidationPolicy;
    const ns = { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } };
    const report = jest.fn();
    await validation(policy)({ ...resourceArgs(ns, {}, true), type: "kubernetes:core/v1:Namespace" }, report);
    expect(report).not.toHaveBeenCalled();
    await validation(policy)({ ...resourceArgs(ns, {}, false), type: "kubernetes:core/v1:Namespace" }, report);
    expect(report).toHaveBeenCalledWith(expect.stringMatching(/Namespace shop: is not protected/));
  });

  it("reports a stack policy's violation against the offending resource's URN", async () => {
    const policy = byName("production-replicas") as StackValidationPolicy;
    const resource = (replicas: number): PolicyResource =>
      ({
        ...resourceArgs(deployment("x", replicas), {}),
        dependencies: [],
        propertyDependencies: {},
      }) as unknown as PolicyResource;
    const args = (replicas: number): StackValidationArgs => ({
      resources: [resource(replicas)],
      stackTags: new Map(),
      getConfig: <T extends object>() => ({}) as T,
      notApplicable: () => {
        throw new Error("n/a");
      },
    });
    const report = jest.fn();
    await policy.validateStack(args(3), report);
    expect(report).not.toHaveBeenCalled();
    await policy.validateStack(args(1), report);
    expect(report).toHaveBeenCalledWith(expect.stringMatching(/replicas is 1; production needs at least 2/), URN);
  });
});
