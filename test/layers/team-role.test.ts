import { MAINTAINER_RULES, maintainerRules } from "../../components/guardrails";
import type { MonitoringFlavour } from "../../lib/observability";
import { byKind, runStack, setConfig, shippedStacks, stackConfig, type K8sObject } from "../helpers/program";
import { resourceOf, roleViolations, type Rule } from "../helpers/rbac";

const RULES = MAINTAINER_RULES as readonly Rule[];
/** The maintainer Role of a cluster with this monitoring flavour, as plain rules. */
const rulesFor = (monitoring: MonitoringFlavour) => maintainerRules(monitoring) as readonly Rule[];
const teamStacks = shippedStacks().filter((s) => !s.endsWith(".platform"));

/** The team's maintainer Role as the platform renders it, and the group it is bound to. */
async function boundRole(
  stack: string,
): Promise<{ rules: readonly Rule[]; groups: string[]; monitoring: MonitoringFlavour }> {
  const team = stack.split(".")[1];
  const platform = await runStack(`${stack.split(".")[0]}.platform`);
  const role = [...byKind(platform, "Role").values()].find(
    (r) => r.metadata.namespace === team && (r.rules as Rule[]).some((x) => x.verbs.includes("create")),
  )!;
  const binding = [...byKind(platform, "RoleBinding").values()].find(
    (b) => b.metadata.namespace === team && (b.roleRef as { name: string }).name === role.metadata.name,
  )!;
  const monitoring = (platform.stackOutputs.outputs.contract as Record<string, { monitoring: MonitoringFlavour }>)[team]
    .monitoring;
  return {
    rules: role.rules as Rule[],
    groups: (binding.subjects as { kind: string; name: string }[]).filter((s) => s.kind === "Group").map((s) => s.name),
    monitoring,
  };
}

describe("what a team stack registers, against the Role the platform binds to the team's group", () => {
  it.each(teamStacks)(
    "%s: every object is namespaced, in the team's namespace, of a kind and verbs the Role allows",
    async (stack) => {
      const team = stack.split(".")[1];
      const result = await runStack(stack);
      const objects = result.objects as K8sObject[];
      expect(objects.length).toBeGreaterThan(3);
      const { rules, groups, monitoring } = await boundRole(stack);
      expect(groups.length).toBeGreaterThan(0);
      // The rendered Role is the one components/guardrails.ts defines, with the monitor and rule kinds of the cluster's flavour.
      expect(rules).toEqual(JSON.parse(JSON.stringify(maintainerRules(monitoring))));
      expect(roleViolations(objects, team, rules)).toEqual([]);
      // Nothing else but the provider and the read of the platform's outputs.
      expect(
        result.resources
          .filter((r) => r.custom && !r.type.startsWith("kubernetes:") && r.type !== "pulumi:providers:kubernetes")
          .map((r) => r.type),
      ).toEqual(["pulumi:pulumi:StackReference"]);
    },
  );

  it("covers every kind a team stack can register: volumes, release Jobs, ingress, egress policies", async () => {
    let cfg = stackConfig("staging.shop");
    cfg = setConfig(cfg, "blueprint:volumes", { data: { size: "1Gi", accessMode: "ReadWriteMany" } });
    cfg = setConfig(cfg, "blueprint:apps.backend.volumeMounts", { data: "/data" });
    cfg = setConfig(cfg, "blueprint:apps.backend.releaseJob", { command: ["./migrate"] });
    cfg = setConfig(cfg, "blueprint:apps.backend.egress", [{ cidrs: ["10.99.0.0/16"], ports: [{ port: 5432 }] }]);
    cfg = setConfig(cfg, "blueprint:apps.backend.slo", { objective: 99.9, window: "28d" });
    const objects = (await runStack("staging.shop", cfg)).objects as K8sObject[];
    const kinds = new Set(objects.map((o) => o.kind));
    for (const k of [
      "PersistentVolumeClaim",
      "Job",
      "Ingress",
      "NetworkPolicy",
      "HorizontalPodAutoscaler",
      "ServiceMonitor",
      "PrometheusRule",
    ])
      expect(kinds).toContain(k);
    expect(roleViolations(objects, "shop", rulesFor("prometheus-operator"))).toEqual([]);
    // Without the monitoring kinds the same objects are refused: the grant is what allows them.
    expect(
      roleViolations(objects, "shop", RULES)
        .filter((v) => /monitoring\.coreos\.com/.test(v))
        .sort(),
    ).toEqual([
      "PrometheusRule shop/backend-slo: the Role does not allow get, list, watch, create, update, patch, delete on monitoring.coreos.com/prometheusrules",
      "ServiceMonitor shop/backend: the Role does not allow get, list, watch, create, update, patch, delete on monitoring.coreos.com/servicemonitors",
      "ServiceMonitor shop/frontend: the Role does not allow get, list, watch, create, update, patch, delete on monitoring.coreos.com/servicemonitors",
    ]);
  });

  it("covers the Managed Prometheus kinds on GKE: PodMonitoring and Rules, and nothing of prometheus-operator", async () => {
    const cfg = setConfig(stackConfig("prod-gke.shop"), "blueprint:apps.backend.slo", {
      objective: 99.9,
      window: "30d",
    });
    const objects = (await runStack("prod-gke.shop", cfg)).objects as K8sObject[];
    const kinds = new Set(objects.map((o) => o.kind));
    for (const k of ["PodMonitoring", "Rules"]) expect(kinds).toContain(k);
    for (const k of ["ServiceMonitor", "PrometheusRule"]) expect(kinds).not.toContain(k);
    expect(roleViolations(objects, "shop", rulesFor("gmp"))).toEqual([]);
    expect(
      roleViolations(objects, "shop", rulesFor("prometheus-operator")).some((v) =>
        v.includes("monitoring.googleapis.com/rules"),
      ),
    ).toBe(true);
  });

  it("fails for a team stack that would add a cluster-scoped object, an object elsewhere or a kind the Role does not grant", async () => {
    const objects = [...((await runStack("dev.shop")).objects as K8sObject[])];
    objects.push({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "escalate" } });
    objects.push({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "elsewhere", namespace: "payments" } });
    objects.push({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "self-grant", namespace: "shop" },
    });
    expect(roleViolations(objects, "shop", rulesFor("prometheus-operator"))).toEqual([
      "ClusterRole escalate is cluster-scoped: a team's Role grants nothing outside its namespace",
      "ConfigMap payments/elsewhere is in namespace payments, not the team's shop",
      "RoleBinding shop/self-grant: the Role does not allow get, list, watch, create, update, patch, delete on rbac.authorization.k8s.io/rolebindings",
    ]);
  });

  it("names resources as RBAC does", () => {
    expect(resourceOf({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy" })).toEqual({
      group: "networking.k8s.io",
      resource: "networkpolicies",
    });
    expect(resourceOf({ apiVersion: "networking.k8s.io/v1", kind: "Ingress" })).toEqual({
      group: "networking.k8s.io",
      resource: "ingresses",
    });
    expect(resourceOf({ apiVersion: "v1", kind: "Service" })).toEqual({ group: "", resource: "services" });
    expect(resourceOf({ apiVersion: "monitoring.googleapis.com/v1", kind: "Rules" })).toEqual({
      group: "monitoring.googleapis.com",
      resource: "rules",
    });
    expect(resourceOf({ apiVersion: "monitoring.googleapis.com/v1", kind: "PodMonitoring" })).toEqual({
      group: "monitoring.googleapis.com",
      resource: "podmonitorings",
    });
  });
});
