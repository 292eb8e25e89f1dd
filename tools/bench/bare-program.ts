import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  admissionObjects,
  appObjects,
  configMapObject,
  namespaceObject,
  platformObjects,
  teamObjects,
  type ObjectSpec,
} from "./reference";
import { syntheticEnvironment } from "./synth";

/**
 * The bare-SDK reference: a Pulumi program that registers the same Kubernetes objects as our
 * program, directly with `@pulumi/kubernetes` (no components, no config validation). Like ours,
 * it uses an explicit provider, takes namespaces and the auto-named ConfigMap's name from
 * outputs, and waits for the namespace before its guardrails. The app count comes from
 * `BENCH_APPS`.
 */

type K8sClass = new (
  name: string,
  args: never,
  opts?: pulumi.CustomResourceOptions,
) => pulumi.CustomResource & { readonly metadata: pulumi.Output<k8s.types.output.meta.v1.ObjectMeta> };

const classes: Readonly<Record<string, unknown>> = {
  PriorityClass: k8s.scheduling.v1.PriorityClass,
  StorageClass: k8s.storage.v1.StorageClass,
  Namespace: k8s.core.v1.Namespace,
  ResourceQuota: k8s.core.v1.ResourceQuota,
  LimitRange: k8s.core.v1.LimitRange,
  NetworkPolicy: k8s.networking.v1.NetworkPolicy,
  Role: k8s.rbac.v1.Role,
  RoleBinding: k8s.rbac.v1.RoleBinding,
  ConfigMap: k8s.core.v1.ConfigMap,
  ServiceAccount: k8s.core.v1.ServiceAccount,
  Deployment: k8s.apps.v1.Deployment,
  Service: k8s.core.v1.Service,
  PodDisruptionBudget: k8s.policy.v1.PodDisruptionBudget,
  HorizontalPodAutoscaler: k8s.autoscaling.v2.HorizontalPodAutoscaler,
  ValidatingAdmissionPolicy: k8s.admissionregistration.v1.ValidatingAdmissionPolicy,
  ValidatingAdmissionPolicyBinding: k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding,
};

/**
 * With `BENCH_BARE_COMPONENTS=1`, the same registrations are wrapped in empty components shaped
 * like ours (one per team, two per app, each registering its outputs): this isolates what the SDK
 * charges for component resources themselves from what our components' code costs.
 */
class Group extends pulumi.ComponentResource {
  constructor(type: string, name: string, opts?: pulumi.ComponentResourceOptions) {
    super(type, name, {}, opts);
  }

  public done(outputs: Record<string, unknown>): void {
    this.registerOutputs(outputs);
  }
}

export = async () => {
  const env = syntheticEnvironment(Number(process.env.BENCH_APPS ?? "1"));
  const wrap = process.env.BENCH_BARE_COMPONENTS === "1";
  const provider = new k8s.Provider("bench-k8s", { context: "bench", enableServerSideApply: true });
  const create = (o: ObjectSpec, opts: pulumi.CustomResourceOptions = {}) => {
    const Class = classes[o.kind] as K8sClass | undefined;
    if (!Class) throw new Error(`bare program: no class for kind ${o.kind}`);
    return new Class(o.logicalName, o.body as never, { provider, ...opts });
  };
  const group = (type: string, name: string) =>
    wrap ? new Group(`bench:bare:${type}`, name, { providers: [provider] }) : undefined;
  const done = (g: Group | undefined, outputs: Record<string, unknown>) => g?.done(outputs);

  for (const o of platformObjects()) create(o);
  const namespaces = new Map<string, pulumi.Output<string>>();
  for (const team of env.teams) {
    const g = group("Team", team.name);
    const ns = create(namespaceObject(team), { parent: g });
    const name = ns.metadata.name;
    namespaces.set(team.name, name);
    for (const o of teamObjects(team, name)) create(o, { dependsOn: [ns], parent: g });
    done(g, { name });
  }
  for (const app of env.apps) {
    const namespace = namespaces.get(app.team)!;
    const cg = group("Config", app.name);
    const cm = create(configMapObject(app, namespace), { parent: cg });
    done(cg, { name: cm.metadata.name });
    const wg = group("Workload", app.name);
    const refs = {
      namespace,
      configMapName: cm.metadata.name,
      serviceAccountName: app.name,
      priorityClassName: "blueprint-standard",
      deploymentName: app.name,
      image: `${app.repository}@${app.digest}`,
    };
    const created = appObjects(app, refs).map((o) => create(o, { parent: wg }));
    done(wg, { deploymentName: created[1].metadata.name, serviceName: created[2].metadata.name });
  }
  for (const o of admissionObjects(env)) create(o);
  return {};
};
