import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { GcpClusterConfig } from "../../../lib/cluster-config";
import type { ClusterSafety } from "../handle";
import { gkeDefaults, type GkeClusterArgs } from "./defaults";

/** Engine and cloud deletion guards for a GKE cluster. */
export function gkeSafety(production: boolean): ClusterSafety {
  return { protect: production, deletionProtection: production };
}

/** Where the control plane lives: the region (replicated) or the first zone (zonal, dev only). */
export function gkeLocation(cfg: Pick<GcpClusterConfig, "regional" | "zones"> & { readonly region: string }): {
  location: string;
  nodeLocations?: string[];
} {
  if (cfg.regional) return { location: cfg.region, nodeLocations: [...cfg.zones] };
  return { location: cfg.zones[0], nodeLocations: cfg.zones.length > 1 ? [...cfg.zones] : undefined };
}

/**
 * Application-layer Secret encryption: a rotating KMS key the GKE service agent may use, nobody
 * else. Key rings and keys cannot be deleted in Cloud KMS: a destroy only forgets them.
 * Auto-named (a random suffix per creation), a re-created stack gets new ones instead of
 * "already exists" (https://cloud.google.com/kms/docs/resource-hierarchy#lifetime).
 */
export function gkeSecretsKey(
  name: string,
  args: GkeClusterArgs,
  projectNumber: string,
  o: pulumi.CustomResourceOptions,
): { readonly key: gcp.kms.CryptoKey; readonly grant: gcp.kms.CryptoKeyIAMMember } {
  const keyRing = new gcp.kms.KeyRing(`${name}-keys`, { location: args.gcp.region }, { ...o, retainOnDelete: true });
  const key = new gcp.kms.CryptoKey(
    `${name}-secrets`,
    {
      keyRing: keyRing.id,
      purpose: "ENCRYPT_DECRYPT",
      rotationPeriod: gkeDefaults.keyRotationPeriod,
    },
    { ...o, protect: args.production },
  );
  const grant = new gcp.kms.CryptoKeyIAMMember(
    `${name}-secrets-gke`,
    {
      cryptoKeyId: key.id,
      role: "roles/cloudkms.cryptoKeyEncrypterDecrypter",
      member: `serviceAccount:service-${projectNumber}@container-engine-robot.iam.gserviceaccount.com`,
    },
    o,
  );
  return { key, grant };
}

/** What the control plane is built on and waits for. */
export interface GkeControlPlaneInput {
  readonly network: gcp.compute.Network;
  readonly subnet: gcp.compute.Subnetwork;
  readonly secretsKey: gcp.kms.CryptoKey;
  /** The service account the temporary default pool's nodes run as. */
  readonly nodeAccountEmail: pulumi.Output<string>;
  /** What the cluster (and so its first nodes) is created after: the key grant, the nodes' IAM grants. */
  readonly waitFor: readonly pulumi.Resource[];
}

/**
 * A GKE Standard control plane: VPC-native, private nodes, private or allow-listed endpoint,
 * Workload Identity, Dataplane V2, Secret encryption, Cloud Logging and Managed Prometheus, no
 * client certificate, no legacy ABAC, Google Groups for RBAC when configured.
 */
export function gkeControlPlane(
  name: string,
  args: GkeClusterArgs,
  input: GkeControlPlaneInput,
  safety: ClusterSafety,
  o: pulumi.CustomResourceOptions,
): gcp.container.Cluster {
  const cfg = args.gcp;
  const { location, nodeLocations } = gkeLocation(cfg);
  const publicAccess = cfg.publicAccessCidrs.length > 0;
  return new gcp.container.Cluster(
    `${name}-gke`,
    {
      name: args.name,
      location,
      nodeLocations,
      network: input.network.id,
      subnetwork: input.subnet.id,
      networkingMode: "VPC_NATIVE",
      ipAllocationPolicy: {
        clusterSecondaryRangeName: gkeDefaults.podsRange,
        servicesSecondaryRangeName: gkeDefaults.servicesRange,
      },
      // The default pool cannot be configured well; separate pools (nodes.ts) replace it.
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
      workloadIdentityConfig: { workloadPool: `${cfg.project}.svc.id.goog` },
      authenticatorGroupsConfig: cfg.rbacSecurityGroup ? { securityGroup: cfg.rbacSecurityGroup } : undefined,
      databaseEncryption: { state: "ENCRYPTED", keyName: input.secretsKey.id },
      loggingConfig: { enableComponents: [...gkeDefaults.loggingComponents] },
      monitoringConfig: {
        enableComponents: [...gkeDefaults.monitoringComponents],
        managedPrometheus: { enabled: true },
      },
      addonsConfig: {
        httpLoadBalancing: { disabled: false },
        horizontalPodAutoscaling: { disabled: false },
        gcePersistentDiskCsiDriverConfig: { enabled: true },
        // The Backup for GKE agent: team volumes are backed up by a plan of the platform stack.
        gkeBackupAgentConfig: { enabled: true },
      },
      // The temporary default pool's nodes are also shielded and use the least-privilege account.
      nodeConfig: {
        serviceAccount: input.nodeAccountEmail,
        shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
        workloadMetadataConfig: { mode: "GKE_METADATA" },
      },
      resourceLabels: { ...args.labels },
      deletionProtection: safety.deletionProtection,
    },
    { ...o, protect: safety.protect, dependsOn: [...input.waitFor], ignoreChanges: ["nodeConfig", "initialNodeCount"] },
  );
}
