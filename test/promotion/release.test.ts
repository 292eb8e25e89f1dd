import * as fs from "node:fs";
import * as path from "node:path";
import { Refusal, UsageError } from "../../promotion/errors";
import { canonicalJson, releaseId, ReleaseStore } from "../../promotion/release";
import { buildStages, parseDuration } from "../../promotion/stages";
import { COMMIT_A, COMMIT_B, digest, drain, harness, PODINFO, removeTempProjects } from "./fixtures";

afterAll(removeTempProjects);

const ref = (c: string) => `${PODINFO}@${digest(c)}`;

describe("release ids", () => {
  it("are a hash of the images and the commit only, independent of key order", () => {
    expect(releaseId({ web: ref("a"), api: ref("b") }, COMMIT_A)).toBe(
      releaseId({ api: ref("b"), web: ref("a") }, COMMIT_A),
    );
    expect(releaseId({ web: ref("a") }, COMMIT_A)).toMatch(/^r-[0-9a-f]{12}$/);
  });

  it("are r- and the first 12 hex of the SHA-256 of {commit, images} as sorted, compact JSON (computed outside this code)", () => {
    // python3: hashlib.sha256(json.dumps({"commit": c, "images": {"podinfo": ref}}, separators=(",", ":"), sort_keys=True).encode())
    expect(releaseId({ podinfo: ref("a") }, COMMIT_A)).toBe("r-c917d4067ced");
  });

  it("change when a digest or the commit changes", () => {
    const base = releaseId({ web: ref("a") }, COMMIT_A);
    expect(releaseId({ web: ref("b") }, COMMIT_A)).not.toBe(base);
    expect(releaseId({ web: ref("a") }, COMMIT_B)).not.toBe(base);
  });

  it("use canonical JSON with sorted keys at every level", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 0 }], c: "x" } })).toBe(
      '{"a":{"c":"x","d":[2,{"y":0,"z":1}]},"b":1}',
    );
  });
});

