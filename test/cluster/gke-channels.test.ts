import { validateCluster } from "../../config/cluster-rules";
import { clusterSchema } from "../../lib/cluster-config";
import {
  evaluationDate,
  gkeChannelMinors,
  gkeChannelOffers,
  gkeChannelTable,
  kubernetesVersionTable,
} from "../../lib/kubernetes-versions";
import { stackConfig } from "../helpers/program";

/** GKE versions follow the release channel: a minor the chosen channel does not offer is refused. */

const NOW = new Date("2026-12-02T12:00:00Z");
const gke = (version: string, releaseChannel: string, extendedSupport = false) =>
  clusterSchema.parse({
    cloud: "gcp",
    kubernetesVersion: version,
    extendedSupport,
    gcp: {
      project: "my-project-1",
      region: "europe-west1",
      zones: ["europe-west1-b", "europe-west1-c"],
      nodePools: { g: { minSize: 1, maxSize: 3 } },
      releaseChannel,
    },
  });
const versionProblems = (c: ReturnType<typeof gke>, now = NOW) =>
  validateCluster(c, { production: false, now }).filter(
    (p) => p.key.endsWith("kubernetesVersion") || p.key.endsWith("releaseChannel"),
  );

describe("GKE release channels", () => {
  it("records for every minor the day each channel began offering it, Rapid before Regular before Stable, Regular as the table's release", () => {
    for (const [minor, channels] of Object.entries(gkeChannelTable)) {
      const support = kubernetesVersionTable.gcp[minor];
      if (channels.REGULAR) expect([minor, channels.REGULAR]).toEqual([minor, support.released]);
      const order = [channels.RAPID, channels.REGULAR, channels.STABLE].filter((d): d is string => d !== undefined);
      expect([minor, [...order].sort()]).toEqual([minor, order]);
    }
  });

  it("offers what each channel holds today", () => {
    expect(gkeChannelMinors("RAPID", NOW)).toEqual(["1.35", "1.36", "1.37"]);
    expect(gkeChannelMinors("REGULAR", NOW)).toEqual(["1.35", "1.36"]);
    expect(gkeChannelMinors("STABLE", NOW)).toEqual(["1.35", "1.36"]);
    expect(gkeChannelMinors("EXTENDED", NOW)).toEqual(["1.32", "1.33", "1.34", "1.35", "1.36"]);
  });

  it.each<[string, string, boolean]>([
    ["1.37", "RAPID", false],
    ["1.36", "STABLE", false],
    ["1.36", "REGULAR", false],
    ["1.35", "STABLE", false],
    ["1.34", "EXTENDED", true],
  ])("accepts %s in %s", (version, channel, extended) => {
    expect(versionProblems(gke(version, channel, extended))).toEqual([]);
  });

  it.each<[string, string, Date, RegExp]>([
    [
      "1.37",
      "REGULAR",
      NOW,
      /"1\.37" is not offered in the GKE REGULAR release channel on 2026-12-02 \(it offers 1\.35, 1\.36;/,
    ],
    [
      "1.37",
      "STABLE",
      NOW,
      /"1\.37" is not offered in the GKE STABLE release channel on 2026-12-02 \(it offers 1\.35, 1\.36;/,
    ],
    [
      "1.36",
      "STABLE",
      new Date("2026-07-01T00:00:00Z"),
      /"1\.36" is not offered in the GKE STABLE release channel on 2026-07-01 \(it offers 1\.33, 1\.34, 1\.35;/,
    ],
    ["1.34", "REGULAR", NOW, /"1\.34" is past its end of standard support on GKE/],
    ["1.38", "RAPID", NOW, /"1\.38" is not offered in the GKE RAPID release channel/],
  ])("refuses %s in %s", (version, channel, now, message) => {
    expect(versionProblems(gke(version, channel), now)).toEqual([
      { key: "blueprint:cluster.kubernetesVersion", message: expect.stringMatching(message) },
    ]);
  });

  it("keeps the shipped prod-gke stack on a minor its channel offers today", () => {
    const cluster = JSON.parse(stackConfig("prod-gke.platform").config["blueprint:cluster"]) as {
      kubernetesVersion: string;
      gcp: { releaseChannel: "STABLE" };
    };
    expect(gkeChannelOffers(cluster.gcp.releaseChannel, cluster.kubernetesVersion, evaluationDate())).toBe(true);
    expect(gkeChannelOffers(cluster.gcp.releaseChannel, cluster.kubernetesVersion, NOW)).toBe(true);
  });
});
