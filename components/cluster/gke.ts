import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { GcpClusterConfig } from "../../lib/cluster-config";
import type { ClusterHandle, ClusterSafety, GcpDataNetwork, IngressHostRequest, WorkloadIdentityBinding } from "./handle";
import { execKubeconfig, gkeExec } from "./kubeconfig";
import { mirrorName, pullReference, type RegistryMirror } from "./registry";

/** Defaults of a {@link GkeCluster}, in one visible place. */
export const gkeDefaults = {
  /** Names of the subnet's secondary ranges. */
  podsRange: "pods",
  servicesRange: "services",
  /** Ninety days, in the form Cloud KMS expects. */
  keyRotationPeriod: "7776000s",
  /** Workload logs and system logs; workload metrics come from Managed Service for Prometheus. */
  loggingComponents: ["SYSTEM_COMPONENTS", "WORKLOADS"],
  monitoringComponents: ["SYSTEM_COMPONENTS"],
  /** Dataplane V2 (eBPF): enforces NetworkPolicy without a separate add-on. */
  datapathProvider: "ADVANCED_DATAPATH",
  imageType: "COS_CONTAINERD",
  /** Grants just what nodes need to write logs and metrics. */
  nodeRole: "roles/container.defaultNodeServiceAccount",
  /** Balanced persistent disks through the PD CSI driver (encrypted at rest by Google). */
  storage: { provisioner: "pd.csi.storage.gke.io", parameters: { type: "pd-balanced", "csi.storage.k8s.io/fstype": "ext4" } },
  /** GKE Ingress is selected by the `kubernetes.io/ingress.class` annotation; it ignores `ingressClassName: gce`. */
  ingressAnnotations: { "kubernetes.io/ingress.class": "gce", "kubernetes.io/ingress.allow-http": "false" },
  /** Google Front End and health-check ranges that container-native load balancing connects from. */
  loadBalancerRanges: ["35.191.0.0/16", "130.211.0.0/22"],
  /**
   * Container-native load balancing: the load balancer targets pod IPs through network endpoint
   * groups. Default for VPC-native clusters, written out so it does not depend on cluster defaults
   * (https://cloud.google.com/kubernetes-engine/docs/how-to/container-native-load-balancing).
   */
  negAnnotation: { "cloud.google.com/neg": '{"ingress": true}' },
} as const;

/** Arguments of a {@link GkeCluster}. */
export interface GkeClusterArgs {
  readonly name: string;
  readonly kubernetesVersion: string;
  readonly production: boolean;
  readonly gcp: GcpClusterConfig & { readonly project: string; readonly region: string };
  readonly labels?: Readonly<Record<string, string>>;
}

/** Engine and cloud deletion guards for a GKE cluster. */
export function gkeSafety(production: boolean): ClusterSafety {
  return { protect: production, deletionProtection: production };
}

/** Where the control plane lives: the region (replicated) or the first zone (zonal, dev only). */
export function gkeLocation(cfg: Pick<GcpClusterConfig, "regional" | "zones"> & { readonly region: string }): { location: string; nodeLocations?: string[] } {
  if (cfg.regional) return { location: cfg.region, nodeLocations: [...cfg.zones] };
  return { location: cfg.zones[0], nodeLocations: cfg.zones.length > 1 ? [...cfg.zones] : undefined };
}

/**
 * A GKE Standard cluster on a VPC-native network, hardened: private nodes (Cloud NAT for egress),
 * private or allow-listed API endpoint, Workload Identity, shielded nodes with secure boot,
 * Dataplane V2 (network policy enforcement), application-layer Secret encryption with a rotating
 * KMS key, Cloud Logging and Monitoring, no client certificate, no legacy ABAC, Google Groups for
 * RBAC, and deletion protection in production.
 */
export class GkeCluster extends pulumi.ComponentResource {
  public readonly clusterName: pulumi.Output<string>;
  public readonly clusterId: pulumi.Output<string>;
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly provider: k8s.Provider;
  public readonly safety: ClusterSafety;
  public readonly mirror?: RegistryMirror;
  /** `<project>.svc.id.goog`: the Workload Identity pool IAM bindings name principals in. */
  public readonly workloadPool: pulumi.Output<string>;
  /** Where managed backing services of the environment go. */
  public readonly dataNetwork: GcpDataNetwork;
  private readonly gcpProvider: gcp.Provider;
  private readonly cluster: gcp.container.Cluster;
  private readonly project: string;
  private readonly resourceName: string;

