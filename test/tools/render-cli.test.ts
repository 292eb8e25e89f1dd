import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_DIR } from "../helpers/program";
import { launch } from "../helpers/cli";
import { RENDER_MARKER } from "../../tools/offline/write";

function render(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, launch("tools/render", ...args), { cwd, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A project folder running the real program with its own stack files. */
function tempProject(stacks: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-cli-"));
  fs.writeFileSync(
    path.join(dir, "Pulumi.yaml"),
    `name: blueprint\nruntime: nodejs\nmain: ${path.join(PROJECT_DIR, "index.ts")}\nstackConfigDir: stacks\n`,
  );
  fs.mkdirSync(path.join(dir, "stacks"));
  for (const [name, text] of Object.entries(stacks))
    fs.writeFileSync(path.join(dir, "stacks", `Pulumi.${name}.yaml`), text);
  return dir;
}

const stackText = (stack: string) => fs.readFileSync(path.join(PROJECT_DIR, `stacks/Pulumi.${stack}.yaml`), "utf8");
/** The dev environment's stack files, as shipped. */
const devStacks = () => ({
  "dev.platform": stackText("dev.platform"),
  "dev.shop": stackText("dev.shop"),
  "dev.payments": stackText("dev.payments"),
});

describe("npm run render", () => {
  it("renders an environment: the platform, then each team stack, in one folder per layer, replacing stale files", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "render-out-"));
    fs.mkdirSync(path.join(out, "dev"));
    fs.writeFileSync(path.join(out, "dev", RENDER_MARKER), "");
    fs.writeFileSync(path.join(out, "dev", "stale.yaml"), "kind: Stale\n");
    const r = render(PROJECT_DIR, "dev", "--out", out);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^stack dev\.platform: \d+ Kubernetes objects written to .*dev\/platform\//);
    expect(r.stdout).toMatch(/\nstack dev\.payments: \d+ Kubernetes objects written to .*dev\/payments\//);
    expect(r.stdout).toMatch(/\nstack dev\.shop: \d+ Kubernetes objects written to .*dev\/shop\//);
    expect(r.stdout).toMatch(/images: +ghcr\.io\/stefanprodan\/podinfo@sha256:[0-9a-f]{64}/);
    expect(fs.existsSync(path.join(out, "dev", "stale.yaml"))).toBe(false);
    expect(fs.readFileSync(path.join(out, "dev", "shop", "shop", "deployment-frontend.yaml"), "utf8")).toMatch(
      /^apiVersion: apps\/v1\nkind: Deployment\n/,
    );
    expect(fs.existsSync(path.join(out, "dev", "platform", "_cluster", "namespace-shop.yaml"))).toBe(true);
    expect(fs.readdirSync(path.join(out, "dev", "shop"))).toEqual(["shop"]);
    const stackJson = JSON.parse(fs.readFileSync(path.join(out, "dev", "dev.platform.stack.json"), "utf8"));
    expect(stackJson.outputs.kubeconfig).toBe("[secret]");
    expect(stackJson.outputs.contract).toBe("[secret]");
    // Every cloud resource with its inputs and every Helm release with chart, version and values.
    const eks = stackJson.cloudResources.find((c: { type: string }) => c.type === "aws:eks/cluster:Cluster");
    expect(eks.inputs).toMatchObject({
      version: expect.stringMatching(/^1\.\d+$/),
      accessConfig: { authenticationMode: "API" },
    });
    expect(stackJson.helmReleases.map((h: { chart: string }) => h.chart).sort()).toEqual([
      "aws-load-balancer-controller",
      "cluster-autoscaler",
      "kube-prometheus-stack",
      "prometheus-operator-crds",
    ]);
    expect(
      stackJson.helmReleases.every(
        (h: { version: unknown; values: unknown }) => typeof h.version === "string" && typeof h.values === "object",
      ),
    ).toBe(true);
    expect(r.stdout).toMatch(/cloud: +\d+ cloud resources, 4 Helm releases/);
    const shop = JSON.parse(fs.readFileSync(path.join(out, "dev", "dev.shop.stack.json"), "utf8"));
    expect(shop.outputs).toMatchObject({
      stack: "dev.shop",
      cluster: "aws/eu-west-1/blueprint-dev",
      releaseId: "r-61909ab161ac",
      namespace: "shop",
    });
    expect(shop.cloudResources).toEqual([]);
    expect(fs.readdirSync(out).filter((f) => f.startsWith("."))).toEqual([]);
    expect(fs.existsSync(path.join(out, "dev", RENDER_MARKER))).toBe(true);
  });

  it("renders one team stack against its platform, which it does not write", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "render-out-"));
    const r = render(PROJECT_DIR, "dev.payments", "--out", out);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^stack dev\.payments: \d+ Kubernetes objects written to /);
    expect(fs.readdirSync(out).sort()).toEqual(["dev.payments", "dev.payments.stack.json"]);
    expect(fs.readdirSync(path.join(out, "dev.payments"))).toEqual([RENDER_MARKER, "payments"]);
  });

  it("renders `secure:` values and undeclared secret values as placeholders", () => {
    const stacks = devStacks();
    const dir = tempProject({
      ...stacks,
      "dev.shop": stacks["dev.shop"]
        .replace(
          "      config:\n        PODINFO_LEVEL: debug",
          "      secrets: [PODINFO_CACHE_SERVER]\n      config:\n        PODINFO_LEVEL: debug",
        )
        .replace("config:\n  pulumi:", "config:\n  blueprint:secrets:\n    secure: AAABAHv3ZmFrZQ==\n  pulumi:"),
    });
    const r = render(dir, "dev");
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain(
      "secrets:    2 rendered as placeholders (blueprint:secrets, blueprint:secrets.backend.PODINFO_CACHE_SERVER)",
    );
    const secrets = fs
      .readdirSync(path.join(dir, "rendered", "dev", "shop", "shop"))
      .filter((f) => f.startsWith("secret-backend-secret-"));
    expect(secrets).toHaveLength(1);
    expect(fs.readFileSync(path.join(dir, "rendered", "dev", "shop", "shop", secrets[0]), "utf8")).toContain(
      'PODINFO_CACHE_SERVER: "[secret]"',
    );
  });

  it("exits 1 with every validation message of every failing stack and writes nothing on bad config", () => {
    const stacks = devStacks();
    const dir = tempProject({
      ...stacks,
      "dev.shop": stacks["dev.shop"]
        .replace("image: podinfo", "image: nginx")
        .replace("port: 9898\n      component: backend", "port: 0\n      component: backend"),
    });
    const r = render(dir, "dev");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("render: 1 of 3 stacks of dev failed; nothing was written");
    expect(r.stderr).toContain("2 configuration problems in stacks/Pulumi.dev.shop.yaml:");
    expect(r.stderr).toContain("stacks/Pulumi.dev.shop.yaml: blueprint:apps.backend.port must be at least 1, got 0");
    expect(r.stderr).toContain(
      'stacks/Pulumi.dev.shop.yaml: blueprint:apps.frontend.image names an image that is not in blueprint:release.images (known: podinfo), got "nginx"',
    );
    expect(r.stderr).not.toMatch(/\n\s+at \S+ \(/);
    expect(fs.existsSync(path.join(dir, "rendered"))).toBe(false);
  });

  it("refuses a bad platform before rendering any team stack", () => {
    const stacks = devStacks();
    const dir = tempProject({ ...stacks, "dev.platform": stacks["dev.platform"].replace("pods: 12", "pods: 0") });
    const r = render(dir, "dev");
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "1 configuration problem in stacks/Pulumi.dev.platform.yaml:\nstacks/Pulumi.dev.platform.yaml: blueprint:teams.shop.quota.pods must be at least 1, got 0\n",
    );
    expect(fs.existsSync(path.join(dir, "rendered"))).toBe(false);
  });

  it("shows in the summary which apps roll out by Recreate", () => {
    const stacks = devStacks();
    const shop = stacks["dev.shop"]
      .replace("  blueprint:apps:\n", "  blueprint:volumes:\n    data: { size: 1Gi }\n  blueprint:apps:\n")
      .replace(
        "      config:\n        PODINFO_LEVEL: debug",
        "      volumeMounts: { data: /data }\n      config:\n        PODINFO_LEVEL: debug",
      );
    const r = render(tempProject({ ...stacks, "dev.shop": shop }), "dev.shop");
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain(
      "  rollout:    Recreate for shop/backend (one replica with a ReadWriteOnce volume: a surge pod on another node could not attach it)",
    );
  });

  it("exits 2 naming the environments and stacks for an unknown environment or stack", () => {
    const r = render(PROJECT_DIR, "qa");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^render: "qa" is neither an environment .* \(environments: dev, local, prod, prod-gke, staging; stacks: .*dev\.shop.*\)/,
    );
    const s = render(PROJECT_DIR, "qa.shop");
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(
      /^render: stack "qa\.shop" has no config file stacks\/Pulumi\.qa\.shop\.yaml \(stacks: .*dev\.platform.*\)/,
    );
  });

  it("exits 2 with usage when no stack is given, or a bad --jobs", () => {
    const r = render(PROJECT_DIR);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Usage: npm run render -- <environment | stack> [--out <dir>] [--jobs <n>]");
    const j = render(PROJECT_DIR, "dev", "--jobs", "0");
    expect(j.code).toBe(2);
    expect(j.stderr).toBe('render: --jobs must be a whole number from 1 to 256, got "0"\n');
  });

  it("lists environments and stacks in --help", () => {
    const r = render(PROJECT_DIR, "--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      "Environments: dev, local, prod, prod-gke, staging\nStacks: dev.payments, dev.platform, dev.shop,",
    );
  });

  it("refuses invalid YAML in a stack file with its name", () => {
    const dir = tempProject({ broken: "config:\n  blueprint:apps: [unclosed\n" });
    const r = render(dir, "broken");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^render: stacks\/Pulumi\.broken\.yaml: not valid YAML/);
  });
});
