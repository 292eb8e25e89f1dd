import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { isPinned, parsePinnedImage } from "../lib/images";
import { recommendedLabels, selectorLabels, type AppIdentity } from "../lib/labels";
import { workloadDefaults } from "../lib/defaults";

export { workloadDefaults };
import {
  containerResources,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
  tmpVolume,
  type Quantities,
} from "./pod-security";

/** An HTTP probe on the app's port (or another port). */
export interface HttpProbe {
  readonly path: string;
  readonly port?: number;
  readonly initialDelaySeconds?: number;
  readonly periodSeconds?: number;
  readonly timeoutSeconds?: number;
  readonly failureThreshold?: number;
}

/** A volume claim mounted into the container. */
export interface VolumeMount {
  /** Volume name inside the pod (a DNS label). */
  readonly name: string;
  readonly claimName: pulumi.Input<string>;
  readonly mountPath: string;
}

/** One key of a Secret, mounted read-only as a file. */
export interface SecretFile {
  /** Volume name inside the pod (a DNS label). */
  readonly name: string;
  readonly secretName: pulumi.Input<string>;
  readonly key: string;
  /** Absolute path of the file. */
  readonly path: string;
}

/** The volumes and mounts of {@link SecretFile}s: each key at its path, nothing else of the Secret. */
export function secretFileVolumes(files: readonly SecretFile[]): {
  volumes: k8s.types.input.core.v1.Volume[];
  mounts: k8s.types.input.core.v1.VolumeMount[];
} {
  return {
    volumes: files.map((f) => ({
      name: f.name,
      secret: { secretName: f.secretName, items: [{ key: f.key, path: f.key }], defaultMode: 0o444 },
    })),
    mounts: files.map((f) => ({ name: f.name, mountPath: f.path, subPath: f.key, readOnly: true })),
  };
}

/** One stateless app: Deployment, Service, PodDisruptionBudget and optional HPA and Ingress. */
export interface WorkloadArgs {
  /** Recommended labels; `instance` is also the name of every fixed-name object. */
  readonly identity: AppIdentity;
  readonly namespace: pulumi.Input<string>;
  /** `repo@sha256:<64 hex>`; a tag is refused. */
  readonly image: string;
  /** Port the container listens on; exported to it as `PORT`. */
  readonly port: number;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  /** Fixed replica count; ignored when `autoscaling` is set (the HPA owns replicas). @default 1 */
  readonly replicas?: number;
  readonly autoscaling?: {
    readonly minReplicas: number;
    readonly maxReplicas: number;
    readonly targetCPUUtilizationPercentage?: number;
  };
  /** Requests and limits, always set (from the app or its namespace defaults). */
  readonly resources: { readonly requests: Quantities; readonly limits: Quantities };
  /** From {@link AppConfig.envFrom}. */
  readonly envFrom?: pulumi.Input<pulumi.Input<k8s.types.input.core.v1.EnvFromSource>[]>;
  /** Variables from elsewhere, e.g. a backing service's binding Secret (`secretKeyRef`). */
  readonly env?: readonly k8s.types.input.core.v1.EnvVar[];
  /** Labels on the pods only (not in selectors), e.g. the binding labels a backing service's NetworkPolicy admits. */
  readonly podLabels?: Readonly<Record<string, string>>;
  /** Single keys of Secrets mounted read-only as files, e.g. a backing service's CA certificate. */
  readonly secretFiles?: readonly SecretFile[];
  readonly probes: { readonly readiness: HttpProbe; readonly liveness: HttpProbe; readonly startup?: HttpProbe };
  /** Seconds to keep serving after SIGTERM while the endpoint is removed. @default 5 */
  readonly preStopSeconds?: number;
  /** Must exceed `preStopSeconds` plus the app's drain time. @default 30 */
  readonly terminationGracePeriodSeconds?: number;
  readonly rollingUpdate?: { readonly maxSurge: number | string; readonly maxUnavailable: number | string };
  /**
   * `Recreate` stops the old pod before the new one starts: the only rollout a single pod holding a
   * ReadWriteOnce volume survives, since a surge pod scheduled on another node cannot attach it.
   * @default "RollingUpdate"
   */
  readonly strategy?: "RollingUpdate" | "Recreate";
  readonly priorityClassName: pulumi.Input<string>;
  /** Non-root UID and GID. @default 10001 */
  readonly runAsUser?: number;
  /** Size limit of the `/tmp` emptyDir. @default "64Mi" */
  readonly tmpSize?: string;
  readonly volumes?: readonly VolumeMount[];
  /** Annotations for the ServiceAccount, e.g. a cloud workload identity binding. */
  readonly serviceAccountAnnotations?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Spread across zones strictly (`DoNotSchedule`) instead of best effort. @default false */
  readonly strictZoneSpread?: boolean;
  readonly ingress?: {
    readonly host: string;
    readonly path: string;
    /** IngressClass; omit where the controller is chosen by annotation (GKE's `gce`). */
    readonly className?: string;
    readonly annotations?: Readonly<Record<string, pulumi.Input<string>>>;
    /** The `spec.tls` entry: a Secret name, or none where the controller finds the certificate by host. Omit when TLS is attached by annotation. */
    readonly tls?: { readonly secretName?: string };
    /** Peers allowed to reach the pods through the NetworkPolicy (the ingress controller or load balancer). */
    readonly allowFrom: k8s.types.input.networking.v1.NetworkPolicyPeer[];
    /** Annotations the load balancer needs on the Service (e.g. GKE's container-native NEG). */
    readonly serviceAnnotations?: Readonly<Record<string, string>>;
    /** Created after and deleted before these (the ingress controller, whose webhook and finalizer it needs). */
    readonly dependsOn?: readonly pulumi.Resource[];
  };
  /** Per-operation timeouts for the Deployment's rollout. */
  readonly customTimeouts?: pulumi.CustomTimeouts;
  /** Resources that must be ready before the Deployment rolls, e.g. an {@link AdminJob} running migrations. */
  readonly rolloutAfter?: pulumi.Input<pulumi.Resource>[];
  /** The port the app serves Prometheus metrics on: the container and Service port named `metrics`. */
  readonly metricsPort?: number;
}

