import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { RULES } from "../../policy/rules";
import { formatPackConfig, packConfig } from "../../policy/pack-config";
import type { AuditResult } from "../../tools/audit";
import { PROJECT_DIR, platformOf, shippedStacks, stackConfig, underMocks } from "../helpers/program";

const BYPASS = path.join(__dirname, "fixtures", "bypass.ts");

/** Runs the audit in this file's module registry, as the program's other runs do (see underMocks). */
async function audit(opts: Omit<import("../../tools/audit").AuditOptions, "projectDir">): Promise<AuditResult> {
  return underMocks(async () => {
    const { auditStack } = await import("../../tools/audit");
    return auditStack({ projectDir: PROJECT_DIR, ...opts });
  });
}

describe("npm run audit", () => {
  it.each(shippedStacks())("finds %s clean, with its committed pack config current", async (stack) => {
    const result = await audit({ stack, stacks: stack.endsWith(".platform") ? undefined : await platformOf(stack) });
    expect(result.err).toEqual([]);
    expect(result.code).toBe(0);
    expect(result.out.at(-1)).toMatch(
      new RegExp(
        `^audit ${stack}: \\d+ of ${RULES.length} policies over \\d+ Kubernetes objects: 0 mandatory, 0 advisory violation\\(s\\)$`,
      ),
    );
  });

  it("exits 1 on a program that bypasses the components in production, naming every violation", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "audit-"));
    try {
      // The bypassing program registers no admission policy, so its pack config has an empty allow-list.
      await audit({ stack: "prod.platform", main: BYPASS, packConfigDir: dir, writePackConfig: true });
      const result = await audit({ stack: "prod.platform", main: BYPASS, packConfigDir: dir });
      expect(result.code).toBe(1);
      const text = result.out.join("\n");
      for (const expected of [
        /mandatory images-pinned-by-digest: Deployment scratch\/web: container "web" image must be pinned by digest/,
        /mandatory images-from-allowed-registries: Deployment scratch\/web: container "web" image "nginx:latest" is not from an allowed registry \(none\)/,
        /mandatory pod-security-restricted: Deployment scratch\/web: container "web" does not set runAsNonRoot/,
        /mandatory resources-requests-and-limits: Deployment scratch\/web/,
        /mandatory no-host-access: Deployment scratch\/web: uses the host's namespace \(hostNetwork: true\)/,
        /mandatory no-host-access: Deployment scratch\/web: volume "host" mounts a host path/,
        /mandatory no-host-access: Deployment scratch\/web: container "web" is privileged/,
        /mandatory no-external-service-types: Service scratch\/web: type LoadBalancer/,
        /mandatory no-builtin-cluster-role-bindings: RoleBinding scratch\/admins: binds the built-in ClusterRole admin/,
        /mandatory production-pod-disruption-budgets: Deployment scratch\/web/,
        /mandatory production-replicas: Deployment scratch\/web: replicas is 1/,
        /mandatory production-protected-data: Namespace scratch: is not protected/,
      ])
        expect(text).toMatch(expected);
      expect(result.out.at(-1)).toMatch(
        /^audit prod\.platform: 10 of 10 policies over 4 Kubernetes objects: \d+ mandatory, 0 advisory violation\(s\)$/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reports the same program as advisory outside production, and exits 0", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "audit-"));
    try {
      await audit({ stack: "dev.platform", main: BYPASS, packConfigDir: dir, writePackConfig: true });
      const result = await audit({ stack: "dev.platform", main: BYPASS, packConfigDir: dir });
      expect(result.code).toBe(0);
      expect(result.out.join("\n")).toMatch(
        /advisory no-host-access: Deployment scratch\/web: container "web" is privileged/,
      );
      expect(result.out.join("\n")).not.toMatch(/production-/);
      expect(result.out.at(-1)).toMatch(
        /^audit dev\.platform: 7 of 10 policies over 4 Kubernetes objects: 0 mandatory, \d+ advisory violation\(s\)$/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a missing or stale pack config with the command that writes it", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "audit-"));
    try {
      const missing = await audit({ stack: "prod.platform", packConfigDir: dir });
      expect(missing.code).toBe(1);
      expect(missing.err).toEqual([
        expect.stringMatching(/is missing; write it with: npm run audit -- prod\.platform --write-pack-config$/),
      ]);
      const stale = packConfig({
        production: false,
        allowedRegistries: ["ghcr.io"],
        platformNamespaces: ["kube-system"],
      });
      fs.writeFileSync(path.join(dir, "prod.platform.json"), formatPackConfig(stale));
      const result = await audit({ stack: "prod.platform", packConfigDir: dir });
      expect(result.code).toBe(1);
      expect(result.err).toEqual([
        expect.stringMatching(
          /prod\.platform\.json is out of date with stacks\/Pulumi\.prod\.platform\.yaml; write it with: npm run audit -- prod\.platform --write-pack-config$/,
        ),
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a folder where the pack config belongs, written or read, and leaves it as it was", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "audit-"));
    try {
      fs.mkdirSync(path.join(dir, "prod.platform.json", "kept"), { recursive: true });
      for (const writePackConfig of [false, true]) {
        const result = await audit({ stack: "prod.platform", packConfigDir: dir, writePackConfig });
        expect(result.code).toBe(1);
        expect(result.err).toEqual([
          expect.stringMatching(
            /prod\.platform\.json is a folder, not a pack config; move it away, then write the pack config with: npm run audit -- prod\.platform --write-pack-config$/,
          ),
        ]);
      }
      expect(fs.readdirSync(path.join(dir, "prod.platform.json"))).toEqual(["kept"]);
      // A link to a folder is refused the same way, and stays a link.
      const linked = fs.mkdtempSync(path.join(os.tmpdir(), "audit-"));
      fs.symlinkSync(path.join(dir, "prod.platform.json"), path.join(linked, "prod.platform.json"));
      const viaLink = await audit({ stack: "prod.platform", packConfigDir: linked, writePackConfig: true });
      expect(viaLink.err).toEqual([expect.stringMatching(/prod\.platform\.json is a folder, not a pack config/)]);
      expect(fs.lstatSync(path.join(linked, "prod.platform.json")).isSymbolicLink()).toBe(true);
      fs.rmSync(linked, { recursive: true, force: true });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("audits a team stack with the allow-list of its platform's contract, and of the platform's production setting", async () => {
    const result = await audit({ stack: "prod-gke.shop", stacks: await platformOf("prod-gke.shop") });
    expect(result.code).toBe(0);
    const config = JSON.parse(
      fs.readFileSync(path.join(PROJECT_DIR, "policy", "config", "prod-gke.shop.json"), "utf8"),
    ) as Record<string, { enforcementLevel: string; allowedRegistries?: string[] }>;
    expect(config["images-from-allowed-registries"]).toEqual({
      enforcementLevel: "mandatory",
      allowedRegistries: ["europe-west1-docker.pkg.dev/acme-blueprint-prod/ghcr"],
    });
  });

  it("reports config errors of the stack and exits 1", async () => {
    const cfg = stackConfig("prod.platform");
    cfg.config["blueprint:policy"] = JSON.stringify({ allowedRegistries: ["not a registry"] });
    const result = await audit({ stack: "prod.platform", config: cfg });
    expect(result.code).toBe(1);
    expect(result.err.join("\n")).toMatch(/blueprint:policy\.allowedRegistries\.0 must be a registry host/);
  });
});

describe("the pack config per environment", () => {
  it("is mandatory for every policy in production, and names the allow-list and platform namespaces", () => {
    const config = packConfig({
      production: true,
      allowedRegistries: ["ghcr.io"],
      platformNamespaces: ["kube-system"],
    });
    expect(Object.keys(config)).toEqual(RULES.map((r) => r.name));
    for (const settings of Object.values(config)) expect(settings.enforcementLevel).toBe("mandatory");
    expect(config["images-from-allowed-registries"]).toEqual({
      enforcementLevel: "mandatory",
      allowedRegistries: ["ghcr.io"],
    });
    expect(config["no-external-service-types"]).toEqual({
      enforcementLevel: "mandatory",
      platformNamespaces: ["kube-system"],
    });
  });

  it("is advisory elsewhere, with the production policies disabled", () => {
    const config = packConfig({ production: false, allowedRegistries: [], platformNamespaces: [] });
    for (const r of RULES) expect(config[r.name].enforcementLevel).toBe(r.productionOnly ? "disabled" : "advisory");
  });

  it("is committed for every shipped stack, mandatory exactly where the stack is production", () => {
    for (const stack of shippedStacks()) {
      const file = path.join(PROJECT_DIR, "policy", "config", `${stack}.json`);
      const config = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, { enforcementLevel: string }>;
      const production = stackConfig(stack).config["blueprint:production"] === "true";
      expect(config["pod-security-restricted"].enforcementLevel).toBe(production ? "mandatory" : "advisory");
    }
  });
});