  private constructor(name: string, args: GkeClusterArgs, gcpProvider: gcp.Provider, projectNumber: string, opts?: pulumi.ComponentResourceOptions) {
    super("blueprint:cluster:Gke", name, {}, opts);
    const cfg = args.gcp;
    const { project, region } = cfg;
    this.gcpProvider = gcpProvider;
    this.project = project;
    this.resourceName = name;
    const o = { parent: this, provider: gcpProvider };
    this.safety = gkeSafety(args.production);

    // --- Network: one subnet with secondary ranges for pods and Services; egress through Cloud NAT.
    const network = new gcp.compute.Network(`${name}-network`, { name: args.name, autoCreateSubnetworks: false, routingMode: "REGIONAL" }, o);
    this.dataNetwork = { cloud: "gcp", provider: gcpProvider, project, region, projectNumber, networkId: network.id };
    const subnet = new gcp.compute.Subnetwork(`${name}-nodes`, {
      name: `${args.name}-nodes`,
      network: network.id,
      region,
      ipCidrRange: cfg.subnetCidr,
      privateIpGoogleAccess: true,
      secondaryIpRanges: [
        { rangeName: gkeDefaults.podsRange, ipCidrRange: cfg.podsCidr },
        { rangeName: gkeDefaults.servicesRange, ipCidrRange: cfg.servicesCidr },
      ],
    }, o);
    const router = new gcp.compute.Router(`${name}-router`, { name: `${args.name}-router`, network: network.id, region }, o);
    new gcp.compute.RouterNat(`${name}-nat`, {
      name: `${args.name}-nat`,
      router: router.name,
      region,
      natIpAllocateOption: "AUTO_ONLY",
      sourceSubnetworkIpRangesToNat: "ALL_SUBNETWORKS_ALL_IP_RANGES",
      logConfig: { enable: true, filter: "ERRORS_ONLY" },
    }, o);

    // --- Application-layer Secret encryption: the GKE service agent may use the key, nobody else.
    // Key rings and keys cannot be deleted in Cloud KMS: a destroy only forgets them. Auto-named
    // (a random suffix per creation), a re-created stack gets new ones instead of "already exists"
    // (https://cloud.google.com/kms/docs/resource-hierarchy#lifetime).
    const keyRing = new gcp.kms.KeyRing(`${name}-keys`, { location: region }, { ...o, retainOnDelete: true });
    const secretsKey = new gcp.kms.CryptoKey(`${name}-secrets`, {
      keyRing: keyRing.id,
      purpose: "ENCRYPT_DECRYPT",
      rotationPeriod: gkeDefaults.keyRotationPeriod,
    }, { ...o, protect: args.production });
    const keyGrant = new gcp.kms.CryptoKeyIAMMember(`${name}-secrets-gke`, {
      cryptoKeyId: secretsKey.id,
      role: "roles/cloudkms.cryptoKeyEncrypterDecrypter",
      member: `serviceAccount:service-${projectNumber}@container-engine-robot.iam.gserviceaccount.com`,
    }, o);

    // --- Nodes run as their own least-privilege service account, not the Compute default.
    const nodeAccount = new gcp.serviceaccount.Account(`${name}-nodes`, {
      project,
      accountId: `${args.name.slice(0, 23).replace(/-+$/, "")}-nodes`,
      displayName: `GKE nodes of ${args.name}`,
    }, o);
    const nodeMember = pulumi.interpolate`serviceAccount:${nodeAccount.email}`;
    const nodeGrants: pulumi.Resource[] = [new gcp.projects.IAMMember(`${name}-nodes`, { project, role: gkeDefaults.nodeRole, member: nodeMember }, o)];

    const mirror = cfg.registryMirror;
    if (mirror) {
      const repositoryId = mirror.repository ?? mirrorName(mirror.upstream);
      // Artifact Analysis scans images as they enter Artifact Registry (a remote repository's too)
      // and keeps the findings current as CVEs are published
      // (https://cloud.google.com/artifact-analysis/docs/container-scanning-overview,
      // https://cloud.google.com/artifact-analysis/docs/automated-scanning-howto). Enabled before the
      // repository, so no image enters unscanned; left on when the stack goes, as other repositories
      // of the project may rely on it.
      const scanningApi = mirror.scanning
        ? [new gcp.projects.Service(`${name}-container-scanning`, { project, service: "containerscanning.googleapis.com", disableOnDestroy: false }, o)]
        : [];
      const repo = new gcp.artifactregistry.Repository(`${name}-mirror`, {
        location: region,
        repositoryId,
        format: "DOCKER",
        mode: "REMOTE_REPOSITORY",
        description: `Pull-through cache of ${mirror.upstream} for ${args.name}`,
        remoteRepositoryConfig: { dockerRepository: { customRepository: { uri: `https://${mirror.upstream}` } } },
        vulnerabilityScanningConfig: { enablementConfig: mirror.scanning ? "INHERITED" : "DISABLED" },
      }, { ...o, dependsOn: scanningApi });
      nodeGrants.push(new gcp.artifactregistry.RepositoryIamMember(`${name}-mirror-nodes`, {
        location: region,
        repository: repo.name,
        role: "roles/artifactregistry.reader",
        member: nodeMember,
      }, o));
      this.mirror = { upstream: mirror.upstream, registry: `${region}-docker.pkg.dev/${project}/${repositoryId}` };
    }

    // --- Control plane.
    const { location, nodeLocations } = gkeLocation(cfg);
    const publicAccess = cfg.publicAccessCidrs.length > 0;
    const cluster = new gcp.container.Cluster(`${name}-gke`, {
      name: args.name,
      location,
      nodeLocations,
      network: network.id,
      subnetwork: subnet.id,
      networkingMode: "VPC_NATIVE",
      ipAllocationPolicy: { clusterSecondaryRangeName: gkeDefaults.podsRange, servicesSecondaryRangeName: gkeDefaults.servicesRange },
      // The default pool cannot be configured well; a separate pool below replaces it.
      removeDefaultNodePool: true,
      initialNodeCount: 1,
      minMasterVersion: args.kubernetesVersion,
      releaseChannel: { channel: cfg.releaseChannel },
      maintenancePolicy: { recurringWindow: { ...cfg.maintenanceWindow } },
      privateClusterConfig: { enablePrivateNodes: true, enablePrivateEndpoint: !publicAccess },
      masterAuthorizedNetworksConfig: {
        cidrBlocks: cfg.publicAccessCidrs.map((cidrBlock) => ({ cidrBlock, displayName: `allowed ${cidrBlock}` })),
        gcpPublicCidrsAccessEnabled: false,
      },
      masterAuth: { clientCertificateConfig: { issueClientCertificate: false } },
      enableLegacyAbac: false,
      enableShieldedNodes: true,
      datapathProvider: gkeDefaults.datapathProvider,
      workloadIdentityConfig: { workloadPool: `${project}.svc.id.goog` },
      authenticatorGroupsConfig: cfg.rbacSecurityGroup ? { securityGroup: cfg.rbacSecurityGroup } : undefined,
      databaseEncryption: { state: "ENCRYPTED", keyName: secretsKey.id },
      loggingConfig: { enableComponents: [...gkeDefaults.loggingComponents] },
      monitoringConfig: { enableComponents: [...gkeDefaults.monitoringComponents], managedPrometheus: { enabled: true } },
      addonsConfig: {
        httpLoadBalancing: { disabled: false },
        horizontalPodAutoscaling: { disabled: false },
        gcePersistentDiskCsiDriverConfig: { enabled: true },
      },
      // The temporary default pool's nodes are also shielded and use the least-privilege account.
      nodeConfig: {
        serviceAccount: nodeAccount.email,
        shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
        workloadMetadataConfig: { mode: "GKE_METADATA" },
      },
      resourceLabels: { ...args.labels },
      deletionProtection: this.safety.deletionProtection,
    }, { ...o, protect: this.safety.protect, dependsOn: [keyGrant, ...nodeGrants], ignoreChanges: ["nodeConfig", "initialNodeCount"] });
    this.clusterName = cluster.name;
    this.cluster = cluster;
    this.clusterId = cluster.id;
    // The pool exists once the cluster does (it is created with Workload Identity on).
    this.workloadPool = cluster.workloadIdentityConfig.apply((w) => w?.workloadPool ?? `${project}.svc.id.goog`);

    const zoneCount = nodeLocations?.length ?? 1;
    // A name prefix (GKE appends a suffix) lets a forced replacement create the new pool before it
    // deletes the old one, so workloads always have somewhere to run.
    const pools = Object.entries(cfg.nodePools).map(([poolName, pool]) => new gcp.container.NodePool(`${name}-${poolName}`, {
      namePrefix: `${poolName}-`,
      cluster: cluster.name,
      location,
      nodeLocations,
      initialNodeCount: Math.max(1, Math.ceil(pool.minSize / zoneCount)),
      autoscaling: { totalMinNodeCount: pool.minSize, totalMaxNodeCount: pool.maxSize, locationPolicy: "BALANCED" },
      management: { autoRepair: true, autoUpgrade: true },
      upgradeSettings: { strategy: "SURGE", maxSurge: 1, maxUnavailable: 0 },
      nodeConfig: {
        machineType: pool.machineType,
        diskSizeGb: pool.diskSizeGb,
        diskType: "pd-balanced",
        imageType: gkeDefaults.imageType,
        spot: pool.spot,
        serviceAccount: nodeAccount.email,
        oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
        shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
        workloadMetadataConfig: { mode: "GKE_METADATA" },
        metadata: { "disable-legacy-endpoints": "true" },
        labels: { "blueprint.dev/node-pool": poolName, ...pool.labels },
      },
    }, { ...o, ignoreChanges: ["initialNodeCount"] }));

    // --- Kubernetes access: exec auth with gke-gcloud-auth-plugin; only stable fields, no token.
    this.kubeconfig = pulumi.secret(pulumi.all([cluster.name, cluster.endpoint, cluster.masterAuth]).apply(([n, endpoint, auth]) =>
      execKubeconfig({ name: `gke_${project}_${location}_${n}`, server: `https://${endpoint}`, certificateAuthorityData: auth?.clusterCaCertificate ?? "", exec: gkeExec() })));
    this.provider = new k8s.Provider(`${name}-k8s`, {
      kubeconfig: this.kubeconfig,
      enableServerSideApply: true,
      // Only a new cluster replaces the provider (and every object on it); a kubeconfig change is an update.
      clusterIdentifier: cluster.id,
      // Outside production a cluster deleted behind Pulumi's back should not block `pulumi destroy`.
      deleteUnreachable: !args.production,
    }, { parent: this, dependsOn: pools });

    this.registerOutputs({ clusterName: this.clusterName, kubeconfig: this.kubeconfig, workloadPool: this.workloadPool });
  }