/**
 * A production-grade stateless workload: Pod Security `restricted`, read-only root filesystem,
 * requests and limits, distinct readiness and liveness probes, graceful shutdown, bounded
 * rollouts, zone and host spread, its own ServiceAccount without a token, and a PDB that never
 * blocks all evictions. With autoscaling, the HPA owns `replicas`.
 */
export class Workload extends pulumi.ComponentResource {
  public readonly deploymentName: pulumi.Output<string>;
  public readonly serviceName: pulumi.Output<string>;
  /** In-cluster URL of the Service. */
  public readonly url: pulumi.Output<string>;
  /** The pinned image the pods run. */
  public readonly image: string;

  constructor(name: string, args: WorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before registering anything, so bad args leave nothing half-built.
    const pinned = parsePinnedImage(args.image);
    if (!isPinned(pinned)) throw new Error(`Workload ${name}: image ${pinned.error}`);
    const d = workloadDefaults;
    const preStop = args.preStopSeconds ?? d.preStopSeconds;
    const grace = args.terminationGracePeriodSeconds ?? d.terminationGracePeriodSeconds;
    if (preStop >= grace)
      throw new Error(
        `Workload ${name}: preStopSeconds (${preStop}) must be less than terminationGracePeriodSeconds (${grace})`,
      );
    if (args.autoscaling && args.autoscaling.minReplicas >= args.autoscaling.maxReplicas) {
      throw new Error(`Workload ${name}: autoscaling.minReplicas must be below maxReplicas`);
    }
    super("blueprint:k8s:Workload", name, {}, opts);
    this.image = args.image;

    const parent = { parent: this };
    const appName = args.identity.instance;
    const labels = recommendedLabels(args.identity);
    // The release label goes on the pods only, so a promotion changes nothing but the pod template.
    const { "app.kubernetes.io/version": _version, ...stableLabels } = labels;
    const selector = selectorLabels(args.identity);
    const meta = { name: appName, namespace: args.namespace, labels: stableLabels };
    const uid = args.runAsUser ?? d.runAsUser;
    const tmp = tmpVolume(args.tmpSize ?? d.tmpSize);
    const files = secretFileVolumes(args.secretFiles ?? []);

    const sa = new k8s.core.v1.ServiceAccount(
      name,
      {
        metadata: { ...meta, annotations: args.serviceAccountAnnotations },
        automountServiceAccountToken: false,
      },
      parent,
    );

    const probe = (p: HttpProbe): k8s.types.input.core.v1.Probe => ({
      httpGet: { path: p.path, port: p.port ?? "http" },
      initialDelaySeconds: p.initialDelaySeconds ?? d.probe.initialDelaySeconds,
      periodSeconds: p.periodSeconds ?? d.probe.periodSeconds,
      timeoutSeconds: p.timeoutSeconds ?? d.probe.timeoutSeconds,
      failureThreshold: p.failureThreshold ?? d.probe.failureThreshold,
    });
    const spread = (
      topologyKey: string,
      whenUnsatisfiable: string,
    ): k8s.types.input.core.v1.TopologySpreadConstraint => ({
      topologyKey,
      maxSkew: 1,
      whenUnsatisfiable,
      labelSelector: { matchLabels: selector },
      // Count only pods of the current ReplicaSet, so a rollout does not skew the spread.
      matchLabelKeys: ["pod-template-hash"],
    });
    const rolling = args.rollingUpdate ?? d.rollingUpdate;

    const deployment = new k8s.apps.v1.Deployment(
      name,
      {
        metadata: meta,
        spec: {
          replicas: args.autoscaling ? undefined : (args.replicas ?? 1),
          revisionHistoryLimit: d.revisionHistoryLimit,
          progressDeadlineSeconds: d.progressDeadlineSeconds,
          selector: { matchLabels: selector },
          strategy:
            args.strategy === "Recreate"
              ? { type: "Recreate" }
              : {
                  type: "RollingUpdate",
                  rollingUpdate: { maxSurge: rolling.maxSurge, maxUnavailable: rolling.maxUnavailable },
                },
          template: {
            metadata: {
              labels: { ...args.podLabels, ...labels },
              annotations: { "blueprint.dev/stack": pulumi.getStack() },
            },
            spec: {
              serviceAccountName: sa.metadata.name,
              automountServiceAccountToken: false,
              enableServiceLinks: false,
              priorityClassName: args.priorityClassName,
              terminationGracePeriodSeconds: grace,
              securityContext: restrictedPodSecurityContext(uid),
              topologySpreadConstraints: [
                spread("topology.kubernetes.io/zone", args.strictZoneSpread ? "DoNotSchedule" : "ScheduleAnyway"),
                spread("kubernetes.io/hostname", "ScheduleAnyway"),
              ],
              containers: [
                {
                  name: "app",
                  image: args.image,
                  // The reference is a digest, so the cached image is exactly the wanted one.
                  imagePullPolicy: "IfNotPresent",
                  command: args.command ? [...args.command] : undefined,
                  args: args.args ? [...args.args] : undefined,
                  ports: [
                    { name: "http", containerPort: args.port, protocol: "TCP" },
                    ...(args.metricsPort !== undefined
                      ? [{ name: "metrics", containerPort: args.metricsPort, protocol: "TCP" }]
                      : []),
                  ],
                  env: [{ name: "PORT", value: String(args.port) }, ...(args.env ?? [])],
                  envFrom: args.envFrom,
                  resources: containerResources(args.resources),
                  securityContext: restrictedContainerSecurityContext(),
                  readinessProbe: probe(args.probes.readiness),
                  livenessProbe: probe(args.probes.liveness),
                  startupProbe: args.probes.startup ? probe(args.probes.startup) : undefined,
                  lifecycle: preStop > 0 ? { preStop: { sleep: { seconds: preStop } } } : undefined,
                  volumeMounts: [
                    tmp.mount,
                    ...(args.volumes ?? []).map((v) => ({ name: v.name, mountPath: v.mountPath })),
                    ...files.mounts,
                  ],
                },
              ],
              volumes: [
                tmp.volume,
                ...(args.volumes ?? []).map((v) => ({
                  name: v.name,
                  persistentVolumeClaim: { claimName: v.claimName },
                })),
                ...files.volumes,
              ],
            },
          },
        },
      },
      { ...parent, customTimeouts: args.customTimeouts, dependsOn: args.rolloutAfter },
    );
    this.deploymentName = deployment.metadata.name;

    const service = new k8s.core.v1.Service(
      name,
      {
        metadata: args.ingress?.serviceAnnotations
          ? { ...meta, annotations: { ...args.ingress.serviceAnnotations } }
          : meta,
        spec: {
          type: "ClusterIP",
          selector,
          ports: [
            { name: "http", port: d.servicePort, targetPort: "http", protocol: "TCP" },
            // A ServiceMonitor scrapes through the Service's named port; GMP's PodMonitoring through the pod's.
            ...(args.metricsPort !== undefined
              ? [{ name: "metrics", port: args.metricsPort, targetPort: "metrics", protocol: "TCP" }]
              : []),
          ],
        },
      },
      parent,
    );
    this.serviceName = service.metadata.name;
    this.url = pulumi.interpolate`http://${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local:${d.servicePort}`;

    new k8s.policy.v1.PodDisruptionBudget(
      name,
      {
        metadata: meta,
        spec: {
          // One at a time, never zero: a PDB must not block node drains.
          maxUnavailable: 1,
          unhealthyPodEvictionPolicy: "AlwaysAllow",
          selector: { matchLabels: selector },
        },
      },
      parent,
    );

    if (args.autoscaling) {
      new k8s.autoscaling.v2.HorizontalPodAutoscaler(
        name,
        {
          metadata: meta,
          spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name },
            minReplicas: args.autoscaling.minReplicas,
            maxReplicas: args.autoscaling.maxReplicas,
            metrics: [
              {
                type: "Resource",
                resource: {
                  name: "cpu",
                  target: {
                    type: "Utilization",
                    averageUtilization:
                      args.autoscaling.targetCPUUtilizationPercentage ?? d.targetCPUUtilizationPercentage,
                  },
                },
              },
            ],
            behavior: { scaleDown: { stabilizationWindowSeconds: d.scaleDownStabilizationSeconds } },
          },
        },
        parent,
      );
    }

    if (args.ingress) {
      const ing = args.ingress;
      new k8s.networking.v1.NetworkPolicy(
        `${name}-from-ingress`,
        {
          metadata: { ...meta, name: `${appName}-from-ingress` },
          spec: {
            podSelector: { matchLabels: selector },
            policyTypes: ["Ingress"],
            ingress: [{ from: ing.allowFrom, ports: [{ protocol: "TCP", port: args.port }] }],
          },
        },
        parent,
      );
      new k8s.networking.v1.Ingress(
        name,
        {
          metadata: { ...meta, annotations: { ...ing.annotations } },
          spec: {
            ingressClassName: ing.className,
            tls: ing.tls ? [{ hosts: [ing.host], secretName: ing.tls.secretName }] : undefined,
            rules: [
              {
                host: ing.host,
                http: {
                  paths: [
                    {
                      path: ing.path,
                      pathType: "Prefix",
                      backend: { service: { name: service.metadata.name, port: { name: "http" } } },
                    },
                  ],
                },
              },
            ],
          },
        },
        { ...parent, dependsOn: ing.dependsOn ? [...ing.dependsOn] : undefined },
      );
    }

    this.registerOutputs({
      deploymentName: this.deploymentName,
      serviceName: this.serviceName,
      url: this.url,
      image: this.image,
    });
  }
}

