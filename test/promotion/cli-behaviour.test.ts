import * as fs from "node:fs";
import * as path from "node:path";
import { main } from "../../promotion/cli";
import {
  COMMIT_A,
  digest,
  drain,
  harness,
  outputsJson,
  PODINFO,
  releaseVerifiedInDev,
  removeTempProjects,
} from "./fixtures";

afterAll(removeTempProjects);

describe("relative paths resolve where the user ran the command", () => {
  it("reads --outputs relative to INIT_CWD when npm ran the command there", async () => {
    const h = harness();
    expect(await h.cli("release", "create", "--image", `podinfo=${PODINFO}@${digest("a")}`, "--commit", COMMIT_A)).toBe(
      0,
    );
    const id = /release (r-[0-9a-f]{12})/.exec(drain(h))![1];
    expect(await h.cli("promote", "dev", "--release", id)).toBe(0);
    const userDir = path.join(h.dir, "ci-artifacts");
    fs.mkdirSync(userDir);
    fs.renameSync(
      outputsJson(h, "dev-outputs.json", id, `${PODINFO}@${digest("a")}`, "dev"),
      path.join(userDir, "dev-outputs.json"),
    );
    drain(h);
    const code = await main(["verify", "dev", "--lane", "shop", "--outputs", "dev-outputs.json"], {
      projectDir: h.dir,
      deps: h.deps(),
      vars: { INIT_CWD: userDir, npm_lifecycle_event: "verify" },
    });
    expect(drain(h)).toContain("verified dev: release");
    expect(code).toBe(0);
  });

  it("reads --report relative to INIT_CWD, and names the path as given when it is missing", async () => {
    const h = harness(`stages:\n  dev:\n    vulnerabilities: { max: { critical: 0 } }\n`);
    const ref = `${PODINFO}@${digest("a")}`;
    expect(await h.cli("release", "create", "--image", `podinfo=${ref}`, "--commit", COMMIT_A)).toBe(0);
    const id = /release (r-[0-9a-f]{12})/.exec(drain(h))![1];
    const userDir = path.join(h.dir, "scans-here");
    fs.mkdirSync(userDir);
    fs.writeFileSync(
      path.join(userDir, "trivy.json"),
      JSON.stringify({
        SchemaVersion: 2,
        CreatedAt: h.clock.now().toISOString(),
        ArtifactName: ref,
        Metadata: { RepoDigests: [ref] },
        Results: [],
      }),
    );
    const vars = { INIT_CWD: userDir, npm_lifecycle_event: "release" };
    expect(
      await main(["release", "scan", id, "--lane", "shop", "--image", "podinfo", "--report", "trivy.json"], {
        projectDir: h.dir,
        deps: h.deps(),
        vars,
      }),
    ).toBe(0);
    expect(drain(h)).toContain("attached: trivy scan");
    expect(
      await main(["release", "scan", id, "--lane", "shop", "--image", "podinfo", "--report", "nope.json"], {
        projectDir: h.dir,
        deps: h.deps(),
        vars,
      }),
    ).toBe(2);
    expect(drain(h)).toBe("release: --report nope.json: no such file (see npm run release -- --help)");
  });

  it("ignores an INIT_CWD that npm set for another script (an outer npm test)", async () => {
    const h = harness();
    await releaseVerifiedInDev(h);
    drain(h);
    const code = await main(["verify", "dev", "--lane", "shop", "--outputs", "dev-outputs.json"], {
      projectDir: h.dir,
      deps: h.deps(),
      vars: { INIT_CWD: h.dir, npm_lifecycle_event: "test" },
    });
    expect(code).toBe(2);
    expect(drain(h)).toContain("--outputs dev-outputs.json: no such file");
  });
});

describe("a single-valued flag given twice is refused", () => {
  it.each([
    ["promote", ["promote", "dev", "--release", "r-000000000001", "--release", "r-000000000002"], "release"],
    ["promote --reason", ["promote", "dev", "--force", "--reason", "a", "--reason", "b"], "reason"],
    ["rollback --to", ["rollback", "dev", "--to", "r-000000000001", "--to", "r-000000000002"], "to"],
    ["approve --release", ["approve", "dev", "--release", "r-000000000001", "--release=r-000000000002"], "release"],
    [
      "release create --commit",
      ["release", "create", "--image", `podinfo=${PODINFO}@${digest("a")}`, "--commit", COMMIT_A, "--commit", COMMIT_A],
      "commit",
    ],
    [
      "verify --kube-context",
      ["verify", "dev", "--live", "--kube-context", "a", "--kube-context", "b"],
      "kube-context",
    ],
  ])("%s", async (_name, argv, flag) => {
    const h = harness();
    expect(await h.cli(...argv)).toBe(2);
    expect(drain(h)).toBe(
      `${argv[0]}: --${flag} is given twice; it takes one value (see npm run ${argv[0]} -- --help)`,
    );
  });

  it("still takes a repeatable flag more than once (--image, --outputs)", async () => {
    const h = harness();
    expect(
      await h.cli(
        "release",
        "create",
        "--image",
        `podinfo=${PODINFO}@${digest("a")}`,
        "--image",
        `web=${PODINFO}@${digest("b")}`,
        "--commit",
        COMMIT_A,
      ),
    ).toBe(0);
  });
});

describe("the stack file as the program reads it", () => {
  it("refuses a lane's stack file that is a folder with one line naming it, not EISDIR", async () => {
    const h = harness();
    await releaseVerifiedInDev(h);
    fs.rmSync(h.stackFile("staging"));
    fs.mkdirSync(h.stackFile("staging"));
    drain(h);
    expect(await h.cli("promote", "staging", "--force", "--reason", "x")).toBe(1);
    const out = drain(h);
    expect(out).toBe(
      `promote: refused: stage staging: stack file ${h.stackFile("staging")} is a folder; it must be the YAML file Pulumi reads`,
    );
    expect(out).not.toContain("EISDIR");
  });

  it("catches an un-namespaced team: of another team, as the program reads it", async () => {
    const h = harness();
    const id = await releaseVerifiedInDev(h);
    const file = path.join(h.dir, "stacks", "Pulumi.staging.payments.yaml");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/blueprint:team: payments/, "team: shop"));
    drain(h);
    expect(
      await h.cli("promote", "staging", "--lane", "payments", "--release", id, "--force", "--reason", "skip"),
    ).toBe(1);
    expect(drain(h)).toContain(
      `says blueprint:layer "team", blueprint:team "shop"; the stack file of lane payments must be a team stack of team payments`,
    );
  });
});
