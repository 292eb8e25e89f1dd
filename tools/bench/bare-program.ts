import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { appObjects, configMapObject, namespaceObject, platformObjects, teamObjects, type ObjectSpec } from "./reference";
import { syntheticEnvironment } from "./synth";

/**
 * The bare-SDK reference: a Pulumi program that registers the same Kubernetes objects as our
 * program, directly with `@pulumi/kubernetes` (no components, no config validation). Like ours,
 * it uses an explicit provider, takes namespaces and the auto-named ConfigMap's name from
 * outputs, and waits for the namespace before its guardrails. The app count comes from
 * `BENCH_APPS`.
 */

type K8sClass = new (name: string, args: never, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource & { readonly metadata: pulumi.Output<k8s.types.output.meta.v1.ObjectMeta> };

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
};

export = async () => {
  const env = syntheticEnvironment(Number(process.env.BENCH_APPS ?? "1"));
  const provider = new k8s.Provider("bench-k8s", { context: "bench", enableServerSideApply: true });
  const create = (o: ObjectSpec, opts: pulumi.CustomResourceOptions = {}) => {
    const Class = classes[o.kind] as K8sClass | undefined;
    if (!Class) throw new Error(`bare program: no class for kind ${o.kind}`);
    return new Class(o.logicalName, o.body as never, { provider, ...opts });
  };

  for (const o of platformObjects()) create(o);
  const namespaces = new Map<string, pulumi.Output<string>>();
  for (const team of env.teams) {
    const ns = create(namespaceObject(team));
    const name = ns.metadata.name;
    namespaces.set(team.name, name);
    for (const o of teamObjects(team, name)) create(o, { dependsOn: [ns] });
  }
  for (const app of env.apps) {
    const namespace = namespaces.get(app.team)!;
    const cm = create(configMapObject(app, namespace));
    const refs = {
      namespace,
      configMapName: cm.metadata.name,
      serviceAccountName: app.name,
      priorityClassName: "blueprint-standard",
      deploymentName: app.name,
      image: `${app.repository}@${app.digest}`,
    };
    for (const o of appObjects(app, refs)) create(o);
  }
  return {};
};
