import { runComponents, type K8sObject } from "../helpers/program";
import { MAINTAINER_RULES } from "../../components/guardrails";
import { grantsBeyond, type Rule } from "../helpers/rbac";

const ofKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);

describe("TeamNamespace", () => {
  it("labels the namespace for Pod Security restricted by default", async () => {
    const { objects } = await runComponents(
      (s) => new s.components.TeamNamespace("shop", { name: "shop" }, { providers: [s.provider] }),
    );
    const ns = ofKind(objects, "Namespace")[0];
    expect(ns.metadata.labels).toMatchObject({
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/audit": "restricted",
      "pod-security.kubernetes.io/warn": "restricted",
    });
  });

  it("enforces baseline when asked, while still auditing and warning at restricted", async () => {
    const { objects } = await runComponents(
      (s) =>
        new s.components.TeamNamespace("shop", { name: "shop", podSecurity: "baseline" }, { providers: [s.provider] }),
    );
    expect(ofKind(objects, "Namespace")[0].metadata.labels).toMatchObject({
      "pod-security.kubernetes.io/enforce": "baseline",
      "pod-security.kubernetes.io/warn": "restricted",
    });
  });

  it("sets a quota on compute, storage, pods and service types", async () => {
    const { objects } = await runComponents(
      (s) => new s.components.TeamNamespace("shop", { name: "shop", quota: { pods: 7 } }, { providers: [s.provider] }),
    );
    const hard = (ofKind(objects, "ResourceQuota")[0].spec as { hard: Record<string, string> }).hard;
    // The given key, and the documented small-team defaults for every other (no load balancers, no node ports).
    expect(hard).toEqual({
      "requests.cpu": "4",
      "requests.memory": "8Gi",
      "limits.cpu": "8",
      "limits.memory": "16Gi",
      "requests.ephemeral-storage": "20Gi",
      "limits.ephemeral-storage": "40Gi",
      pods: "7",
      services: "20",
      "services.loadbalancers": "0",
      "services.nodeports": "0",
      persistentvolumeclaims: "10",
      "requests.storage": "100Gi",
    });
  });

  it("limits containers and claims through a LimitRange", async () => {
    const { objects } = await runComponents(
      (s) => new s.components.TeamNamespace("shop", { name: "shop" }, { providers: [s.provider] }),
    );
    const limits = (ofKind(objects, "LimitRange")[0].spec as { limits: Array<Record<string, unknown>> }).limits;
    expect(limits.map((l) => l.type)).toEqual(["Container", "PersistentVolumeClaim"]);
    expect(Object.keys(limits[0]).sort()).toEqual(["default", "defaultRequest", "max", "maxLimitRequestRatio", "type"]);
  });

  it("denies all traffic by default but allows DNS and traffic inside the namespace", async () => {
    const { objects } = await runComponents(
      (s) => new s.components.TeamNamespace("shop", { name: "shop" }, { providers: [s.provider] }),
    );
    const policies = ofKind(objects, "NetworkPolicy");
    const deny = policies.find((p) => p.metadata.name === "default-deny")!;
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    const allow = policies.find((p) => p.metadata.name === "allow-namespace-and-dns")!.spec as {
      ingress: unknown[];
      egress: Array<{ ports?: Array<{ port: number; protocol: string }> }>;
    };
    expect(allow.ingress).toEqual([{ from: [{ podSelector: {} }] }]);
    expect(allow.egress.flatMap((e) => e.ports ?? [])).toEqual([
      { protocol: "UDP", port: 53 },
      { protocol: "TCP", port: 53 },
    ]);
  });

  it("binds the team's groups to its own Roles, never to built-in ClusterRoles", async () => {
    const { objects } = await runComponents(
      (s) =>
        new s.components.TeamNamespace(
          "shop",
          { name: "shop", maintainerGroups: ["devs"], viewerGroups: ["support"] },
          { providers: [s.provider] },
        ),
    );
    const bindings = ofKind(objects, "RoleBinding") as Array<
      K8sObject & { roleRef: { kind: string; name: string }; subjects: Array<{ kind: string; name: string }> }
    >;
    expect(
      bindings.map((b) => [b.roleRef.kind, b.roleRef.name, b.subjects.map((x) => `${x.kind}:${x.name}`)]).sort(),
    ).toEqual([
      ["Role", "team-maintainer", ["Group:devs"]],
      ["Role", "team-viewer", ["Group:support"]],
    ]);
  });

  it("grants no exec, attach, wildcard or escalation rights", async () => {
    const { objects } = await runComponents(
      (s) =>
        new s.components.TeamNamespace(
          "shop",
          { name: "shop", maintainerGroups: ["devs"] },
          { providers: [s.provider] },
        ),
    );
    const rules = ofKind(objects, "Role").flatMap(
      (r) => (r as unknown as { rules: Array<{ resources: string[]; verbs: string[] }> }).rules,
    );
    expect(rules.length).toBeGreaterThan(5);
    const resources = rules.flatMap((r) => r.resources);
    const verbs = rules.flatMap((r) => r.verbs);
    expect(resources).not.toEqual(expect.arrayContaining(["pods/exec"]));
    expect(resources).not.toEqual(expect.arrayContaining(["pods/attach"]));
    expect(resources).not.toContain("*");
    expect(verbs).not.toContain("*");
    expect(verbs).not.toEqual(expect.arrayContaining(["escalate"]));
    expect(verbs).not.toEqual(expect.arrayContaining(["bind"]));
  });

  it("grants only what the team allow-list names, in every Role it defines", async () => {
    const { objects } = await runComponents(
      (s) =>
        new s.components.TeamNamespace(
          "shop",
          { name: "shop", maintainerGroups: ["devs"], viewerGroups: ["support"] },
          { providers: [s.provider] },
        ),
    );
    const roles = ofKind(objects, "Role") as unknown as Array<{ rules: Rule[] }>;
    expect(roles).toHaveLength(2);
    for (const role of roles) expect(grantsBeyond(role.rules)).toEqual([]);
  });

  it.each<[string, Rule, string[]]>([
    [
      "port-forwarding",
      { apiGroups: [""], resources: ["pods/portforward"], verbs: ["create", "get"] },
      ["core/pods/portforward create", "core/pods/portforward get"],
    ],
    [
      "impersonation",
      { apiGroups: [""], resources: ["users", "groups", "serviceaccounts"], verbs: ["impersonate"] },
      ["core/users impersonate", "core/groups impersonate", "core/serviceaccounts impersonate"],
    ],
    [
      "ephemeral containers",
      { apiGroups: [""], resources: ["pods/ephemeralcontainers"], verbs: ["patch"] },
      ["core/pods/ephemeralcontainers patch"],
    ],
    [
      "token requests",
      { apiGroups: [""], resources: ["serviceaccounts/token"], verbs: ["create"] },
      ["core/serviceaccounts/token create"],
    ],
    [
      "RBAC writes",
      { apiGroups: ["rbac.authorization.k8s.io"], resources: ["rolebindings"], verbs: ["create"] },
      ["rbac.authorization.k8s.io/rolebindings create"],
    ],
    ["a wildcard", { apiGroups: ["apps"], resources: ["*"], verbs: ["get"] }, ["apps/* get"]],
  ])("the allow-list check catches a rule granting %s", (_what, rule, beyond) => {
    expect(grantsBeyond([...(MAINTAINER_RULES as Rule[]), rule])).toEqual(beyond);
  });

  it("registers no binding for a role whose group list is empty", async () => {
    const { objects } = await runComponents(
      (s) => new s.components.TeamNamespace("shop", { name: "shop" }, { providers: [s.provider] }),
    );
    expect(ofKind(objects, "RoleBinding")).toEqual([]);
    expect(ofKind(objects, "Role")).toHaveLength(2);
  });

  it("reports whether the namespace is protected", async () => {
    const { value } = await runComponents((s) => [
      new s.components.TeamNamespace("a", { name: "a", protect: true }, { providers: [s.provider] }).protected,
      new s.components.TeamNamespace("b", { name: "b" }, { providers: [s.provider] }).protected,
    ]);
    expect(value).toEqual([true, false]);
  });
});