/** Arguments of an {@link AppEgressPolicy}. */
export interface AppEgressPolicyArgs {
  readonly namespace: pulumi.Input<string>;
  /** `app.kubernetes.io/name` of the app: its Deployment's pods and its release Job's pods carry it. */
  readonly app: string;
  /** `app.kubernetes.io/part-of` (the team). */
  readonly partOf: string;
  /** Destinations beyond the namespace and DNS, each with its ports. */
  readonly rules: readonly {
    readonly cidrs: readonly string[];
    readonly ports: readonly { readonly port: number; readonly protocol: string }[];
  }[];
  /** Extra rules, e.g. what a cloud identity needs (from the cluster handle). */
  readonly extra?: readonly k8s.types.input.networking.v1.NetworkPolicyEgressRule[];
}

/** Link-local addresses (node instance metadata); carved out of any wider block an app may reach. */
const LINK_LOCAL = "169.254.0.0/16";

/**
 * Egress one app may use on top of its namespace's default deny: for the app's pods and its release
 * Job's pods (same `app.kubernetes.io/name`). Create it before both, so a migration Job can reach
 * its database on the first run. NetworkPolicy matches addresses, not names, so cloud APIs are
 * reached by port on public addresses (https://kubernetes.io/docs/concepts/services-networking/network-policies/#ipblock).
 */
