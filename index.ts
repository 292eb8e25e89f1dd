import * as pulumi from "@pulumi/pulumi";
import { AdminJob, AppConfig, AppEgressPolicy, createCluster, PriorityClasses, StorageClass, TeamNamespace, Volume, Workload, type ClusterHandle, type WorkloadArgs } from "./components";
import { effectiveResources, loadEnvironment, rolloutStrategy, type AppConfigSpec, type EnvironmentConfig } from "./config";
import { AdmissionPolicy } from "./components/admission-policy";
import { allowedRegistries } from "./config/registries";

/**
 * The program: config -> cluster -> platform -> apps -> outputs. Every stack runs this same code;
 * only its config differs. Validation happens first, so bad config registers nothing.
 */
export = async () => {
  const env = loadEnvironment();
  const cluster = await createCluster(env);
  const k8sOpts: pulumi.ComponentResourceOptions = { providers: [cluster.provider] };

  const priorities = new PriorityClasses("priority", k8sOpts);
  const storage = new StorageClass("app-storage", {
    name: "app-storage",
    provisioner: cluster.storage.provisioner,
    parameters: cluster.storage.parameters,
    reclaimPolicy: env.platform.reclaimPolicy ?? (env.production ? "Retain" : "Delete"),
    isDefault: cluster.storage.isDefault,
  }, k8sOpts);

  const namespaces: Record<string, pulumi.Output<string>> = {};
  const claims = new Map<string, pulumi.Output<string>>();
  for (const [teamName, team] of Object.entries(env.teams)) {
    const ns = new TeamNamespace(teamName, {
      name: teamName,
      podSecurity: team.podSecurity,
      podSecurityVersion: `v${env.cluster.kubernetesVersion}`,
      quota: team.quota,
      limits: team.limits,
      maintainerGroups: team.groups.maintainers,
      viewerGroups: team.groups.viewers,
      protect: env.production,
    }, k8sOpts);
    namespaces[teamName] = ns.name;
    for (const [volName, vol] of Object.entries(team.volumes)) {
      const v = new Volume(`${teamName}-${volName}`, {
        name: volName,
        namespace: ns.name,
        size: String(vol.size),
        accessMode: vol.accessMode,
        storageClassName: vol.storageClass ?? storage.name,
        labels: { "app.kubernetes.io/part-of": teamName, "app.kubernetes.io/managed-by": "pulumi" },
        protect: env.production,
      }, k8sOpts);
      claims.set(`${teamName}/${volName}`, v.claimName);
    }
  }

  const endpoints: Record<string, pulumi.Output<string>> = {};
  const images: Record<string, string> = {};
  for (const [appName, app] of Object.entries(env.apps)) {
    const team = env.teams[app.team];
    const identity = { name: appName, instance: appName, component: app.component, partOf: app.team, version: env.release.id };
    const config = new AppConfig(appName, {
      namespace: namespaces[app.team],
      labels: { "app.kubernetes.io/name": appName, "app.kubernetes.io/part-of": app.team, "app.kubernetes.io/managed-by": "pulumi" },
      data: app.config,
      secretData: secretValues(env, appName),
    }, k8sOpts);
    // The released reference, or the same digest in the registry this cluster pulls from.
    const image = cluster.pullReference(env.release.images[app.image]);
    images[appName] = image;
    const resources = effectiveResources(app, team);
    // Before the release Job and the Deployment, so neither starts without the egress it needs.
    const egress = (app.egress.length > 0 || app.cloudIdentity) ? [new AppEgressPolicy(appName, {
      namespace: namespaces[app.team],
      app: appName,
      partOf: app.team,
      rules: app.egress,
      extra: app.cloudIdentity ? cluster.cloudIdentityEgress : undefined,
    }, k8sOpts)] : [];
    const identityFor = (serviceAccount: string) => app.cloudIdentity
      ? cluster.bindWorkloadIdentity({ namespace: app.team, serviceAccount, cloudIdentity: app.cloudIdentity })
      : undefined;
    const releaseJob = app.releaseJob && new AdminJob(appName, {
      identity,
      namespace: namespaces[app.team],
      image,
      command: app.releaseJob.command,
      args: app.releaseJob.args,
      backoffLimit: app.releaseJob.backoffLimit,
      activeDeadlineSeconds: app.releaseJob.activeDeadlineSeconds,
      resources,
      envFrom: config.envFrom,
      priorityClassName: priorities.names[app.priority],
      runAsUser: app.runAsUser,
      tmpSize: String(app.tmpSize),
      serviceAccountAnnotations: identityFor(`${appName}-admin`),
    }, { ...k8sOpts, dependsOn: [config, ...egress] });
    const workload = new Workload(appName, {
      identity,
      namespace: namespaces[app.team],
      image,
      port: app.port,
      command: app.command,
      args: app.args,
      replicas: app.replicas,
      autoscaling: app.autoscaling,
      resources,
      envFrom: config.envFrom,
      probes: app.probes,
      preStopSeconds: app.preStopSeconds,
      terminationGracePeriodSeconds: app.terminationGracePeriodSeconds,
      rollingUpdate: app.rollingUpdate,
      strategy: rolloutStrategy(app, team),
      priorityClassName: priorities.names[app.priority],
      runAsUser: app.runAsUser,
      tmpSize: String(app.tmpSize),
      serviceAccountAnnotations: identityFor(appName),
      volumes: Object.entries(app.volumeMounts).map(([vol, mountPath]) => ({ name: vol, mountPath, claimName: claims.get(`${app.team}/${vol}`)! })),
      strictZoneSpread: env.production,
      ingress: app.ingress && ingressFor(cluster, appName, namespaces[app.team], app.ingress, app.probes.readiness),
      customTimeouts: env.platform.customTimeouts,
      rolloutAfter: releaseJob ? [releaseJob] : undefined,
    }, { ...k8sOpts, dependsOn: [config, ...egress] });
    endpoints[appName] = workload.url;
  }

  // Admission in the cluster: team pods must pull allowed, digest-pinned images and meet their Pod Security level.
  const released = Object.values(env.release.images).map((ref) => cluster.pullReference(ref));
  new AdmissionPolicy("team-pods", {
    namespaces: Object.values(namespaces),
    restrictedNamespaces: Object.entries(namespaces).filter(([team]) => env.teams[team].podSecurity === "restricted").map(([, ns]) => ns),
    allowedRegistries: allowedRegistries(released, env.policy.allowedRegistries, cluster.registry),
  }, k8sOpts);

  return {
    // Where this deployment is: `verify` refuses evidence whose stack or cluster is not the stage's.
    stack: env.stack,
    cluster: `${cluster.cloud}/${env.cluster.cloud === "aws" ? env.cluster.aws?.region : env.cluster.cloud === "gcp" ? `${env.cluster.gcp?.project}/${env.cluster.gcp?.region}` : env.cluster.existing?.context ?? "blueprint:kubeconfig"}/${env.cluster.name ?? `${env.project}-${env.stack}`}`,
    cloud: cluster.cloud,
    clusterName: cluster.name,
    // None for an existing cluster reached through a context: use that context.
    kubeconfig: cluster.kubeconfig ?? null,
    // What trust policies for app identities are built from (OIDC provider, Workload Identity pool).
    clusterIdentity: cluster.identityOutputs,
    releaseId: env.release.id ?? null,
    images,
    namespaces,
    endpoints,
  };
};

