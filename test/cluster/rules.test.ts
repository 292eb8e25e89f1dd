import { validateCluster } from "../../config/cluster-rules";
import { formatCidr, overlaps, parseCidr, subdivide } from "../../lib/cidr";
import { clusterSchema, type ClusterConfig } from "../../lib/cluster-config";
import { pullReference } from "../../components/cluster/registry";
import { setConfig, stackConfig } from "../helpers/program";
import { runFailing } from "./harness";

/** Expects the stack's render to fail with a config error naming `key`, before any cloud resource. */
async function expectConfigError(
  env: string,
  edits: [string, unknown][],
  key: string,
  says: RegExp,
  allowProviders = false,
): Promise<void> {
  const stack = `${env}.platform`;
  const cfg = stackConfig(stack);
  for (const [k, v] of edits) setConfig(cfg, k, v);
  const { message, registered } = await runFailing(stack, cfg);
  expect(message).toContain(`stacks/Pulumi.${stack}.yaml: ${key} `);
  expect(message.split("\n").find((l) => l.includes(`${key} `))).toMatch(says);
  expect(registered.filter((r) => !(allowProviders && r.startsWith("pulumi:providers:")))).toEqual([]);
}

describe("bad cluster config is refused before any resource, naming the key", () => {
  it("an unknown cloud", () =>
    expectConfigError(
      "dev",
      [["blueprint:cluster.cloud", "azure"]],
      "blueprint:cluster.cloud",
      /one of "aws", "gcp", "existing", got "azure"/,
    ));

  it("a missing AWS region", () =>
    expectConfigError(
      "dev",
      [["blueprint:cluster.aws.region", undefined]],
      "blueprint:cluster.aws.region",
      /is required when cloud is "aws"/,
    ));

  it("a malformed AWS region", () =>
    expectConfigError(
      "dev",
      [["blueprint:cluster.aws.region", "Ireland"]],
      "blueprint:cluster.aws.region",
      /must be an AWS region such as eu-west-1/,
    ));

  it("a missing Google Cloud project", () =>
    expectConfigError(
      "prod-gke",
      [["blueprint:cluster.gcp.project", undefined]],
      "blueprint:cluster.gcp.project",
      /is required when cloud is "gcp"/,
    ));

  it("a missing Google Cloud region", () =>
    expectConfigError(
      "prod-gke",
      [["blueprint:cluster.gcp.region", undefined]],
      "blueprint:cluster.gcp.region",
      /is required when cloud is "gcp"/,
    ));

  it("a missing section for the chosen cloud", () =>
    expectConfigError(
      "dev",
      [["blueprint:cluster.aws", undefined]],
      "blueprint:cluster.aws",
      /is required when cloud is "aws"/,
    ));

  it("a section of another cloud", () =>
    expectConfigError(
      "dev",
      [["blueprint:cluster.existing", { context: "kind-blueprint" }]],
      "blueprint:cluster.existing",
      /only used when cloud is "existing", but cloud is "aws"/,
    ));

  it("an EKS node group whose minSize exceeds maxSize", () =>
    expectConfigError(
      "dev",
      [["blueprint:cluster.aws.nodeGroups.general.minSize", 5]],
      "blueprint:cluster.aws.nodeGroups.general.minSize",
      /must not exceed maxSize \(4\), got 5/,
    ));

  it("a GKE node pool whose minSize exceeds maxSize", () =>
    expectConfigError(
      "prod-gke",
      [["blueprint:cluster.gcp.nodePools.general.minSize", 13]],
      "blueprint:cluster.gcp.nodePools.general.minSize",
      /must not exceed maxSize \(12\), got 13/,
    ));

  it("no node pool at all", () =>
    expectConfigError(
      "dev",
      [["blueprint:cluster.aws.nodeGroups", {}]],
      "blueprint:cluster.aws.nodeGroups",
      /at least one node pool/,
    ));

  it("fewer than three zones for EKS in production", () =>
    expectConfigError(
      "prod",
      [["blueprint:cluster.aws.zones", 2]],
      "blueprint:cluster.aws.zones",
      /at least 3 in a production environment.*got 2/,
    ));

  it("a single zone for EKS even outside production", () =>
    expectConfigError(
      "dev",
      [["blueprint:cluster.aws.zones", 1]],
      "blueprint:cluster.aws.zones",
      /at least 2 .*got 1/,
    ));

  // Only AWS knows how many zones a region has: its provider exists to ask, nothing else does.
  it("more zones than the region offers", () =>
    expectConfigError(
      "dev",
      [["blueprint:cluster.aws.zones", 4]],
      "blueprint:cluster.aws.zones",
      /region eu-west-1 offers 3/,
      true,
    ));

  it("fewer than three zones for GKE in production", () =>
    expectConfigError(
      "prod-gke",
      [["blueprint:cluster.gcp.zones", ["europe-west1-b", "europe-west1-c"]]],
      "blueprint:cluster.gcp.zones",
      /at least 3 zones in a production environment/,
    ));

  it("a zonal GKE cluster in production", () =>
    expectConfigError(
      "prod-gke",
      [["blueprint:cluster.gcp.regional", false]],
      "blueprint:cluster.gcp.regional",
      /must be true in a production environment/,
    ));

  it("GKE zones outside the region", () =>
    expectConfigError(
      "prod-gke",
      [["blueprint:cluster.gcp.zones", ["europe-west1-b", "europe-west1-c", "us-central1-a"]]],
      "blueprint:cluster.gcp.zones",
      /must all be in region europe-west1, got us-central1-a/,
    ));

  it("an unpinned Kubernetes version", () =>
    expectConfigError(
      "prod",
      [["blueprint:cluster.kubernetesVersion", "latest"]],
      "blueprint:cluster.kubernetesVersion",
      /pinned Kubernetes minor version/,
    ));

  it("a missing Kubernetes version", () =>
    expectConfigError(
      "prod-gke",
      [["blueprint:cluster.kubernetesVersion", undefined]],
      "blueprint:cluster.kubernetesVersion",
      /is required/,
    ));

  it("a Service range inside the VPC", () =>
    expectConfigError(
      "dev",
      [["blueprint:cluster.aws.serviceCidr", "10.10.128.0/20"]],
      "blueprint:cluster.aws.serviceCidr",
      /overlaps aws.vpcCidr \(10.10.0.0\/16\)/,
    ));

  it("GKE pod and node ranges that overlap", () =>
    expectConfigError(
      "prod-gke",
      [["blueprint:cluster.gcp.podsCidr", "10.40.0.0/14"]],
      "blueprint:cluster.gcp.podsCidr",
      /overlaps gcp.subnetCidr/,
    ));

  it("a malformed CIDR", () =>
    expectConfigError(
      "dev",
      [["blueprint:cluster.aws.vpcCidr", "10.0.0.0/33"]],
      "blueprint:cluster.aws.vpcCidr",
      /IPv4 CIDR block/,
    ));

  it("a VPC too small to carve subnets from", () =>
    expectConfigError(
      "dev",
      [["blueprint:cluster.aws.vpcCidr", "10.10.0.0/24"]],
      "blueprint:cluster.aws.vpcCidr",
      /\/16 to \/20/,
    ));

  it("the whole internet on the production API endpoint", () =>
    expectConfigError(
      "prod",
      [["blueprint:cluster.aws.publicAccessCidrs", ["0.0.0.0/0"]]],
      "blueprint:cluster.aws.publicAccessCidrs",
      /whole internet/,
    ));

  it("a single NAT gateway in production", () =>
    expectConfigError(
      "prod",
      [["blueprint:cluster.aws.natGateways", "single"]],
      "blueprint:cluster.aws.natGateways",
      /single point of failure/,
    ));

  it("team groups that are not Google Groups on GKE", () =>
    expectConfigError(
      "prod-gke",
      [["blueprint:teams.shop.groups.maintainers", ["shop-maintainers"]]],
      "blueprint:teams.shop.groups.maintainers",
      /Google Group email address/,
    ));

  it("team groups on GKE without the RBAC security group", () =>
    expectConfigError(
      "prod-gke",
      [["blueprint:cluster.gcp.rbacSecurityGroup", undefined]],
      "blueprint:cluster.gcp.rbacSecurityGroup",
      /gke-security-groups@<domain>/,
    ));

  it("a Google service account as a team's identity on EKS", () =>
    expectConfigError(
      "dev",
      [
        [
          "blueprint:teams.shop.identities",
          { web: { cloudIdentity: "web@acme-blueprint-prod.iam.gserviceaccount.com", serviceAccounts: ["frontend"] } },
        ],
      ],
      "blueprint:teams.shop.identities.web.cloudIdentity",
      /IAM role ARN/,
    ));

  it("an IAM role as a team's identity on GKE", () =>
    expectConfigError(
      "prod-gke",
      [
        [
          "blueprint:teams.shop.identities",
          { web: { cloudIdentity: "arn:aws:iam::123456789012:role/web", serviceAccounts: ["frontend"] } },
        ],
      ],
      "blueprint:teams.shop.identities.web.cloudIdentity",
      /Google service account email/,
    ));

  it("an ECR mirror of ghcr.io without upstream credentials", () =>
    expectConfigError(
      "dev",
      [["blueprint:cluster.aws.registryMirror", { upstream: "ghcr.io" }]],
      "blueprint:cluster.aws.registryMirror.credentialArn",
      /is required for ghcr.io/,
    ));

  it("reports every cluster problem of a stack together", async () => {
    const cfg = stackConfig("dev.platform");
    setConfig(cfg, "blueprint:cluster.aws.zones", 1);
    setConfig(cfg, "blueprint:cluster.aws.serviceCidr", "10.10.0.0/16");
    setConfig(cfg, "blueprint:cluster.aws.nodeGroups.general.minSize", 20);
    const { message } = await runFailing("dev.platform", cfg);
    expect(message).toMatch(/^3 configuration problems in stacks\/Pulumi\.dev\.platform\.yaml/);
  });
});

