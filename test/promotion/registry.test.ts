import * as fs from "node:fs";
import * as path from "node:path";
import { Refusal } from "../../promotion/errors";
import { isLoopback, mapImage, SkopeoRegistry, splitRepository } from "../../promotion/registry";
import { openWorkspace } from "../../promotion/workspace";
import { main } from "../../promotion/cli";
import { COMMIT_A, digest, FakeClock, outputsJson, removeTempProjects, tempProject } from "./fixtures";
import { LocalRegistry, missingTools } from "./local-registry";

afterAll(removeTempProjects);

describe("registry references", () => {
  it("map to the stage's registry keeping path and digest", () => {
    expect(mapImage(`ghcr.io/stefanprodan/podinfo@${digest("a")}`, "europe-west1-docker.pkg.dev/acme/ghcr")).toBe(
      `europe-west1-docker.pkg.dev/acme/ghcr/stefanprodan/podinfo@${digest("a")}`,
    );
    expect(mapImage(`nginx@${digest("a")}`, "127.0.0.1:5000/mirror")).toBe(
      `127.0.0.1:5000/mirror/library/nginx@${digest("a")}`,
    );
    expect(mapImage(`ghcr.io/x/y@${digest("a")}`, undefined)).toBe(`ghcr.io/x/y@${digest("a")}`);
    expect(splitRepository("localhost:5000/a/b")).toEqual({ host: "localhost:5000", path: "a/b" });
  });

  it("speak plain HTTP only to loopback registries", () => {
    expect(isLoopback(`127.0.0.1:5000/a@${digest("a")}`)).toBe(true);
    expect(isLoopback(`localhost:5000/a@${digest("a")}`)).toBe(true);
    expect(isLoopback(`ghcr.io/a/b@${digest("a")}`)).toBe(false);
  });

  it("refuse a copy that would change the digest", () => {
    expect(() => new SkopeoRegistry().copyCommand(`a.io/x@${digest("a")}`, `b.io/x@${digest("b")}`)).toThrow(Refusal);
  });

  it("refuse a manifest whose bytes do not hash to the digest asked for", async () => {
    const lying = new SkopeoRegistry("skopeo", async () => ({ code: 0, stdout: Buffer.from("{}"), stderr: "" }));
    await expect(lying.has(`a.io/x@${digest("a")}`)).rejects.toThrow(
      "the registry returned a manifest with digest sha256:44136fa3",
    );
  });

  it("give up on a registry after the time the caller allows (status waits less than promote)", async () => {
    const waited: number[] = [];
    const absent = new SkopeoRegistry("skopeo", async (_file, _args, timeoutMs) => {
      waited.push(timeoutMs);
      return { code: 1, stdout: Buffer.alloc(0), stderr: "manifest unknown" };
    });
    expect(await absent.has(`a.io/x@${digest("a")}`)).toBe(false);
    expect(await absent.has(`a.io/x@${digest("a")}`, 15_000)).toBe(false);
    expect(waited).toEqual([60_000, 15_000]);
  });

  it("say why a registry cannot be read without repeating the reference", async () => {
    const ref = `a.io/x@${digest("a")}`;
    const offline = new SkopeoRegistry("skopeo", async () => ({
      code: 1,
      stdout: Buffer.alloc(0),
      stderr: `time="x" level=fatal msg="Error parsing image name \\"docker://${ref}\\": pinging container registry a.io: dial tcp: lookup a.io: no such host"`,
    }));
    await expect(offline.has(ref)).rejects.toThrow(
      `cannot read ${ref}: pinging container registry a.io: dial tcp: lookup a.io: no such host`,
    );
  });
});

const missing = missingTools();
const inCI = process.env.CI === "true";
if (missing.length > 0 && !inCI) {
  console.log(
    `registry tests skipped: ${missing.join(", ")} not installed (apt-get install -y docker-registry skopeo); under CI=true they fail instead`,
  );
}
const describeWithTools = missing.length === 0 || inCI ? describe : describe.skip;