  /** Looks up the project number (for the GKE service agent), then declares the cluster. */
  static async create(name: string, args: GkeClusterArgs, opts?: pulumi.ComponentResourceOptions): Promise<GkeCluster> {
    const gcpProvider = new gcp.Provider(`${name}-gcp`, {
      project: args.gcp.project,
      region: args.gcp.region,
      defaultLabels: { "blueprint-cluster": args.name, ...args.labels },
    });
    const project = await gcp.organizations.getProject({ projectId: args.gcp.project }, { provider: gcpProvider });
    return new GkeCluster(name, args, gcpProvider, String(project.number), opts);
  }

  /**
   * Lets a Kubernetes ServiceAccount act as a Google service account (Workload Identity): grants
   * `roles/iam.workloadIdentityUser` to the ServiceAccount's principal and returns its annotation.
   */
  bindWorkloadIdentity(b: WorkloadIdentityBinding): Record<string, string> {
    const gsaProject = /@([^.]+)\.iam\.gserviceaccount\.com$/.exec(b.cloudIdentity)?.[1] ?? this.project;
    new gcp.serviceaccount.IAMMember(`${this.resourceName}-wi-${b.namespace}-${b.serviceAccount}`, {
      serviceAccountId: `projects/${gsaProject}/serviceAccounts/${b.cloudIdentity}`,
      role: "roles/iam.workloadIdentityUser",
      member: `serviceAccount:${this.project}.svc.id.goog[${b.namespace}/${b.serviceAccount}]`,
    }, {
      parent: this,
      provider: this.gcpProvider,
      // The pool `<project>.svc.id.goog` comes into being with the first Workload Identity cluster;
      // binding before it fails with "Identity Pool does not exist".
      dependsOn: [this.cluster],
    });
    return { "iam.gke.io/gcp-service-account": b.cloudIdentity };
  }

