import type { RunResult } from "../../tools/offline/run";
import { setConfig, stackConfig, type K8sObject } from "../helpers/program";
import { runLayers, withIdentity } from "./harness";

/**
 * Kinds that exist only on one cloud: how that cloud provisions Ingress certificates, and the EBS
 * snapshot class of the EKS snapshot controller (Backup for GKE needs none).
 */
const CERTIFICATE_KINDS = new Set(["ManagedCertificate", "VolumeSnapshotClass"]);

/**
 * What the cluster's monitoring flavour (the contract's `monitoring`) decides: the monitor and rule
 * kinds, the platform's monitoring stack (its namespace, dashboards, GKE's Alertmanager Secret) and
 * the dashboards teams write for the platform's Grafana. Compared in their own test below.
 */
const MONITORING_KINDS = new Set(["ServiceMonitor", "PrometheusRule", "PodMonitoring", "Rules", "ClusterRules"]);
function isMonitoring(o: K8sObject): boolean {
  return (
    MONITORING_KINDS.has(o.kind) ||
    ["monitoring", "gmp-public"].includes(o.metadata.namespace ?? "") ||
    (o.kind === "Namespace" && o.metadata.name === "monitoring") ||
    (o.kind === "ConfigMap" && o.metadata.name.endsWith("-dashboard"))
  );
}

/**
 * The platform's data namespace: the managed Postgres users Job and its Secret carry the instance's
 * address, a cloud field, so their content-derived names differ by cloud.
 */
const DATA_NAMESPACE = "blueprint-data";

/** Objects keyed by kind/namespace/name, without the cloud's certificate objects and the monitoring flavour's. */
function index(result: RunResult): Map<string, K8sObject> {
  const objects = (result.objects as K8sObject[]).filter((o) => !CERTIFICATE_KINDS.has(o.kind) && !isMonitoring(o));
  const name = (o: K8sObject) =>
    o.metadata.namespace === DATA_NAMESPACE ? o.metadata.name.replace(/-[0-9a-f]{8}$/, "") : o.metadata.name;
  return new Map(objects.map((o) => [`${o.kind}/${o.metadata.namespace ?? "-"}/${name(o)}`, o]));
}

/** The image reference without its registry host and mirror prefix: path tail and digest. */
function imageIdentity(ref: string): string {
  const [repo, digest] = ref.split("@");
  return `${repo.split("/").slice(-2).join("/")}@${digest}`;
}

/**
 * An object with the fields a cloud may legitimately change blanked out: storage class driver and
 * parameters, ingress class, annotations and TLS (certificate by Secret, by ACM host lookup or by a
 * Google-managed certificate), the load balancer peers allowed in by the ingress NetworkPolicy,
 * ServiceAccount and Service annotations (GKE's NEG), the egress a cloud identity needs, and the
 * registry host of images (also in the admission policy's allow-list).
 */
function withoutCloudFields(o: K8sObject): unknown {
  const c = JSON.parse(JSON.stringify(o)) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  if (c.kind === "StorageClass") {
    delete c.provisioner;
    delete c.parameters;
  }
  if (c.kind === "Ingress") {
    delete c.metadata.annotations;
    delete c.spec.ingressClassName;
    delete c.spec.tls;
  }
  if (c.kind === "ServiceAccount" || c.kind === "Service") delete c.metadata.annotations;
  // What a cloud identity needs to reach (STS on AWS; the metadata server and Google APIs on GCP).
  if (c.kind === "NetworkPolicy" && c.metadata.name.endsWith("-egress")) delete c.spec.egress;
  if (c.kind === "NetworkPolicy" && c.metadata.name.endsWith("-from-ingress")) {
    for (const rule of c.spec.ingress) delete rule.from;
  }
  // Who scrapes: Prometheus in `monitoring`, or Managed Prometheus's collectors in `gmp-system`.
  if (c.kind === "NetworkPolicy" && c.metadata.name === "allow-metrics-scrape") {
    for (const rule of c.spec.ingress) delete rule.from;
  }
  // The platform's users Job verifies RDS with the region's RDS root CAs; Cloud SQL's Job only encrypts.
  if (c.kind === "ConfigMap" && c.metadata.namespace === "blueprint-data") delete c.data["ca.crt"];
  if (c.kind === "Secret" && c.metadata.namespace === "blueprint-data") delete (c.stringData ?? c.data).PGSSLROOTCERT;
  if (c.kind === "Job" && c.metadata.namespace === "blueprint-data") {
    for (const v of c.spec.template.spec.volumes) if (v.configMap) delete v.configMap.name;
  }
  // The metadata egress the cluster's identity binding needs (GKE's metadata server), which admission lets NetworkPolicies name exactly.
  if (c.kind === "ValidatingAdmissionPolicy" && c.metadata.name === "blueprint-team-network-policies") {
    c.spec.variables = c.spec.variables.filter((v: { name: string }) => v.name !== "granted");
  }
  // The team Roles grant the flavour's monitor and rule kinds.
  if (c.kind === "Role")
    c.rules = c.rules.filter((r: { apiGroups: string[] }) => !r.apiGroups.some((g) => g.startsWith("monitoring.")));
  for (const container of c.spec?.template?.spec?.containers ?? []) container.image = imageIdentity(container.image);
  // Where the server's CA is not in the system roots (Cloud SQL, Memorystore), the binding carries it and pods mount it.
  if (c.kind === "Secret" && c.metadata.name.startsWith("svc-")) delete c.stringData?.["ca.crt"];
  const pod = c.spec?.template?.spec;
  if (pod) {
    pod.volumes = pod.volumes?.filter((v: { name: string }) => !/^svc-.*-ca$/.test(v.name));
    for (const container of pod.containers)
      container.volumeMounts = container.volumeMounts?.filter((m: { name: string }) => !/^svc-.*-ca$/.test(m.name));
  }
  if (c.metadata.namespace === DATA_NAMESPACE) {
    c.metadata.name = c.metadata.name.replace(/-[0-9a-f]{8}$/, "");
    for (const container of c.spec?.template?.spec?.containers ?? []) delete container.envFrom;
  }
  if (c.kind === "ValidatingAdmissionPolicy") {
    delete c.metadata.annotations;
    c.spec.validations = c.spec.validations.filter((v: { message: string }) => !v.message.includes("allowed registry"));
  }
  return c;
}