/** The rules' evaluation day in the pure tests: fixed, so they never depend on the clock. */
const NOW = new Date("2026-11-29T12:00:00Z");

describe("cluster rules as a pure function", () => {
  const aws = (over: Record<string, unknown> = {}): ClusterConfig =>
    clusterSchema.parse({
      cloud: "aws",
      kubernetesVersion: "1.36",
      aws: {
        region: "eu-west-1",
        nodeGroups: { general: { instanceTypes: ["m7i.large"], minSize: 1, maxSize: 3 } },
        ...over,
      },
    });

  it("accepts a minimal EKS cluster outside production", () => {
    expect(validateCluster(aws(), { production: false, now: NOW })).toEqual([]);
  });

  it("needs the production context for the production rules", () => {
    expect(validateCluster(aws({ zones: 2 }), { production: false, now: NOW })).toEqual([]);
    expect(validateCluster(aws({ zones: 2 }), { production: true, now: NOW }).map((p) => p.key)).toEqual([
      "blueprint:cluster.aws.zones",
    ]);
  });

  it("refuses groupRoles for groups no team uses", () => {
    const cfg = aws({ groupRoles: { ghosts: "arn:aws:iam::123456789012:role/ghosts" } });
    const teams = { shop: { groups: { maintainers: ["shop-maintainers"], viewers: [] } } };
    expect(validateCluster(cfg, { production: false, teams, now: NOW })).toEqual([
      {
        key: "blueprint:cluster.aws.groupRoles.ghosts",
        message: expect.stringContaining("team groups: shop-maintainers"),
      },
    ]);
  });

  it("refuses an admin role that also has a group's access entry (one access entry per principal)", () => {
    const role = "arn:aws:iam::123456789012:role/ops";
    const teams = { shop: { groups: { maintainers: ["shop-maintainers"], viewers: [] } } };
    expect(
      validateCluster(aws({ adminRoleArns: [role], groupRoles: { "shop-maintainers": role } }), {
        production: false,
        teams,
        now: NOW,
      }),
    ).toEqual([
      {
        key: "blueprint:cluster.aws.groupRoles.shop-maintainers",
        message: expect.stringContaining("EKS allows one access entry per principal"),
      },
    ]);
  });
});

