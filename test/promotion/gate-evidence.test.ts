import * as fs from "node:fs";
import * as path from "node:path";
import { approvalCount } from "../../promotion/commands";
import {
  COMMIT_A,
  digest,
  drain,
  harness,
  harnessIn,
  HOUR,
  PODINFO,
  releaseVerifiedInDev,
  removeTempProjects,
  type Harness,
} from "./fixtures";

afterAll(removeTempProjects);

const GATED = `stages:
  dev: {}
  staging:
    from: [dev]
    vulnerabilities:
      max: { critical: 0 }
      maxFixable: { high: 0 }
      maxAge: 7d
`;

/** A Trivy JSON report about `PODINFO@digest(c)` with the given findings, scanned now. */
function trivy(h: Harness, name: string, c: string, vulns: { id: string; severity: string; fixed?: string }[]): string {
  const file = path.join(h.dir, name);
  const ref = `${PODINFO}@${digest(c)}`;
  fs.writeFileSync(
    file,
    JSON.stringify({
      SchemaVersion: 2,
      CreatedAt: h.clock.now().toISOString(),
      ArtifactName: ref,
      Metadata: { RepoDigests: [ref] },
      Results: [
        {
          Target: "podinfo",
          Vulnerabilities: vulns.map((v) => ({
            VulnerabilityID: v.id,
            PkgName: "libssl3",
            InstalledVersion: "3.0.7-r0",
            FixedVersion: v.fixed ?? "",
            Severity: v.severity,
          })),
        },
      ],
    }),
  );
  return file;
}
const CRITICAL = [{ id: "CVE-2022-41723", severity: "CRITICAL", fixed: "0.7.0" }];

/** Shop's release of digest a, verified in dev, with a scan showing a fixable CRITICAL. */
async function shopWithCritical(): Promise<{ h: Harness; id: string }> {
  const h = harness(GATED);
  const id = await releaseVerifiedInDev(h);
  expect(
    await h.cli("release", "scan", id, "--image", "podinfo", "--report", trivy(h, "shop-trivy.json", "a", CRITICAL)),
  ).toBe(0);
  drain(h);
  return { h, id };
}

describe("a lane's gate rests only on the scans its own lane attached", () => {
  it("refuses shop's release although payments attached a clean report about the same digest later", async () => {
    const { h, id } = await shopWithCritical();
    const payments = harnessIn(h.dir, "payments");
    payments.clock.current = new Date(h.clock.now().getTime() + HOUR);
    expect(
      await payments.cli("release", "create", "--image", `podinfo=${PODINFO}@${digest("a")}`, "--commit", COMMIT_A),
    ).toBe(0);
    expect(
      await payments.cli(
        "release",
        "scan",
        id,
        "--image",
        "podinfo",
        "--report",
        trivy(payments, "clean.json", "a", []),
      ),
    ).toBe(0);
    h.clock.advance(2 * HOUR);
    expect(await h.cli("promote", "staging")).toBe(1);
    expect(drain(h)).toContain("1 findings at critical or above (at most 0): CVE-2022-41723");
    expect(h.stackText("staging")).not.toContain(id);
  });

  it("lets shop's own later re-scan replace its earlier one", async () => {
    const { h, id } = await shopWithCritical();
    h.clock.advance(2 * HOUR);
    expect(await h.cli("release", "scan", id, "--image", "podinfo", "--report", trivy(h, "rescan.json", "a", []))).toBe(
      0,
    );
    expect(await h.cli("promote", "staging")).toBe(0);
    expect(h.stackText("staging")).toContain(id);
  });
});