/** An app's Ingress on this cluster: its class, annotations, allowed peers and TLS certificate. */
function ingressFor(cluster: ClusterHandle, app: string, namespace: pulumi.Output<string>, ingress: NonNullable<AppConfigSpec["ingress"]>, readiness: AppConfigSpec["probes"]["readiness"]): WorkloadArgs["ingress"] {
  const certificate = cluster.ingress.certificate({ app, namespace, host: ingress.host, tlsSecretName: ingress.tlsSecretName });
  const backend = cluster.ingress.backend({ app, namespace, readinessPath: readiness.path, readinessPort: readiness.port });
  return {
    host: ingress.host,
    path: ingress.path,
    className: cluster.ingress.className,
    annotations: { ...cluster.ingress.annotations, ...certificate.annotations, ...backend.ingressAnnotations },
    tls: certificate.tls,
    allowFrom: cluster.ingress.allowFrom,
    serviceAnnotations: backend.serviceAnnotations,
    dependsOn: cluster.ingress.dependsOn,
  };
}

/** The app's secret config values, each wrapped as a Pulumi secret. */
function secretValues(env: EnvironmentConfig, app: string): Record<string, pulumi.Output<string>> {
  return Object.fromEntries(Object.entries(env.secrets[app] ?? {}).map(([k, v]) => [k, pulumi.secret(v)]));
}