describe("CIDR arithmetic", () => {
  it("parses and normalises blocks", () => {
    expect(formatCidr(parseCidr("10.1.2.3/16")!)).toBe("10.1.0.0/16");
    expect(parseCidr("10.0.0.256/8")).toBeUndefined();
    expect(parseCidr("10.0.0.0")).toBeUndefined();
  });

  it("detects overlap, containment and adjacency", () => {
    const c = (t: string) => parseCidr(t)!;
    expect(overlaps(c("10.0.0.0/16"), c("10.0.128.0/20"))).toBe(true);
    expect(overlaps(c("10.0.128.0/20"), c("10.0.0.0/16"))).toBe(true);
    expect(overlaps(c("10.0.0.0/16"), c("10.1.0.0/16"))).toBe(false);
    expect(overlaps(c("0.0.0.0/0"), c("192.168.0.0/24"))).toBe(true);
  });

  it("subdivides blocks and refuses impossible ones", () => {
    expect(formatCidr(subdivide(parseCidr("10.0.0.0/16")!, 3, 7))).toBe("10.0.224.0/19");
    expect(() => subdivide(parseCidr("10.0.0.0/30")!, 3, 0)).toThrow(RangeError);
    expect(() => subdivide(parseCidr("10.0.0.0/16")!, 2, 4)).toThrow(RangeError);
  });
});

describe("pull references", () => {
  const ref = `ghcr.io/acme/web@sha256:${"a".repeat(64)}`;
  it("moves only the registry host of mirrored images, never the digest", () => {
    expect(pullReference(ref, { upstream: "ghcr.io", registry: "europe-west1-docker.pkg.dev/p/ghcr" })).toBe(
      `europe-west1-docker.pkg.dev/p/ghcr/acme/web@sha256:${"a".repeat(64)}`,
    );
  });
  it("leaves other registries, unmirrored environments and unpinned references alone", () => {
    expect(pullReference(ref, { upstream: "quay.io", registry: "r/quay" })).toBe(ref);
    expect(pullReference(ref, undefined)).toBe(ref);
    expect(pullReference("ghcr.io/acme/web:latest", { upstream: "ghcr.io", registry: "r/ghcr" })).toBe(
      "ghcr.io/acme/web:latest",
    );
  });
});