describe("the same app on EKS and on GKE", () => {
  let eks: RunResult;
  let gke: RunResult;
  beforeAll(async () => {
    // prod-gke's apps and teams, once on its GKE cluster and once on prod's EKS cluster.
    const gcp = withIdentity("prod-gke", "frontend", "shop-frontend@acme-blueprint-prod.iam.gserviceaccount.com");
    const aws = withIdentity("prod-gke", "frontend", "arn:aws:iam::123456789012:role/shop-frontend");
    const onGke = gcp.platform;
    const onEks = setConfig(
      aws.platform,
      "blueprint:cluster",
      JSON.parse(stackConfig("prod.platform").config["blueprint:cluster"]),
    );
    // prod-gke's teams name Google Groups: who may act as them on AWS is given per group, as production requires.
    const sso = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_Shop_*";
    setConfig(
      onEks,
      "blueprint:cluster.aws.groupPrincipals",
      Object.fromEntries(
        [
          "shop-maintainers",
          "shop-developers",
          "shop-support",
          "payments-maintainers",
          "payments-developers",
          "payments-support",
        ].map((g) => [`${g}@example.com`, [sso]]),
      ),
    );
    // Without a mirror, the cluster admits what it pulls from ghcr.io itself.
    setConfig(onEks, "blueprint:policy.allowedRegistries", ["ghcr.io"]);
    [gke, eks] = [await runLayers("prod-gke", onGke, gcp.team), await runLayers("prod-gke", onEks, aws.team)];
  });

  it("runs on the two clouds", () => {
    expect(eks.outputs.cloud).toBe("aws");
    expect(gke.outputs.cloud).toBe("gcp");
  });

  it("renders the same set of Kubernetes objects, besides GKE's managed certificate", () => {
    expect([...index(eks).keys()].sort()).toEqual([...index(gke).keys()].sort());
    expect(gke.objects.filter((o) => o.kind === "ManagedCertificate")).toHaveLength(1);
    expect(eks.objects.filter((o) => o.kind === "ManagedCertificate")).toHaveLength(0);
  });

  it("renders each app's monitor in the flavour of its cluster: a ServiceMonitor on EKS, a PodMonitoring on GKE, for the same apps", () => {
    const monitors = (r: RunResult, kind: string) =>
      (r.objects as K8sObject[])
        .filter((o) => o.kind === kind)
        .map((o) => `${o.metadata.namespace}/${o.metadata.name}`)
        .sort();
    expect(monitors(eks, "ServiceMonitor").length).toBeGreaterThan(0);
    expect(monitors(eks, "ServiceMonitor")).toEqual(monitors(gke, "PodMonitoring"));
    expect(monitors(eks, "PodMonitoring")).toEqual([]);
    expect(monitors(gke, "ServiceMonitor")).toEqual([]);
  });

  it("renders identical workload specs once the cloud-specific fields are set aside", () => {
    const a = index(eks);
    const b = index(gke);
    for (const [key, obj] of a) expect([key, withoutCloudFields(obj)]).toEqual([key, withoutCloudFields(b.get(key)!)]);
  });

  it("differs exactly in the cloud-specific fields, each with its own cloud's value", () => {
    const a = index(eks);
    const b = index(gke);
    // [EKS, GKE] of one field of one object.
    const both = (key: string, pick: (o: any) => unknown) => [pick(a.get(key)), pick(b.get(key))]; // eslint-disable-line @typescript-eslint/no-explicit-any
    // Volumes: EBS gp3, encrypted; Persistent Disk balanced (encrypted at rest by Google, no parameter).
    expect(both("StorageClass/-/app-storage", (o) => o.parameters)).toEqual([
      { "csi.storage.k8s.io/fstype": "ext4", encrypted: "true", type: "gp3" },
      { "csi.storage.k8s.io/fstype": "ext4", type: "pd-balanced" },
    ]);
    // Ingress: an internet-facing ALB to pod IPs, TLS only; GCE's load balancer with a Google-managed
    // certificate and a reserved global address, no plain HTTP.
    expect(both("Ingress/shop/frontend", (o) => o.metadata.annotations)).toEqual([
      {
        "alb.ingress.kubernetes.io/healthcheck-path": "/readyz",
        "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP":80},{"HTTPS":443}]',
        "alb.ingress.kubernetes.io/scheme": "internet-facing",
        "alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "alb.ingress.kubernetes.io/ssl-redirect": "443",
        "alb.ingress.kubernetes.io/target-type": "ip",
      },
      {
        "kubernetes.io/ingress.allow-http": "false",
        "kubernetes.io/ingress.class": "gce",
        "kubernetes.io/ingress.global-static-ip-name": expect.stringMatching(/^blueprint-prod-gke-ingress-shop-/),
        "networking.gke.io/managed-certificates": expect.stringMatching(/^shop-[0-9a-f]+-cert$/),
      },
    ]);
    // The app's cloud identity, as this test gives it: an IAM role (IRSA), a Google service account (Workload Identity).
    expect(both("ServiceAccount/shop/frontend", (o) => o.metadata.annotations)).toEqual([
      { "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/shop-frontend" },
      { "iam.gke.io/gcp-service-account": "shop-frontend@acme-blueprint-prod.iam.gserviceaccount.com" },
    ]);
    // Container-native load balancing (network endpoint groups) on GKE only.
    expect(both("Service/shop/frontend", (o) => o.metadata.annotations ?? {})).toEqual([
      {},
      { "cloud.google.com/neg": '{"ingress": true}' },
    ]);
    // Both reach public HTTPS only; GKE's pods also reach the metadata addresses Workload Identity answers
    // tokens from (169.254.169.254:80, and 169.254.169.252:988 under Dataplane V2; components/cluster/gke/cluster.ts).
    const publicHttps = {
      ports: [{ port: 443, protocol: "TCP" }],
      to: [
        {
          ipBlock: {
            cidr: "0.0.0.0/0",
            except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"],
          },
        },
      ],
    };
    expect(both("NetworkPolicy/shop/frontend-egress", (o) => o.spec.egress)).toEqual([
      [publicHttps],
      [
        { ports: [{ port: 80, protocol: "TCP" }], to: [{ ipBlock: { cidr: "169.254.169.254/32" } }] },
        { ports: [{ port: 988, protocol: "TCP" }], to: [{ ipBlock: { cidr: "169.254.169.252/32" } }] },
        publicHttps,
      ],
    ]);
    // Who the load balancer is: the ALB in prod's public subnets (a /22 per zone at the top of its
    // vpcCidr 10.30.0.0/16); Google's front ends and health checkers (35.191.0.0/16, 130.211.0.0/22).
    expect(both("NetworkPolicy/shop/frontend-from-ingress", (o) => o.spec.ingress[0].from)).toEqual([
      ["10.30.224.0/22", "10.30.228.0/22", "10.30.232.0/22"].map((cidr) => ({ ipBlock: { cidr } })),
      ["35.191.0.0/16", "130.211.0.0/22"].map((cidr) => ({ ipBlock: { cidr } })),
    ]);
    // A managed instance's addresses: the VPC's private /19 per zone, or the private services range (default 10.60.0.0/20).
    expect(both("NetworkPolicy/shop/svc-db-egress", (o) => o.spec.egress[0].to)).toEqual([
      ["10.30.0.0/19", "10.30.32.0/19", "10.30.64.0/19"].map((cidr) => ({ ipBlock: { cidr } })),
      [{ ipBlock: { cidr: "10.60.0.0/20" } }],
    ]);
    // The platform's users Job verifies RDS with the region's three RDS root CAs; Cloud SQL's Job only encrypts.
    expect(
      both(
        "ConfigMap/blueprint-data/shop-db-scripts",
        (o) => o.data["ca.crt"]?.match(/BEGIN CERTIFICATE/g)?.length ?? 0,
      ),
    ).toEqual([3, 0]);
    const image = (o: any) => o.spec.template.spec.containers[0].image as string; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(image(a.get("Deployment/shop/frontend")).split("@")[1]).toBe(
      image(b.get("Deployment/shop/frontend")).split("@")[1],
    );
  });
});