describeWithTools("a real OCI registry on loopback", () => {
  let a: LocalRegistry;
  let b: LocalRegistry;
  let pushed: string;

  beforeAll(async () => {
    if (missing.length > 0)
      throw new Error(`registry tests need ${missing.join(" and ")} (apt-get install -y docker-registry skopeo)`);
    [a, b] = await Promise.all([LocalRegistry.start(), LocalRegistry.start()]);
    pushed = await a.pushImage("team/app", "one");
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it("finds a digest that is present", async () => {
    expect(await new SkopeoRegistry().has(`${a.host}/team/app@${pushed}`)).toBe(true);
  });

  it("reports a digest that is missing, and a repository that is missing", async () => {
    const reg = new SkopeoRegistry();
    expect(await reg.has(`${a.host}/team/app@${digest("f")}`)).toBe(false);
    expect(await reg.has(`${a.host}/team/nothing@${pushed}`)).toBe(false);
  });

  it("copies between two registries by digest, keeping the digest", async () => {
    const reg = new SkopeoRegistry();
    const to = `${b.host}/copy/team/app@${pushed}`;
    expect(await reg.has(to)).toBe(false);
    await reg.copy(`${a.host}/team/app@${pushed}`, to);
    expect(await reg.has(to)).toBe(true);
    expect(await b.manifestDigest("copy/team/app", pushed)).toBe(pushed);
  });

  it("promote refuses a digest missing from the stage's registry with the exact command, and copies it with --copy", async () => {
    const digestTwo = await a.pushImage("shop/podinfo", "two");
    const dir = tempProject(
      `stages:\n  dev: {}\n  mirror:\n    stack: staging\n    from: [dev]\n    registry: ${b.host}/mirror\n`,
    );
    // The environments' admission policies must allow the loopback registries, as a platform
    // serving these stages would list its own registry (release create and promote check it).
    for (const env of ["dev", "staging"]) {
      const file = path.join(dir, `stacks/Pulumi.${env}.platform.yaml`);
      fs.writeFileSync(
        file,
        fs
          .readFileSync(file, "utf8")
          .replace("allowedRegistries: [", `allowedRegistries: [${a.host}, ${b.host}/mirror, `),
      );
    }
    const out: string[] = [];
    const deps = { now: new FakeClock().now, actor: () => "registry test", out: (l: string) => out.push(l) };
    const cli = (...argv: string[]) => main([...argv, "--lane", "shop"], { projectDir: dir, deps, vars: {} });
    const source = `${a.host}/shop/podinfo@${digestTwo}`;
    expect(await cli("release", "create", "--image", `podinfo=${source}`, "--commit", COMMIT_A)).toBe(0);
    const id = openWorkspace(dir, "shop").releases.list()[0].id;
    expect(await cli("promote", "dev", "--release", id)).toBe(0);
    expect(
      await cli("verify", "dev", "--outputs", outputsJson({ dir, lane: "shop" }, "o.json", id, source, "dev")),
    ).toBe(0);
    out.length = 0;

    expect(await cli("promote", "mirror")).toBe(1);
    const target = `${b.host}/mirror/shop/podinfo@${digestTwo}`;
    expect(out.join("\n")).toContain(
      `skopeo copy --all --preserve-digests --src-tls-verify=false --dest-tls-verify=false docker://${source} docker://${target}`,
    );
    expect(await b.manifestDigest("mirror/shop/podinfo", digestTwo)).toBeUndefined();

    expect(await cli("promote", "mirror", "--copy")).toBe(0);
    expect(await b.manifestDigest("mirror/shop/podinfo", digestTwo)).toBe(digestTwo);
    expect(fs.readFileSync(path.join(dir, "stacks/Pulumi.staging.shop.yaml"), "utf8")).toContain(`podinfo: ${source}`);
  });
});