  /**
   * A reserved global address for one app's Ingress: DNS for its host (and so its Google-managed
   * certificate, which is provisioned only once DNS points at the load balancer) stays valid when
   * the Ingress is re-created (https://cloud.google.com/kubernetes-engine/docs/tutorials/configuring-domain-name-static-ip).
   */
  address(req: IngressHostRequest): Record<string, pulumi.Output<string>> {
    const address = new gcp.compute.GlobalAddress(`${this.resourceName}-ingress-${req.name}`, {
      project: this.project,
      addressType: "EXTERNAL",
      ipVersion: "IPV4",
      description: `Ingress of ${req.host}`,
    }, { parent: this, provider: this.gcpProvider });
    return { "kubernetes.io/ingress.global-static-ip-name": address.name };
  }
}

/**
 * A Google-managed certificate for one app's host, attached to its Ingress by annotation. GKE
 * Ingress takes certificates from Secrets or from ManagedCertificates; this way nobody has to
 * create and rotate a Secret, and the Ingress has no `spec.tls` that points at a missing one.
 */
function managedCertificate(req: IngressHostRequest, provider: k8s.Provider): Record<string, pulumi.Output<string>> {
  const name = `${req.name}-cert`;
  const cert = new k8s.apiextensions.CustomResource(name, {
    apiVersion: "networking.gke.io/v1",
    kind: "ManagedCertificate",
    metadata: { name, namespace: req.namespace, labels: { "app.kubernetes.io/managed-by": "pulumi" } },
    spec: { domains: [req.host] },
  }, { provider });
  return { "networking.gke.io/managed-certificates": cert.metadata.name };
}

