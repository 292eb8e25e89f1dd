import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
// Each component from its own file, not the components' index: a team stack's run then loads
// only the components it uses (the index loads the platform's too: admission, guardrails...).
import { AdminJob } from "../components/admin-job";
import { AppConfig } from "../components/app-config";
import { AppMonitoring } from "../components/monitoring";
import { Volume } from "../components/volume";
import { AppEgressPolicy, Workload, type WorkloadArgs } from "../components/workload";
import { recommendedLabels, selectorLabels } from "../lib/labels";
import { classifyReadFailure, type ContractLookup, type TeamContract } from "../config/contract";
import { qualifiedStackName } from "../lib/stacks";
import { effectiveResources, rolloutStrategy } from "../config/derive";
import { parseTeam, platformStackOf, runningStackConfig, type TeamStackConfig } from "../config/load";
import { pullReferenceFor } from "../lib/mirrors";
import type { AppConfigSpec } from "../config/schema";
import { BINDING_KEYS, bindingLabel, bindingVariables, BOUND, CA_KEY } from "../lib/services";
import type { SecretFile } from "../components/workload";

/**
 * The team layer: the platform's contract (through a StackReference) -> config validated against
 * it -> the team's volumes and apps, all in its own namespace. Run with the team's own kube access;
 * it loads no cloud SDK and needs no cloud credentials.
 */
export async function teamProgram(): Promise<Record<string, unknown>> {
  const { raw, secretKeys, stack, project } = runningStackConfig();
  const platformStack = platformStackOf(raw, stack);
  const env = parseTeam(raw, stack, project, secretKeys, await readPlatform(platformStack, project));
  const c = env.contract;

  const provider = new k8s.Provider("k8s", {
    // Without a kubeconfig in the contract (an existing cluster), the team's own kubeconfig: the
    // named context, or its current one.
    ...(c.kubeconfig !== null
      ? { kubeconfig: pulumi.secret(c.kubeconfig) }
      : c.context !== null
        ? { context: c.context }
        : {}),
    enableServerSideApply: true,
    // The platform's cluster ARN/id/name: a kubeconfig the platform re-issues updates the provider
    // instead of replacing every object of the team (pulumi-kubernetes#1148).
    clusterIdentifier: c.clusterIdentifier,
    // Anything without a namespace lands in the team's own, never in `default`.
    namespace: c.namespace,
  });
  const k8sOpts: pulumi.ComponentResourceOptions = { providers: [provider] };
  const team = { quota: c.quota, limits: c.limits, volumes: env.volumes };
  const partOf = { "app.kubernetes.io/part-of": env.team, "app.kubernetes.io/managed-by": "pulumi" };

  const claims = new Map<string, pulumi.Output<string>>();
  for (const [volName, vol] of Object.entries(env.volumes)) {
    const v = new Volume(
      `${env.team}-${volName}`,
      {
        name: volName,
        namespace: c.namespace,
        size: String(vol.size),
        accessMode: vol.accessMode,
        storageClassName: vol.storageClass ?? c.storageClasses.default,
        labels: { ...partOf },
        protect: env.production,
      },
      k8sOpts,
    );
    claims.set(volName, v.claimName);
  }

  const customTimeouts = { ...c.customTimeouts, ...env.customTimeouts };
  const endpoints: Record<string, pulumi.Output<string>> = {};
  const images: Record<string, string> = {};
  for (const [appName, app] of Object.entries(env.apps)) {
    const identity = {
      name: appName,
      instance: appName,
      component: app.component,
      partOf: env.team,
      version: env.release.id,
    };
    const config = new AppConfig(
      appName,
      {
        namespace: c.namespace,
        labels: { "app.kubernetes.io/name": appName, ...partOf },
        data: app.config,
        secretData: secretValues(env, appName),
      },
      k8sOpts,
    );
    // The released reference, or the same digest in the registry this cluster pulls from.
    const image = pullReferenceFor(env.release.images[app.image], c.registry.mirrors);
    images[appName] = image;
    const resources = effectiveResources(app, team);
    const services = serviceBindings(c, app.services);
    const bound = app.identity !== undefined ? c.identities[app.identity] : undefined;
    // Before the release Job and the Deployment, so neither starts without the egress it needs.
    const egress =
      app.egress.length > 0 || bound
        ? [
            new AppEgressPolicy(
              appName,
              {
                namespace: c.namespace,
                app: appName,
                partOf: env.team,
                rules: app.egress,
                extra: bound?.egress,
              },
              k8sOpts,
            ),
          ]
        : [];
    const releaseJob =
      app.releaseJob &&
      new AdminJob(
        appName,
        {
          identity,
          namespace: c.namespace,
          image,
          command: app.releaseJob.command,
          args: app.releaseJob.args,
          backoffLimit: app.releaseJob.backoffLimit,
          activeDeadlineSeconds: app.releaseJob.activeDeadlineSeconds,
          resources,
          envFrom: config.envFrom,
          ...services,
          priorityClassName: c.priorityClasses[app.priority],
          runAsUser: app.runAsUser,
          tmpSize: String(app.tmpSize),
          serviceAccountAnnotations: bound?.annotations,
        },
        { ...k8sOpts, dependsOn: [config, ...egress] },
      );
    const workload = new Workload(
      appName,
      {
        identity,
        namespace: c.namespace,
        image,
        port: app.port,
        command: app.command,
        args: app.args,
        replicas: app.replicas,
        autoscaling: app.autoscaling,
        resources,
        envFrom: config.envFrom,
        ...services,
        probes: app.probes,
        preStopSeconds: app.preStopSeconds,
        terminationGracePeriodSeconds: app.terminationGracePeriodSeconds,
        rollingUpdate: app.rollingUpdate,
        strategy: rolloutStrategy(app, team),
        priorityClassName: c.priorityClasses[app.priority],
        runAsUser: app.runAsUser,
        tmpSize: String(app.tmpSize),
        serviceAccountAnnotations: bound?.annotations,
        volumes: Object.entries(app.volumeMounts).map(([vol, mountPath]) => ({
          name: vol,
          mountPath,
          claimName: claims.get(vol)!,
        })),
        strictZoneSpread: env.production,
        ingress: app.ingress && ingressFor(c, appName, app.ingress, app.probes.readiness),
        customTimeouts,
        rolloutAfter: releaseJob ? [releaseJob] : undefined,
        metricsPort: app.metrics?.port,
      },
      { ...k8sOpts, dependsOn: [config, ...egress] },
    );
    endpoints[appName] = workload.url;
    if (app.metrics && c.monitoring !== "none") {
      const { "app.kubernetes.io/version": _v, ...labels } = recommendedLabels(identity);
      new AppMonitoring(
        appName,
        {
          monitoring: c.monitoring,
          app: appName,
          namespace: c.namespace,
          team: env.team,
          selector: selectorLabels(identity),
          labels,
          metrics: { path: app.metrics.path, interval: app.metrics.interval },
          slo: app.slo,
        },
        k8sOpts,
      );
    }
  }

  return {
    // Where this deployment is: `verify` refuses evidence whose stack or cluster is not the stage's.
    stack: env.stack,
    cluster: c.cluster.identity,
    releaseId: env.release.id ?? null,
    images,
    namespace: c.namespace,
    endpoints,
  };
}

