import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_DIR } from "../helpers/program";

/** What the docs say about a team's access and the migration's GKE step is what a real account needs. */

const doc = (name: string) => fs.readFileSync(path.join(PROJECT_DIR, "docs", name), "utf8");
const NEEDS =
  "a cloud identity, read access to the state backend, and the platform's secrets provider to decrypt `contract`; it needs no cloud-admin credentials";

describe("the docs on team access", () => {
  it.each(["architecture.md", "clusters.md", "promotion.md"])(
    "%s says exactly what a team stack needs, and never that it needs no credential",
    (name) => {
      const text = doc(name).replace(/\s+/g, " ");
      expect(text).toContain(NEEDS);
      expect(text).not.toMatch(/no cloud credential needed|team stacks need no cloud credentials/);
    },
  );

  it("shows how a team member logs in on EKS, GKE and an existing cluster, with the commands", () => {
    const section = doc("clusters.md").split("## How a team member logs in")[1].split("\n## ")[0];
    for (const command of [
      "aws sso login --profile",
      "aws eks update-kubeconfig",
      "role_arn =",
      "source_profile =",
      "gcloud container clusters get-credentials",
      "roles/container.clusterViewer",
      "kubectl config use-context",
      "kubectl auth can-i",
    ]) {
      expect([command, section.includes(command)]).toEqual([command, true]);
    }
    for (const source of [
      "access-entries.html",
      "referencingpermissionsets.html",
      "role-based-access-control",
      "google-groups-rbac",
    ])
      expect(section).toContain(source);
  });
});

describe("the migration's GKE step", () => {
  const text = doc("migration.md").replace(/\s+/g, " ");
  it("drops the old certificate from the state only after the Ingress moved to the team stack", () => {
    const move = text.indexOf("pulumi state move --source dev.platform --dest dev.shop");
    const del = text.indexOf("pulumi state delete -s prod-gke.platform");
    expect(move).toBeGreaterThan(0);
    expect(del).toBeGreaterThan(move);
  });

  it("keeps both certificates on the Ingress until the new one is Active, and names the minimum Pulumi CLI", () => {
    expect(text).toMatch(/networking\.gke\.io\/managed-certificates=frontend-cert,\$NEW/);
    expect(text).toMatch(/certificateStatus.*Active/);
    expect(text.indexOf("repeat until it prints Active")).toBeLessThan(text.indexOf("pulumi up -s dev.shop"));
    expect(text).toMatch(/Pulumi CLI v3\.127\.0 or later/);
  });
});
