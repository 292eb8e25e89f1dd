import * as fs from "node:fs";
import * as path from "node:path";
import { COMMIT_A, digest, drain, harness, outputsJson, removeTempProjects, type Harness } from "./fixtures";

afterAll(removeTempProjects);

/** Replaces the allowed registries of an environment's platform stack file. */
function allow(h: Harness, env: string, registries: string): void {
  const file = path.join(h.dir, "stacks", `Pulumi.${env}.platform.yaml`);
  fs.writeFileSync(
    file,
    fs.readFileSync(file, "utf8").replace(/allowedRegistries: \[.*\]/, `allowedRegistries: ${registries}`),
  );
}

async function created(h: Harness, ref: string): Promise<string> {
  expect(await h.cli("release", "create", "--image", `podinfo=${ref}`, "--commit", COMMIT_A)).toBe(0);
  return /release (r-[0-9a-f]{12})/.exec(drain(h))![1];
}

describe("a release is checked against where it will run", () => {
  it("refuses to promote an image the target platform's admission policy would refuse, naming the platform stack and its registries", async () => {
    const h = harness();
    allow(h, "dev", "[ghcr.io, quay.io]");
    const ref = `quay.io/acme/podinfo@${digest("a")}`;
    const id = await created(h, ref);
    expect(await h.cli("promote", "dev", "--release", id)).toBe(0);
    expect(await h.cli("verify", "dev", "--outputs", outputsJson(h, "dev.json", id, ref, "dev"))).toBe(0);
    h.clock.advance(2 * 3600_000);
    const before = h.stackText("staging");
    drain(h);
    expect(await h.cli("promote", "staging", "--force", "--reason", "urgent")).toBe(1);
    expect(drain(h)).toContain(
      `[admission] image podinfo ${ref} would be refused by the admission policy of the platform stack staging.platform: it allows ghcr.io (stacks/Pulumi.staging.platform.yaml: blueprint:policy.allowedRegistries)`,
    );
    expect(h.stackText("staging")).toBe(before);
  });

  it("refuses to create a release no entry stage would admit", async () => {
    const h = harness();
    drain(h);
    expect(
      await h.cli(
        "release",
        "create",
        "--image",
        `podinfo=docker.io/library/nginx@${digest("a")}`,
        "--commit",
        COMMIT_A,
      ),
    ).toBe(1);
    expect(drain(h)).toContain("release not created:\n  - dev: image podinfo docker.io/library/nginx@");
    expect(fs.existsSync(path.join(h.dir, "stacks", "releases", "shop"))).toBe(false);
  });

  it("lets an image the platform's mirror covers through, with no allowed registry listed", async () => {
    const h = harness();
    const file = path.join(h.dir, "stacks", "Pulumi.dev.platform.yaml");
    fs.writeFileSync(
      file,
      `config:\n  blueprint:layer: platform\n  blueprint:production: false\n  blueprint:cluster:\n    cloud: gcp\n    gcp:\n      project: p\n      region: europe-west1\n      registryMirror:\n        upstream: ghcr.io\n`,
    );
    const id = await created(h, `ghcr.io/acme/podinfo@${digest("a")}`);
    expect(await h.cli("promote", "dev", "--release", id)).toBe(0);
    drain(h);
    expect(
      await h.cli("release", "create", "--image", `podinfo=quay.io/acme/podinfo@${digest("b")}`, "--commit", COMMIT_A),
    ).toBe(1);
    expect(drain(h)).toContain(
      "it allows no registry (stacks/Pulumi.dev.platform.yaml: blueprint:policy.allowedRegistries); its mirror covers only ghcr.io",
    );
  });

  it("lists the admission problem among what blocks a waiting release in status", async () => {
    const h = harness();
    allow(h, "dev", "[ghcr.io, quay.io]");
    const ref = `quay.io/acme/podinfo@${digest("a")}`;
    const id = await created(h, ref);
    expect(await h.cli("promote", "dev", "--release", id)).toBe(0);
    drain(h);
    await h.cliRaw("status");
    expect(drain(h)).toMatch(/blocked by [a-z-, ]*admission/);
  });
});