describe("stored scan summaries are tamper-evident", () => {
  /** Zeroes the counts and the worst findings of every summary of lane shop, as someone with write access could. */
  function zeroSummaries(h: Harness): string[] {
    const root = path.join(h.dir, "stacks", "scans", "shop");
    const edited: string[] = [];
    for (const d of fs.readdirSync(root)) {
      for (const f of fs.readdirSync(path.join(root, d))) {
        const file = path.join(root, d, f);
        const s = JSON.parse(fs.readFileSync(file, "utf8")) as {
          counts: Record<string, { total: number; fixable: number }>;
          top: unknown[];
        };
        for (const c of Object.values(s.counts)) {
          c.total = 0;
          c.fixable = 0;
        }
        s.top = [];
        fs.writeFileSync(file, `${JSON.stringify(s, null, 2)}\n`);
        edited.push(path.relative(h.dir, file));
      }
    }
    return edited;
  }

  it("refuses to promote on a summary whose counts were zeroed, naming the file", async () => {
    const { h, id } = await shopWithCritical();
    h.clock.advance(2 * HOUR);
    const [file] = zeroSummaries(h);
    expect(await h.cli("promote", "staging")).toBe(1);
    expect(drain(h)).toContain(`${path.join(h.dir, file)} was edited after it was attached`);
    expect(h.stackText("staging")).not.toContain(id);
  });

  it("shows the edited summary in status instead of a passing gate", async () => {
    const { h } = await shopWithCritical();
    h.clock.advance(2 * HOUR);
    zeroSummaries(h);
    await h.cliRaw("status");
    const out = drain(h).replace(/\s+/g, " ");
    expect(out).toMatch(/\[vulnerabilities\] .*\.json was edited after it was attached/);
    expect(out).not.toContain("ready: npm run promote -- staging --lane shop");
  });

  it("binds the summary each image was judged on into the promotion record", async () => {
    const { h, id } = await shopWithCritical();
    h.clock.advance(2 * HOUR);
    expect(await h.cli("release", "scan", id, "--image", "podinfo", "--report", trivy(h, "rescan.json", "a", []))).toBe(
      0,
    );
    expect(await h.cli("promote", "staging")).toBe(0);
    const record = h
      .ws()
      .history.read()
      .records.find((r) => r.kind === "promotion" && r.stage === "staging");
    const summaries = fs.readdirSync(path.join(h.dir, "stacks", "scans", "shop", digest("a").slice(7)));
    const judged = (record as { scans: Record<string, { summary: string }> }).scans.podinfo.summary;
    expect(summaries).toContain(`${judged.slice(0, 16)}.json`);
  });
});

describe("lane folders are real folders", () => {
  it("refuses releases/payments -> shop, so lane payments never writes into shop's lane", async () => {
    const h = harness(GATED);
    await releaseVerifiedInDev(h);
    fs.symlinkSync(path.join(h.dir, "stacks", "releases", "shop"), path.join(h.dir, "stacks", "releases", "payments"));
    const before = fs.readdirSync(path.join(h.dir, "stacks", "releases", "shop")).sort();
    drain(h);
    expect(
      await h.cli(
        "release",
        "create",
        "--lane",
        "payments",
        "--image",
        `podinfo=${PODINFO}@${digest("b")}`,
        "--commit",
        COMMIT_A,
      ),
    ).toBe(1);
    expect(drain(h)).toBe(
      "release: refused: stacks/releases/payments is a symbolic link; lane folders and their files must be real (replace it with the folder or file it points to, or remove it)",
    );
    expect(fs.readdirSync(path.join(h.dir, "stacks", "releases", "shop")).sort()).toEqual(before);
  });

  it("refuses a link anywhere under history or scans, and the folders themselves as links", async () => {
    for (const [where, make] of [
      [
        "stacks/history/shop/dev/x.json",
        (h: Harness) => fs.symlinkSync("/etc/hostname", path.join(h.dir, "stacks/history/shop/dev/x.json")),
      ],
      [
        "stacks/scans",
        (h: Harness) => fs.symlinkSync(path.join(h.dir, "stacks/history"), path.join(h.dir, "stacks/scans")),
      ],
    ] as const) {
      const h = harness(GATED);
      await releaseVerifiedInDev(h);
      make(h);
      drain(h);
      expect(await h.cliRaw("status")).toBe(1);
      expect(drain(h)).toBe(
        `status: refused: ${where} is a symbolic link; lane folders and their files must be real (replace it with the folder or file it points to, or remove it)`,
      );
    }
  });
});

