import { validateCluster } from "../../config/cluster-rules";
import { clusterSchema } from "../../lib/cluster-config";
import { byKind, onExistingCluster, runStack, setConfig, stackConfig } from "../helpers/program";

/** A team member can reach the cluster, on each cloud. */

/** IAM's ArnLike: `*` matches any characters (including `/`), `?` one (IAM User Guide, condition operators). */
function arnLike(pattern: string, arn: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split("")
      .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\/]/g, "\\$&")))
      .join("")}$`,
  );
  return re.test(arn);
}

const US_EAST_1 =
  "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_ShopMaintainers_0123456789abcdef";
const EU_WEST_1 =
  "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_ShopMaintainers_0123456789abcdef";

describe("EKS: members sign in through the roles the contract names", () => {
  it("matches Identity Center roles with and without a region segment in the shipped groupPrincipals", () => {
    const cluster = JSON.parse(stackConfig("prod.platform").config["blueprint:cluster"]) as {
      aws: { groupPrincipals: Record<string, string[]> };
    };
    const patterns = cluster.aws.groupPrincipals["shop-maintainers"];
    expect(patterns.some((p) => arnLike(p, US_EAST_1))).toBe(true);
    expect(patterns.some((p) => arnLike(p, EU_WEST_1))).toBe(true);
    expect(patterns.some((p) => arnLike(p, US_EAST_1.replace("ShopMaintainers", "PaymentsMaintainers")))).toBe(false);
  });

  it("refuses a groupPrincipals pattern that demands a region segment", () => {
    const cfg = clusterSchema.parse({
      cloud: "aws",
      kubernetesVersion: "1.36",
      aws: {
        region: "us-east-1",
        nodeGroups: { g: { instanceTypes: ["m7i.large"], minSize: 1, maxSize: 3 } },
        groupPrincipals: {
          "shop-maintainers": [
            "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_ShopMaintainers_*",
          ],
        },
      },
    });
    const teams = { shop: { groups: { maintainers: ["shop-maintainers"], viewers: [] } } };
    expect(validateCluster(cfg, { production: false, teams, now: new Date("2026-12-02T00:00:00Z") })).toEqual([
      {
        key: "blueprint:cluster.aws.groupPrincipals.shop-maintainers",
        message: expect.stringMatching(
          /requires a region segment after sso\.amazonaws\.com\/, which IAM Identity Center roles of an instance in us-east-1 do not have/,
        ),
      },
    ]);
  });

  it("names in each team's contract the role every group signs in as: its groupRoles role, or the role made for it", async () => {
    const ROLE =
      "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_ShopSupport_0123456789abcdef";
    const cfg = setConfig(stackConfig("prod.platform"), ["blueprint:cluster", "aws", "groupRoles"], {
      "shop-support": ROLE,
    });
    const platform = await runStack("prod.platform", cfg);
    const contract = platform.stackOutputs.outputs.contract as Record<
      string,
      { access: { groups: Record<string, string> } }
    >;
    expect(Object.keys(contract.shop.access.groups).sort()).toEqual([
      "shop-developers",
      "shop-maintainers",
      "shop-support",
    ]);
    expect(contract.shop.access.groups["shop-support"]).toBe(ROLE);
    const made = platform.resources.filter(
      (r) => r.type === "aws:iam/role:Role" && String(r.inputs.description).startsWith('Members of "shop-maintainers"'),
    );
    expect(made).toHaveLength(1);
    expect(contract.shop.access.groups["shop-maintainers"]).toMatch(/^arn:aws:iam::\d{12}:role\//);
    expect(Object.keys(contract.payments.access.groups)).not.toContain("shop-support");
  });
});

describe("GKE: every team group may get the cluster before RBAC is consulted", () => {
  it("grants each team group roles/container.clusterViewer on the project, and nothing more", async () => {
    const platform = await runStack("prod-gke.platform");
    const bindings = platform.resources.filter(
      (r) => r.type === "gcp:projects/iAMMember:IAMMember" && r.inputs.role === "roles/container.clusterViewer",
    );
    const groups = [
      "payments-developers",
      "payments-maintainers",
      "payments-support",
      "shop-developers",
      "shop-maintainers",
      "shop-support",
    ].map((g) => `group:${g}@example.com`);
    expect(bindings.map((b) => b.inputs.member).sort()).toEqual(groups);
    for (const b of bindings) expect(b.inputs.project).toBe("acme-blueprint-prod");
    const contract = platform.stackOutputs.outputs.contract as Record<
      string,
      { access: { groups: Record<string, string> } }
    >;
    expect(contract.shop.access.groups).toEqual({
      "shop-maintainers@example.com": "shop-maintainers@example.com",
      "shop-developers@example.com": "shop-developers@example.com",
      "shop-support@example.com": "shop-support@example.com",
    });
  });

  it("grants no group a project role when no team names one", async () => {
    let cfg = stackConfig("prod-gke.platform");
    for (const t of ["shop", "payments"])
      cfg = setConfig(cfg, ["blueprint:teams", t, "groups"], { maintainers: [], viewers: [] });
    cfg = setConfig(cfg, ["blueprint:cluster", "gcp", "rbacSecurityGroup"], undefined);
    const platform = await runStack("prod-gke.platform", cfg);
    expect(
      platform.resources.filter(
        (r) => r.type === "gcp:projects/iAMMember:IAMMember" && r.inputs.role === "roles/container.clusterViewer",
      ),
    ).toEqual([]);
  });
});

describe("an existing cluster's kubeconfig never leaves the platform stack", () => {
  it("exports null as kubeconfig, also when blueprint:kubeconfig is set", async () => {
    const cfg = onExistingCluster(stackConfig("dev.platform"), {});
    cfg.config["blueprint:kubeconfig"] = "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n";
    cfg.secretKeys.push("blueprint:kubeconfig");
    const platform = await runStack("dev.platform", cfg);
    expect(platform.stackOutputs.outputs.kubeconfig).toBeNull();
    const contract = platform.stackOutputs.outputs.contract as Record<
      string,
      { kubeconfig: unknown; access: { groups: object } }
    >;
    expect(contract.shop.kubeconfig).toBeNull();
    expect(contract.shop.access.groups).toEqual({});
    // Team namespaces only: the platform's own (observability) are labelled part-of platform.
    const teamNamespaces = [...byKind(platform, "Namespace").values()].filter(
      (n) => n.metadata.labels?.["app.kubernetes.io/part-of"] !== "platform",
    );
    expect(teamNamespaces.map((n) => n.metadata.name).sort()).toEqual(["payments", "shop"]);
  });
});