describe("release create", () => {
  it("writes an immutable file whose id does not depend on when or by whom it was created", async () => {
    const h = harness();
    expect(await h.cli("release", "create", "--image", `podinfo=${ref("a")}`, "--commit", COMMIT_A)).toBe(0);
    const id = "r-c917d4067ced";
    expect(drain(h)).toContain(`created: release ${id}  stacks/releases/shop/${id}.json`);
    const file = path.join(h.dir, "stacks/releases/shop", `${id}.json`);
    const first = fs.readFileSync(file, "utf8");
    expect(JSON.parse(first)).toEqual({
      id,
      images: { podinfo: ref("a") },
      commit: COMMIT_A,
      created: "2026-01-05T09:00:00.000Z",
      createdBy: h.actor,
    });

    h.clock.advance(1000);
    h.actor = "someone else";
    drain(h);
    expect(await h.cli("release", "create", "--image", `podinfo=${ref("a")}`, "--commit", COMMIT_A)).toBe(0);
    expect(drain(h)).toContain(`exists (same images and commit): release ${id}`);
    expect(fs.readFileSync(file, "utf8")).toBe(first);
  });

  it.each([
    ["a tag", "podinfo=ghcr.io/stefanprodan/podinfo:6.2.3", "not by tag"],
    ["latest", "podinfo=ghcr.io/stefanprodan/podinfo:latest", "not by tag"],
    ["a short digest", `podinfo=${PODINFO}@sha256:abc`, "malformed digest"],
    ["an upper-case digest", `podinfo=${PODINFO}@sha256:${"A".repeat(64)}`, "malformed digest"],
    ["a bad image name", `Web_1=${ref("a")}`, "must be a DNS label"],
  ])("refuses %s (exit 1) and writes nothing", async (_what, image, message) => {
    const h = harness();
    expect(await h.cli("release", "create", "--image", image, "--commit", COMMIT_A)).toBe(1);
    expect(drain(h)).toContain(message);
    expect(fs.existsSync(path.join(h.dir, "stacks/releases/shop"))).toBe(false);
  });

  it.each([
    [["release", "create", "--image", `podinfo${ref("a")}`, "--commit", COMMIT_A], "--image must be <name>="],
    [
      ["release", "create", "--image", `podinfo=${ref("a")}`, "--commit", "abc1234"],
      "--commit must be a full git commit id",
    ],
    [
      ["release", "create", "--image", `x=${ref("a")}`, "--image", `x=${ref("b")}`, "--commit", COMMIT_A],
      "--image x is given twice",
    ],
    [["release", "make"], 'release subcommands are "create" and "scan", got "make"'],
    [["release", "create", "--tag", "x"], "Unknown option '--tag'"],
  ])("treats %j as bad usage (exit 2)", async (argv, message) => {
    const h = harness();
    expect(await h.cli(...argv)).toBe(2);
    expect(drain(h)).toContain(message);
  });

  it("refuses to read a release file whose content was edited", () => {
    const h = harness();
    const store = new ReleaseStore(path.join(h.dir, "stacks/releases/shop"));
    const { release } = store.create({ podinfo: ref("a") }, COMMIT_A, h.clock.now(), h.actor);
    const file = store.file(release.id);
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(digest("a"), digest("b")));
    expect(() => store.get(release.id)).toThrow(Refusal);
    expect(() => store.get(release.id)).toThrow(/was edited: its images and commit hash to r-[0-9a-f]{12}, not r-/);
  });

  it("refuses a release file that is not JSON, or too big to be a release, naming it", () => {
    const h = harness();
    const store = new ReleaseStore(path.join(h.dir, "stacks/releases/shop"));
    const { release } = store.create({ podinfo: ref("a") }, COMMIT_A, h.clock.now(), h.actor);
    const file = store.file(release.id);
    fs.writeFileSync(file, "{ not json");
    expect(() => store.get(release.id)).toThrow(`${file} is not a readable JSON release file`);
    fs.truncateSync(file, 70 * 1024);
    expect(() => store.get(release.id)).toThrow("71680 bytes is more than a release file may have (65536)");
  });

  it("names the flag and the known releases when an id is unknown", () => {
    const store = new ReleaseStore(path.join(harness().dir, "stacks/releases/shop"));
    expect(() => store.get("r-000000000000", "--to")).toThrow(UsageError);
    expect(() => store.get("r-000000000000", "--to")).toThrow("--to r-000000000000: no such release");
    expect(() => store.get("latest")).toThrow("--release must be a release id (r- and 12 hex digits");
  });
});

describe("stage definitions", () => {
  it("order stages after their upstream stages", () => {
    const s = buildStages("stages.yaml", { prod: { from: ["staging"] }, staging: { from: ["dev"] }, dev: {} });
    expect(s.ordered.map((x) => x.name)).toEqual(["dev", "staging", "prod"]);
    expect(s.downstream("dev").map((x) => x.name)).toEqual(["staging"]);
  });

  it.each([
    [{ a: { from: ["b"] }, b: { from: ["a"] } }, "form a cycle"],
    [{ a: { from: ["nope"] } }, 'stages.a.from names "nope", which is not a stage'],
    [{ a: { soak: "1h" } }, "stages.a.soak is counted from the upstream verification"],
    [{ A: {} }, "a stage name must be lowercase"],
  ])("refuse %j", (defs, message) => {
    expect(() => buildStages("stages.yaml", defs)).toThrow(message);
  });

  it("name the stages when an unknown stage is asked for", () => {
    const s = buildStages("stacks/stages.yaml", { dev: {}, prod: { from: ["dev"] } });
    expect(() => s.get("qa")).toThrow('<stage> "qa" is not a stage in stacks/stages.yaml (stages: dev, prod)');
  });

  it("read durations in days, hours, minutes and seconds", () => {
    expect(parseDuration("1h30m")).toBe(90 * 60_000);
    expect(parseDuration("2d")).toBe(48 * 3600_000);
    expect(() => parseDuration("1 hour")).toThrow("is not a duration");
  });
});