describe("waiving the vulnerability gate takes its own word", () => {
  it("does not let --force set the gate aside, and says so in the refusal", async () => {
    const { h, id } = await shopWithCritical();
    h.clock.advance(2 * HOUR);
    expect(await h.cli("promote", "staging", "--force", "--reason", "hotfix")).toBe(1);
    const out = drain(h);
    expect(out).toContain("[vulnerabilities]");
    expect(out).toContain(
      "--force was given, but it sets aside only order, verification and soak; approvals, the registry and the vulnerability gate cannot be forced",
    );
    expect(out).toContain(
      'to let named findings through: --accept-vulnerabilities <ids> --reason "..." --expires <date | duration, at most 90d>',
    );
    expect(h.stackText("staging")).not.toContain(id);
  });

  it("says in promote --help what --force sets aside and what it does not", async () => {
    const h = harness(GATED);
    expect(await h.cliRaw("promote", "--help")).toBe(0);
    expect(drain(h)).toContain("Approvals, the registry mapping and the vulnerability gate cannot be forced");
  });

  it("lets named findings through with a reason and an expiry, records them, and status shows them until a clean scan", async () => {
    const { h, id } = await shopWithCritical();
    h.clock.advance(2 * HOUR);
    expect(
      await h.cli(
        "promote",
        "staging",
        "--accept-vulnerabilities",
        "CVE-2022-41723",
        "--reason",
        "not reachable: the HTTP/2 server is off",
        "--expires",
        "14d",
      ),
    ).toBe(0);
    expect(h.stackText("staging")).toContain(id);
    const record = h
      .ws()
      .history.read()
      .records.find((r) => r.kind === "promotion" && r.stage === "staging");
    expect(record).toMatchObject({
      reason: "not reachable: the HTTP/2 server is off",
      accepted: { ids: ["CVE-2022-41723"], expires: new Date(h.clock.now().getTime() + 14 * 24 * HOUR).toISOString() },
    });
    drain(h);
    await h.cliRaw("status", "--lane", "shop");
    expect(drain(h).replace(/\s+/g, " ")).toMatch(
      /accepted CVE-2022-41723 by Release Bot until 2026-01-19 11:00: not reachable: the HTTP\/2 server is off/,
    );
    expect(await h.cli("release", "scan", id, "--image", "podinfo", "--report", trivy(h, "fixed.json", "a", []))).toBe(
      0,
    );
    drain(h);
    await h.cliRaw("status", "--lane", "shop");
    expect(drain(h)).not.toContain("accepted ");
  });

  it("refuses an acceptance without a reason or expiry, of an id the scans do not list, or for longer than 90 days", async () => {
    const { h } = await shopWithCritical();
    h.clock.advance(2 * HOUR);
    const cases: [string[], RegExp][] = [
      [
        ["--accept-vulnerabilities", "CVE-2022-41723", "--expires", "14d"],
        /--accept-vulnerabilities needs --reason "..." with visible text/,
      ],
      [["--accept-vulnerabilities", "CVE-2022-41723", "--reason", "ok"], /needs --expires <date \| duration>/],
      [
        ["--accept-vulnerabilities", "CVE-2099-0001", "--reason", "ok", "--expires", "14d"],
        /CVE-2099-0001 is not among the findings of the scans release r-[0-9a-f]{12} is judged on \(CVE-2022-41723\)/,
      ],
      [["--accept-vulnerabilities", "CVE-2022-41723", "--reason", "ok", "--expires", "120d"], /more than 90 days away/],
      [
        ["--accept-vulnerabilities", "CVE-2022-41723", "--reason", "ok", "--expires", "2020-01-01"],
        /is not in the future/,
      ],
      [["--expires", "14d"], /--expires goes with --accept-vulnerabilities/],
    ];
    for (const [args, message] of cases) {
      drain(h);
      expect(await h.cli("promote", "staging", ...args)).toBe(2);
      expect(drain(h)).toMatch(message);
    }
    expect(h.stackText("staging")).not.toContain("r-");
  });
});

describe("a reason must contain visible text", () => {
  it.each([
    ["zero-width spaces", "\u200b\u200b"],
    ["a zero-width joiner and a direction mark", "\u200d\u200e"],
    ["a byte-order mark and spaces", " \ufeff "],
  ])("refuses a --reason of only %s", async (_what, reason) => {
    const h = harness(GATED);
    await releaseVerifiedInDev(h);
    drain(h);
    expect(await h.cli("promote", "staging", "--force", "--reason", reason)).toBe(2);
    expect(drain(h)).toContain('--force needs --reason "..." with visible text');
  });

  it("refuses an approval reason of only format characters, and takes one with words around them", async () => {
    const h = harness(`stages:\n  dev: { approvals: 1 }\n`);
    expect(await h.cli("release", "create", "--image", `podinfo=${PODINFO}@${digest("a")}`, "--commit", COMMIT_A)).toBe(
      0,
    );
    const id = /release (r-[0-9a-f]{12})/.exec(drain(h))![1];
    expect(await h.cli("approve", "dev", "--release", id, "--reason", "\u200b\u2060")).toBe(2);
    expect(drain(h)).toContain("--reason has no visible text");
    expect(await h.cli("approve", "dev", "--release", id, "--reason", "\u200breviewed")).toBe(0);
  });
});

describe("approval counts", () => {
  const count = (approvers: string[], required: number, promoter: string) =>
    approvalCount(approvers, required, promoter);

  it("never reads more than required: two approvals of one required read 1 of 1", () => {
    expect(count(["Alice <alice@example.com>", "Bob <bob@example.com>"], 1, "CI <ci@example.com>")).toBe(
      "1 of 1 required, 1 from someone other than the promoter if CI <ci@example.com> promotes",
    );
  });

  it("says at approve time that an approver who also promotes does not count", () => {
    expect(count(["Alice <alice@example.com>"], 1, "alice <ALICE@example.com>")).toBe(
      "1 of 1 required, 0 from someone other than the promoter if alice <ALICE@example.com> promotes: the promoter's own approval never counts, so someone else must promote, or 1 more approval(s) from others are needed",
    );
  });

  it("counts one person once, whatever the case of their email", () => {
    expect(count(["Bob <bob@example.com>", "bob <BOB@example.com>"], 2, "CI <ci@example.com>")).toBe(
      "1 of 2 required, 1 from someone other than the promoter if CI <ci@example.com> promotes: the promoter's own approval never counts, so 1 more approval(s) from others are needed",
    );
  });
});
