import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { PROJECT_DIR } from "../helpers/program";
import { RENDER_MARKER } from "../../tools/offline/write";

const TSX = pathToFileURL(require.resolve("tsx")).href;
const RENDER = path.join(PROJECT_DIR, "tools/render.ts");

function render(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", TSX, RENDER, ...args], { cwd, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A project folder running the real program with its own stack files. */
function tempProject(stacks: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-cli-"));
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: blueprint\nruntime: nodejs\nmain: ${path.join(PROJECT_DIR, "index.ts")}\nstackConfigDir: stacks\n`);
  fs.mkdirSync(path.join(dir, "stacks"));
  for (const [name, text] of Object.entries(stacks)) fs.writeFileSync(path.join(dir, "stacks", `Pulumi.${name}.yaml`), text);
  return dir;
}

const devText = fs.readFileSync(path.join(PROJECT_DIR, "stacks/Pulumi.dev.yaml"), "utf8");

describe("npm run render", () => {
  it("writes one YAML file per object, replaces stale files, and prints a summary", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "render-out-"));
    fs.mkdirSync(path.join(out, "dev"));
    fs.writeFileSync(path.join(out, "dev", RENDER_MARKER), "");
    fs.writeFileSync(path.join(out, "dev", "stale.yaml"), "kind: Stale\n");
    const r = render(PROJECT_DIR, "dev", "--out", out);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^stack dev: \d+ Kubernetes objects written to /);
    expect(r.stdout).toMatch(/images: +ghcr\.io\/stefanprodan\/podinfo@sha256:[0-9a-f]{64}/);
    expect(fs.existsSync(path.join(out, "dev", "stale.yaml"))).toBe(false);
    expect(fs.readFileSync(path.join(out, "dev", "shop", "deployment-frontend.yaml"), "utf8")).toMatch(/^apiVersion: apps\/v1\nkind: Deployment\n/);
    const stackJson = JSON.parse(fs.readFileSync(path.join(out, "dev.stack.json"), "utf8"));
    expect(stackJson.outputs.kubeconfig).toBe("[secret]");
    // Every cloud resource with its inputs and every Helm release with chart, version and values.
    const eks = stackJson.cloudResources.find((c: { type: string }) => c.type === "aws:eks/cluster:Cluster");
    expect(eks.inputs).toMatchObject({ version: expect.stringMatching(/^1\.\d+$/), accessConfig: { authenticationMode: "API" } });
    expect(stackJson.helmReleases.map((h: { chart: string }) => h.chart).sort()).toEqual(["aws-load-balancer-controller", "cluster-autoscaler"]);
    expect(stackJson.helmReleases.every((h: { version: unknown; values: unknown }) => typeof h.version === "string" && typeof h.values === "object")).toBe(true);
    expect(r.stdout).toMatch(/cloud: +\d+ cloud resources, 2 Helm releases/);
    expect(fs.readdirSync(out).filter((f) => f.startsWith("."))).toEqual([]);
    expect(fs.existsSync(path.join(out, "dev", RENDER_MARKER))).toBe(true);
  });

  it("renders `secure:` values and undeclared secret values as placeholders", () => {
    const text = devText
      .replace("      config:\n        PODINFO_LEVEL: debug", "      secrets: [PODINFO_CACHE_SERVER]\n      config:\n        PODINFO_LEVEL: debug")
      .replace("config:\n  pulumi:", "config:\n  blueprint:kubeconfig:\n    secure: AAABAHv3ZmFrZQ==\n  pulumi:");
    const dir = tempProject({ dev: text });
    const r = render(dir, "dev");
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("secrets:    2 rendered as placeholders (blueprint:kubeconfig, blueprint:secrets.backend.PODINFO_CACHE_SERVER)");
    const secrets = fs.readdirSync(path.join(dir, "rendered", "dev", "shop")).filter((f) => f.startsWith("secret-backend-secret-"));
    expect(secrets).toHaveLength(1);
    expect(fs.readFileSync(path.join(dir, "rendered", "dev", "shop", secrets[0]), "utf8")).toContain('PODINFO_CACHE_SERVER: "[secret]"');
  });

  it("exits 1 with every validation message and writes nothing on bad config", () => {
    const dir = tempProject({ bad: devText.replace("pods: 10", "pods: 0").replace("image: podinfo", "image: nginx") });
    const r = render(dir, "bad");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("2 configuration problems in stacks/Pulumi.bad.yaml:");
    expect(r.stderr).toContain("stacks/Pulumi.bad.yaml: blueprint:teams.shop.quota.pods must be at least 1, got 0");
    expect(r.stderr).toContain('stacks/Pulumi.bad.yaml: blueprint:apps.frontend.image names an image that is not in blueprint:release.images (known: podinfo), got "nginx"');
    expect(r.stderr).not.toMatch(/\n\s+at \S+ \(/);
    expect(fs.existsSync(path.join(dir, "rendered"))).toBe(false);
  });

  it("shows in the summary which apps roll out by Recreate", () => {
    const text = devText
      .replace("        requests.storage: 10Gi\n", "        requests.storage: 10Gi\n      volumes:\n        data: { size: 1Gi }\n")
      .replace("      config:\n        PODINFO_LEVEL: debug", "      volumeMounts: { data: /data }\n      config:\n        PODINFO_LEVEL: debug");
    const r = render(tempProject({ dev: text }), "dev");
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("  rollout:    Recreate for shop/backend (one replica with a ReadWriteOnce volume: a surge pod on another node could not attach it)");
  });

  it("exits 2 naming the known stacks for an unknown stack", () => {
    const r = render(PROJECT_DIR, "qa");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^render: stack "qa" has no config file stacks\/Pulumi\.qa\.yaml \(stacks: .*dev.*\)/);
  });

  it("exits 2 with usage when no stack is given", () => {
    const r = render(PROJECT_DIR);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Usage: npm run render -- <stack> [--out <dir>]");
  });

  it("refuses invalid YAML in a stack file with its name", () => {
    const dir = tempProject({ broken: "config:\n  blueprint:apps: [unclosed\n" });
    const r = render(dir, "broken");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^render: stacks\/Pulumi\.broken\.yaml: not valid YAML/);
  });
});