export class AppEgressPolicy extends pulumi.ComponentResource {
  constructor(name: string, args: AppEgressPolicyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("blueprint:k8s:AppEgressPolicy", name, {}, opts);
    const egress: k8s.types.input.networking.v1.NetworkPolicyEgressRule[] = [
      ...args.rules.map((r) => ({
        to: r.cidrs.map((cidr) => ({ ipBlock: { cidr, except: containsLinkLocal(cidr) ? [LINK_LOCAL] : undefined } })),
        ports: r.ports.map((p) => ({ port: p.port, protocol: p.protocol })),
      })),
      ...(args.extra ?? []),
    ];
    new k8s.networking.v1.NetworkPolicy(
      name,
      {
        metadata: {
          name: `${args.app}-egress`,
          namespace: args.namespace,
          labels: {
            "app.kubernetes.io/name": args.app,
            "app.kubernetes.io/part-of": args.partOf,
            "app.kubernetes.io/managed-by": "pulumi",
          },
        },
        spec: {
          podSelector: {
            matchLabels: { "app.kubernetes.io/name": args.app, "app.kubernetes.io/part-of": args.partOf },
          },
          policyTypes: ["Egress"],
          egress,
        },
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}

/** Does an IPv4 block (at most /16) contain 169.254.0.0/16? */
function containsLinkLocal(cidr: string): boolean {
  const [addr, bits] = cidr.split("/");
  const prefix = Number(bits);
  if (prefix > 16) return false;
  const [a, b] = addr.split(".").map(Number);
  const mask = prefix === 0 ? 0 : (0xffff << (16 - prefix)) & 0xffff;
  return ((a * 256 + b) & mask) === ((169 * 256 + 254) & mask);
}