/**
 * What a pod bound to a Google service account needs: the GKE metadata server, which hands out its
 * tokens (169.254.169.254:80, and 169.254.169.252:988 under Dataplane V2), and Google APIs over
 * HTTPS on public addresses (Private Google Access routes them from private nodes). See "If you use
 * network policies" in https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity.
 */
export const gkeCloudIdentityEgress: k8s.types.input.networking.v1.NetworkPolicyEgressRule[] = [
  { to: [{ ipBlock: { cidr: "169.254.169.254/32" } }], ports: [{ protocol: "TCP", port: 80 }] },
  { to: [{ ipBlock: { cidr: "169.254.169.252/32" } }], ports: [{ protocol: "TCP", port: 988 }] },
  { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"] } }], ports: [{ protocol: "TCP", port: 443 }] },
];

/** The {@link ClusterHandle} of a GKE cluster. */
export async function gkeCluster(args: GkeClusterArgs, opts?: pulumi.ComponentResourceOptions): Promise<ClusterHandle> {
  const c = await GkeCluster.create(args.name, args, opts);
  return {
    cloud: "gcp",
    name: c.clusterName,
    provider: c.provider,
    clusterIdentifier: c.clusterId,
    kubeconfig: c.kubeconfig,
    storage: { provisioner: gkeDefaults.storage.provisioner, parameters: { ...gkeDefaults.storage.parameters }, isDefault: true },
    ingress: {
      annotations: { ...gkeDefaults.ingressAnnotations },
      allowFrom: gkeDefaults.loadBalancerRanges.map((cidr) => ({ ipBlock: { cidr } })),
      host: (req) => ({ annotations: { ...managedCertificate(req, c.provider), ...c.address(req) }, tls: "annotation" }),
      // Behind NEGs, GKE derives the load balancer's health check from the pods' readiness probe, so
      // the readiness path needs no annotation.
      serviceAnnotations: { ...gkeDefaults.negAnnotation },
      // GKE Ingress is served by Google's own controller, outside the cluster: nothing to wait for.
      dependsOn: [],
    },
    cloudIdentityEgress: gkeCloudIdentityEgress,
    identityOutputs: { workloadIdentityPool: c.workloadPool },
    registry: c.mirror?.registry,
    mirrors: c.mirror ? { [c.mirror.upstream]: c.mirror.registry } : {},
    pullReference: (released) => pullReference(released, c.mirror),
    safety: c.safety,
    bindWorkloadIdentity: (binding) => c.bindWorkloadIdentity(binding),
    dataNetwork: c.dataNetwork,
  };
}
