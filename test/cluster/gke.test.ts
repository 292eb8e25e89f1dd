import type { RunResult } from "../../tools/offline/run";
import { gkeLocation, gkeSafety } from "../../components/cluster/gke";
import { hostResourceName } from "../../layers/platform";
import { getObject, setConfig, stackConfig } from "../helpers/program";
import { clusterHandle, ofType, one, unsecret, runLayers, withIdentity } from "./harness";

const inputs = (r: { inputs: Record<string, unknown> }) => r.inputs as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const DIGEST = "sha256:4a72d3ce7eda670b78baadd8995384db29483dfc76e12f81a24e1fc1256c0a8e";

/** prod-gke's config as a non-production, zonal dev cluster. */
function zonalDev() {
  const cfg = setConfig(stackConfig("prod-gke.platform"), "blueprint:production", false);
  setConfig(cfg, "blueprint:cluster.gcp.regional", false);
  setConfig(cfg, "blueprint:cluster.gcp.zones", ["europe-west1-b"]);
  return cfg;
}

describe("a GKE cluster (prod-gke stack)", () => {
  let prod: RunResult;
  let cluster: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  beforeAll(async () => {
    prod = await runLayers("prod-gke");
    cluster = inputs(one(prod, "gcp:container/cluster:Cluster"));
  });

  it("is a regional, VPC-native cluster on a subnet with secondary ranges for pods and Services", () => {
    expect(cluster.location).toBe("europe-west1");
    expect(cluster.nodeLocations).toEqual(["europe-west1-b", "europe-west1-c", "europe-west1-d"]);
    expect(cluster.networkingMode).toBe("VPC_NATIVE");
    const subnet = inputs(one(prod, "gcp:compute/subnetwork:Subnetwork"));
    expect(subnet.ipCidrRange).toBe("10.40.0.0/20");
    expect(subnet.privateIpGoogleAccess).toBe(true);
    expect(subnet.secondaryIpRanges).toEqual([
      { rangeName: "pods", ipCidrRange: "10.44.0.0/14" },
      { rangeName: "services", ipCidrRange: "10.48.0.0/20" },
    ]);
    expect(cluster.ipAllocationPolicy).toEqual({
      clusterSecondaryRangeName: "pods",
      servicesSecondaryRangeName: "services",
    });
    expect(inputs(one(prod, "gcp:compute/network:Network")).autoCreateSubnetworks).toBe(false);
  });

  it("may be zonal outside production", async () => {
    const { resources } = await clusterHandle("prod-gke.platform", zonalDev());
    const c = resources.find((r) => r.type === "gcp:container/cluster:Cluster")!;
    expect(c.inputs.location).toBe("europe-west1-b");
    expect(c.inputs.nodeLocations).toBeUndefined();
    expect(c.inputs.deletionProtection).toBe(false);
    expect(
      gkeLocation({ regional: false, zones: ["europe-west1-b", "europe-west1-c"], region: "europe-west1" }),
    ).toEqual({ location: "europe-west1-b", nodeLocations: ["europe-west1-b", "europe-west1-c"] });
  });

  it("removes the default pool and runs a separate autoscaling pool with auto-repair and auto-upgrade", () => {
    expect(cluster.removeDefaultNodePool).toBe(true);
    const pool = inputs(one(prod, "gcp:container/nodePool:NodePool"));
    expect(pool.autoscaling).toMatchObject({ totalMinNodeCount: 3, totalMaxNodeCount: 12 });
    expect(pool.management).toEqual({ autoRepair: true, autoUpgrade: true });
    expect(pool.nodeConfig.machineType).toBe("e2-standard-4");
  });

  it("follows a release channel above a pinned minimum version, upgrading only in the maintenance window", () => {
    expect(cluster.releaseChannel).toEqual({ channel: "STABLE" });
    expect(cluster.minMasterVersion).toBe("1.36");
    expect(cluster.maintenancePolicy.recurringWindow).toEqual({
      startTime: "2025-01-04T02:00:00Z",
      endTime: "2025-01-04T08:00:00Z",
      recurrence: "FREQ=WEEKLY;BYDAY=SA,SU",
    });
  });

  it("uses Workload Identity, shielded nodes with secure boot and the GKE metadata server", () => {
    expect(cluster.workloadIdentityConfig).toEqual({ workloadPool: "acme-blueprint-prod.svc.id.goog" });
    expect(cluster.enableShieldedNodes).toBe(true);
    const node = inputs(one(prod, "gcp:container/nodePool:NodePool")).nodeConfig;
    expect(node.shieldedInstanceConfig).toEqual({ enableSecureBoot: true, enableIntegrityMonitoring: true });
    expect(node.workloadMetadataConfig).toEqual({ mode: "GKE_METADATA" });
    expect(node.serviceAccount).toBe(one(prod, "gcp:serviceaccount/account:Account").state.email);
  });

  it("has private nodes, a public endpoint only for the configured networks, and Cloud NAT for egress", () => {
    expect(cluster.privateClusterConfig).toEqual({ enablePrivateNodes: true, enablePrivateEndpoint: false });
    expect(cluster.masterAuthorizedNetworksConfig.cidrBlocks.map((b: { cidrBlock: string }) => b.cidrBlock)).toEqual([
      "203.0.113.0/24",
    ]);
    expect(cluster.masterAuthorizedNetworksConfig.gcpPublicCidrsAccessEnabled).toBe(false);
    expect(ofType(prod, "gcp:compute/routerNat:RouterNat")).toHaveLength(1);
  });

  it("has a private endpoint only when no networks are listed", async () => {
    const cfg = setConfig(stackConfig("prod-gke.platform"), "blueprint:cluster.gcp.publicAccessCidrs", []);
    const c = (await clusterHandle("prod-gke.platform", cfg)).resources.find(
      (r) => r.type === "gcp:container/cluster:Cluster",
    )!;
    expect(c.inputs.privateClusterConfig).toEqual({ enablePrivateNodes: true, enablePrivateEndpoint: true });
  });

  it("enforces network policy with Dataplane V2", () => {
    expect(cluster.datapathProvider).toBe("ADVANCED_DATAPATH");
  });

  it("encrypts Secrets with a rotating KMS key that only the GKE service agent may use", () => {
    const key = one(prod, "gcp:kms/cryptoKey:CryptoKey", "blueprint-prod-gke-secrets");
    expect(inputs(key).rotationPeriod).toBe("7776000s");
    // The key's id (its resource name); the mock engine answers with `<logical name>-id`.
    expect(cluster.databaseEncryption).toEqual({ state: "ENCRYPTED", keyName: `${key.name}-id` });
    const grant = inputs(one(prod, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "blueprint-prod-gke-secrets-gke"));
    expect(grant.role).toBe("roles/cloudkms.cryptoKeyEncrypterDecrypter");
    expect(grant.member).toBe("serviceAccount:service-123456789012@container-engine-robot.iam.gserviceaccount.com");
  });

  it("logs system and workload components, monitors with managed Prometheus, issues no client certificate and disables legacy ABAC", () => {
    expect(cluster.loggingConfig.enableComponents).toEqual(["SYSTEM_COMPONENTS", "WORKLOADS"]);
    // System metrics, and the kube-state-metrics packages and kubelet/cAdvisor scrapes the platform's alert rules read.
    expect(cluster.monitoringConfig.enableComponents).toEqual([
      "SYSTEM_COMPONENTS",
      "DEPLOYMENT",
      "POD",
      "HPA",
      "STORAGE",
      "STATEFULSET",
      "DAEMONSET",
      "KUBELET",
      "CADVISOR",
    ]);
    expect(cluster.monitoringConfig.managedPrometheus).toEqual({ enabled: true });
    expect(cluster.masterAuth.clientCertificateConfig).toEqual({ issueClientCertificate: false });
    expect(cluster.enableLegacyAbac).toBe(false);
  });

  it("resolves team groups as Google Groups and binds them in the team RoleBindings", () => {
    expect(cluster.authenticatorGroupsConfig).toEqual({ securityGroup: "gke-security-groups@example.com" });
    const binding = getObject(prod, "RoleBinding", "shop/team-maintainers") as unknown as {
      subjects: { kind: string; name: string }[];
    };
    expect(binding.subjects).toEqual([
      expect.objectContaining({ kind: "Group", name: "shop-maintainers@example.com" }),
    ]);
  });

  it("gives the default StorageClass pd-balanced disks from the PD CSI driver", () => {
    expect(cluster.addonsConfig.gcePersistentDiskCsiDriverConfig).toEqual({ enabled: true });
    const sc = getObject(prod, "StorageClass", "app-storage");
    expect(sc.provisioner).toBe("pd.csi.storage.gke.io");
    expect(sc.parameters).toEqual({ type: "pd-balanced", "csi.storage.k8s.io/fstype": "ext4" });
  });

  it("serves Ingresses through GKE Ingress and lets Google's load balancer ranges reach the pods", () => {
    expect(cluster.addonsConfig.httpLoadBalancing).toEqual({ disabled: false });
    const ing = getObject(prod, "Ingress", "shop/frontend");
    // GKE picks its controller by annotation and ignores (or, with both set, refuses) ingressClassName.
    expect((ing.spec as { ingressClassName?: string }).ingressClassName).toBeUndefined();
    expect(ing.metadata.annotations).toMatchObject({
      "kubernetes.io/ingress.class": "gce",
      "networking.gke.io/managed-certificates": `${hostResourceName("shop.example.com")}-cert`,
    });
    // The certificate is Google-managed; no spec.tls points at a Secret that nobody creates.
    expect((ing.spec as { tls?: unknown }).tls).toBeUndefined();
    const cert = getObject(prod, "ManagedCertificate", `shop/${hostResourceName("shop.example.com")}-cert`);
    expect(cert.spec).toEqual({ domains: ["shop.example.com"] });
    const np = getObject(prod, "NetworkPolicy", "shop/frontend-from-ingress") as unknown as {
      spec: { ingress: { from: { ipBlock: { cidr: string } }[] }[] };
    };
    expect(np.spec.ingress[0].from.map((p) => p.ipBlock.cidr)).toEqual(["35.191.0.0/16", "130.211.0.0/22"]);
  });

  it("protects the cluster and its key from deletion in prod", async () => {
    expect(cluster.deletionProtection).toBe(true);
    expect(gkeSafety(true)).toEqual({ protect: true, deletionProtection: true });
    expect(gkeSafety(false)).toEqual({ protect: false, deletionProtection: false });
    expect((await clusterHandle("prod-gke.platform")).handle.safety).toEqual({
      protect: true,
      deletionProtection: true,
    });
    expect((await clusterHandle("prod-gke.platform", zonalDev())).handle.safety).toEqual({
      protect: false,
      deletionProtection: false,
    });
  });

  it("builds a secret kubeconfig with gke-gcloud-auth-plugin exec auth and no token", () => {
    const kc = JSON.parse(
      unsecret(inputs(one(prod, "pulumi:providers:kubernetes", "blueprint-prod-gke-k8s")).kubeconfig) as string,
    );
    expect(kc.users[0].user.exec).toMatchObject({ command: "gke-gcloud-auth-plugin", provideClusterInfo: true });
    expect(kc.users[0].user.token).toBeUndefined();
    expect(kc.clusters[0].cluster.server).toMatch(/^https:\/\/\d+\.\d+\.\d+\.\d+$/);
    expect(prod.outputs.kubeconfig).toBe("[secret]");
  });

  it("binds a ServiceAccount to a Google service account with Workload Identity", async () => {
    const gsa = "shop-frontend@acme-blueprint-prod.iam.gserviceaccount.com";
    const { platform, team } = withIdentity("prod-gke", "frontend", gsa);
    const result = await runLayers("prod-gke", platform, team);
    expect(getObject(result, "ServiceAccount", "shop/frontend").metadata.annotations).toEqual({
      "iam.gke.io/gcp-service-account": gsa,
    });
    const member = inputs(one(result, "gcp:serviceaccount/iAMMember:IAMMember", "blueprint-prod-gke-wi-shop-frontend"));
    expect(member).toMatchObject({
      serviceAccountId: `projects/acme-blueprint-prod/serviceAccounts/${gsa}`,
      role: "roles/iam.workloadIdentityUser",
      member: "serviceAccount:acme-blueprint-prod.svc.id.goog[shop/frontend]",
    });
  });

  it("mirrors ghcr.io through an Artifact Registry remote repository and pulls the same digest from it", async () => {
    const repo = inputs(one(prod, "gcp:artifactregistry/repository:Repository"));
    expect(repo).toMatchObject({
      mode: "REMOTE_REPOSITORY",
      format: "DOCKER",
      remoteRepositoryConfig: { dockerRepository: { customRepository: { uri: "https://ghcr.io" } } },
    });
    const { handle } = await clusterHandle("prod-gke.platform");
    expect(handle.pullReference(`ghcr.io/stefanprodan/podinfo@${DIGEST}`)).toBe(
      `europe-west1-docker.pkg.dev/acme-blueprint-prod/ghcr/stefanprodan/podinfo@${DIGEST}`,
    );
  });
});
