import * as fs from "node:fs";
import * as path from "node:path";
import { openProject } from "../../promotion/workspace";
import { promotionView, type PromotionView } from "../../promotion/view/model";
import {
  attachCleanScan,
  COMMIT_B,
  digest,
  drain,
  harness,
  harnessIn,
  HOUR,
  outputsJson,
  PODINFO,
  releaseVerifiedInDev,
  type Harness,
} from "./fixtures";

/** A lane's state after the scenario, and its project. */
export interface Scenario {
  readonly h: Harness;
  /** shop's release in staging and prod (now failing prod's gate), and its release waiting in dev. */
  readonly running: string;
  readonly waiting: string;
  /** payments' release whose dev verification failed. */
  readonly failed: string;
  view(): Promise<PromotionView>;
}

/**
 * A project in every state the views show, built with the real commands on a fake clock:
 * - shop: release A verified in dev and staging, approved by Alice, promoted to prod and verified
 *   there; then a rescan of A's digest finds a critical fixable finding, so prod runs A and A now
 *   fails prod's gate. Release B is verified in dev and soaks before staging (about 1h left).
 *   prod-gke waits for A: no approval, and the stage's registry does not hold the digest.
 * - payments: a release whose verification in dev failed (another digest runs).
 */
export async function viewScenario(): Promise<Scenario> {
  const h = harness();
  const running = await releaseVerifiedInDev(h, "a");
  h.clock.advance(2 * HOUR);
  await must(h, "promote", "staging");
  await must(
    h,
    "verify",
    "staging",
    "--outputs",
    outputsJson(h, "staging-a.json", running, `${PODINFO}@${digest("a")}`, "staging"),
  );
  await attachCleanScan(h, running, "a");
  h.clock.advance(25 * HOUR);
  h.actor = "Alice <alice@example.com>";
  await must(h, "approve", "prod", "--release", running, "--reason", "change ticket CHG-1042");
  h.actor = "Release Bot <ci@example.com>";
  await must(h, "promote", "prod");
  await must(
    h,
    "verify",
    "prod",
    "--outputs",
    outputsJson(h, "prod-a.json", running, `${PODINFO}@${digest("a")}`, "prod"),
  );
  h.clock.advance(HOUR);
  const waiting = await releaseVerifiedInDev(h, "b", COMMIT_B);
  h.clock.advance(5 * 60_000);
  const report = path.join(h.dir, "trivy-a-rescan.json");
  const ref = `${PODINFO}@${digest("a")}`;
  fs.writeFileSync(
    report,
    JSON.stringify({
      SchemaVersion: 2,
      CreatedAt: h.clock.now().toISOString(),
      ArtifactName: ref,
      Metadata: { RepoDigests: [ref] },
      Results: [
        {
          Target: "podinfo (alpine 3.20)",
          Vulnerabilities: [
            {
              VulnerabilityID: "CVE-2026-40001",
              PkgName: "openssl",
              InstalledVersion: "3.3.1",
              FixedVersion: "3.3.4",
              Severity: "CRITICAL",
            },
          ],
        },
      ],
    }),
  );
  await must(h, "release", "scan", running, "--image", "podinfo", "--report", report);

  const p = harnessIn(h.dir, "payments");
  p.clock.current = h.clock.now();
  await must(p, "release", "create", "--image", `podinfo=${PODINFO}@${digest("c")}`, "--commit", "3".repeat(40));
  const failed = /release (r-[0-9a-f]{12})/.exec(p.out.join("\n"))![1];
  await must(p, "promote", "dev", "--release", failed);
  expect(
    await p.cli("verify", "dev", "--outputs", outputsJson(p, "dev-c.json", failed, `${PODINFO}@${digest("d")}`, "dev")),
  ).toBe(1);
  drain(h);
  return { h, running, waiting, failed, view: () => promotionView(openProject(h.dir), h.deps(), h.clock.now()) };
}

async function must(h: Harness, ...argv: string[]): Promise<void> {
  const code = await h.cli(...argv);
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}:\n${h.out.join("\n")}`);
}