/**
 * Reads the platform stack's `contract` output. A failed read is told apart (no such stack, no
 * permission, no key to decrypt, network) and reported as a config error naming the platform
 * stack. A stack that does not exist may also fail the reference in the engine before the program
 * sees it (`unknown stack`, pulumi/pulumi#19202).
 */
async function readPlatform(platformStack: string, project: string): Promise<ContractLookup> {
  const name = qualifiedStackName(platformStack, pulumi.getOrganization(), project);
  try {
    const details = await new pulumi.StackReference("platform", { name }).getOutputDetails("contract");
    const value = details.secretValue ?? details.value;
    return value === undefined ? { found: false, failure: "missing" } : { found: true, value };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { found: false, failure: classifyReadFailure(message), detail: message.split("\n")[0] };
  }
}

/** An app's Ingress on this cluster: its class, annotations, allowed peers and TLS, from the contract. */
function ingressFor(
  c: TeamContract,
  app: string,
  ingress: NonNullable<AppConfigSpec["ingress"]>,
  readiness: AppConfigSpec["probes"]["readiness"],
): WorkloadArgs["ingress"] {
  const host = c.ingress.hosts[ingress.host];
  const health = c.ingress.healthCheck;
  return {
    host: ingress.host,
    path: ingress.path,
    className: c.ingress.className ?? undefined,
    annotations: {
      ...c.ingress.annotations,
      ...host.annotations,
      ...(health
        ? {
            [health.pathAnnotation]: readiness.path,
            ...(readiness.port !== undefined ? { [health.portAnnotation]: String(readiness.port) } : {}),
          }
        : {}),
    },
    tls:
      host.tls === "secret"
        ? { secretName: ingress.tlsSecretName ?? `${app}-tls` }
        : host.tls === "host"
          ? {}
          : undefined,
    allowFrom: c.ingress.allowFrom,
    serviceAnnotations: c.ingress.serviceAnnotations,
    dependsOn: [],
  };
}

/**
 * What binding backing services gives an app's pods (and its release Job's): `<NAME>_URL`, `_HOST`,
 * `_PORT`, `_USERNAME`, `_PASSWORD` and `_DATABASE` from the binding's Secret, the label the
 * service's network rules admit, and the server's CA certificate where the binding has one. The
 * names never depend on the flavour or the cloud; only the Secret behind them does.
 */
export function serviceBindings(
  c: Pick<TeamContract, "services">,
  names: readonly string[],
): { env: k8s.types.input.core.v1.EnvVar[]; podLabels: Record<string, string>; secretFiles: SecretFile[] } {
  const env: k8s.types.input.core.v1.EnvVar[] = [];
  const podLabels: Record<string, string> = {};
  const secretFiles: SecretFile[] = [];
  for (const name of names) {
    const b = c.services[name];
    bindingVariables(name).forEach((v, i) =>
      env.push({ name: v, valueFrom: { secretKeyRef: { name: b.secretName, key: BINDING_KEYS[i] } } }),
    );
    podLabels[bindingLabel(name)] = BOUND;
    if (b.caFile) secretFiles.push({ name: `svc-${name}-ca`, secretName: b.secretName, key: CA_KEY, path: b.caFile });
  }
  return { env, podLabels, secretFiles };
}

/** The app's secret config values, each wrapped as a Pulumi secret. */
function secretValues(env: TeamStackConfig, app: string): Record<string, pulumi.Output<string>> {
  return Object.fromEntries(Object.entries(env.secrets[app] ?? {}).map(([k, v]) => [k, pulumi.secret(v)]));
}
