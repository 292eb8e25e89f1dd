import { parsePlatform, parseTeam, stackLayer } from "../../config/load";
import type { ContractLookup } from "../../config/contract";
import {
  contractLookup as shippedContractLookup,
  onExistingCluster,
  setConfig,
  stackConfig,
  withEdits,
  collect,
  type KeyPath,
} from "../helpers/program";
import type { StackConfig } from "../../lib/project";

const DIGEST = `sha256:${"b".repeat(64)}`;

/**
 * A shipped team's contract whose backing services take nothing from the quota: the quota rules
 * here are about the team's own apps and volumes (what in-cluster services take is tested in
 * test/services/config.test.ts).
 */
function contractLookup(
  stack: string,
  edit?: (teamContract: Record<string, unknown>) => void,
): Promise<ContractLookup> {
  return shippedContractLookup(stack, (c) => {
    for (const svc of Object.values(c.services as Record<string, { footprint: unknown }>)) svc.footprint = null;
    edit?.(c);
  });
}

/** The dev shop team stack, with edits applied; each edit is `[key path, value]`. */
function dev(...edits: Array<[KeyPath, unknown]>): StackConfig {
  return withEdits(stackConfig("dev.shop"), edits);
}

/** The dev platform stack on an existing cluster, with edits applied. */
function devPlatform(...edits: Array<[KeyPath, unknown]>): StackConfig {
  return withEdits(onExistingCluster(stackConfig("dev.platform")), edits);
}

/** Marks the secret keys as Pulumi does when they were set with `--secret`. */
function secret(cfg: StackConfig): StackConfig {
  cfg.secretKeys.push("blueprint:secrets", "blueprint:kubeconfig");
  return cfg;
}

/** Edits the team's contract (as dev.platform exports it): sets `path` to `value`. */
function contract(path: string, value: unknown): Promise<ContractLookup> {
  return contractLookup("dev.shop", (c) => {
    const keys = path.split(".");
    let cur = c;
    for (const k of keys.slice(0, -1)) cur = cur[k] as Record<string, unknown>;
    cur[keys[keys.length - 1]] = value;
  });
}

/** The problems of a team stack, checked against the contract of its shipped platform (or `lookup`). */
async function problems(cfg: StackConfig, stack = "dev.shop", lookup?: ContractLookup): Promise<string[]> {
  const found = lookup ?? (await contractLookup(stack));
  return collect(() => parseTeam(cfg.config, stack, "blueprint", new Set(cfg.secretKeys), found));
}

function platformProblems(cfg: StackConfig, stack = "dev.platform"): string[] {
  return collect(() => parsePlatform(cfg.config, stack, "blueprint", new Set(cfg.secretKeys)));
}

const WHERE = 'the platform stack "dev.platform"';

describe("team and platform config validation", () => {
  it("accepts every shipped stack", async () => {
    for (const env of ["dev", "staging", "prod", "prod-gke", "local"]) {
      expect(platformProblems(stackConfig(`${env}.platform`), `${env}.platform`)).toEqual([]);
      for (const team of ["shop", "payments"])
        expect(await problems(stackConfig(`${env}.${team}`), `${env}.${team}`)).toEqual([]);
    }
  });

  it("names the stack file in the error message, one line per problem", async () => {
    const cfg = dev(["blueprint:apps.frontend.port", 0], ["blueprint:apps.backend.replicas", 0]);
    const lookup = await contractLookup("dev.shop");
    expect(() => parseTeam(cfg.config, "dev.shop", "blueprint", new Set(), lookup)).toThrow(
      /^2 configuration problems in stacks\/Pulumi\.dev\.shop\.yaml:\nstacks\/Pulumi\.dev\.shop\.yaml: blueprint:apps\.frontend\.port .*\nstacks\/Pulumi\.dev\.shop\.yaml: blueprint:apps\.backend\.replicas /,
    );
  });

  it("refuses an image pinned by tag", async () => {
    expect(await problems(dev(["blueprint:release.images.podinfo", "ghcr.io/stefanprodan/podinfo:6.2.3"]))).toEqual([
      'blueprint:release.images.podinfo must be pinned by digest (repo@sha256:<64 hex>), not by tag: got "ghcr.io/stefanprodan/podinfo:6.2.3"',
    ]);
  });

  it("refuses unknown keys at the top level and inside objects, listing what is allowed", async () => {
    const found = await problems(dev(["blueprint:colour", "blue"], ["blueprint:apps.frontend.replica", 2]));
    expect(found).toContainEqual(
      expect.stringMatching(/^blueprint:colour is not a known key \(allowed: blueprint:layer, .*blueprint:apps/),
    );
    expect(found).toContainEqual(
      expect.stringMatching(
        /^blueprint:apps\.frontend has unknown key "replica"; did you mean "replicas"\? \(allowed: image, port, .*replicas/,
      ),
    );
  });

  it("reports every problem at once", async () => {
    const found = await problems(
      dev(
        ["blueprint:apps.frontend.image", "nginx"],
        ["blueprint:apps.backend.probes.liveness", { path: "/readyz" }],
        ["blueprint:apps.backend.preStopSeconds", 40],
      ),
    );
    expect(found.sort()).toEqual([
      "blueprint:apps.backend.preStopSeconds must be less than terminationGracePeriodSeconds (30) so the app has time to drain after the pause, got 40",
      "blueprint:apps.backend.probes.liveness must differ from the readiness probe (a failing dependency would restart every pod), both are /readyz",
      'blueprint:apps.frontend.image names an image that is not in blueprint:release.images (known: podinfo), got "nginx"',
    ]);
  });

  it("reports wrong types with the value given", async () => {
    expect(await problems(dev(["blueprint:apps.frontend.port", "http"]))).toEqual([
      'blueprint:apps.frontend.port must be a number, got "http"',
    ]);
  });

  it("reports a missing required key", async () => {
    expect(await problems(dev(["blueprint:apps.frontend.probes", undefined]))).toEqual([
      "blueprint:apps.frontend.probes is required (object)",
    ]);
  });

  it("refuses an unknown enum value, listing the allowed ones", async () => {
    expect(platformProblems(devPlatform(["blueprint:cluster.cloud", "azure"]))).toEqual([
      'blueprint:cluster.cloud must be one of "aws", "gcp", "existing", got "azure"',
    ]);
  });

  it("refuses a malformed quantity", async () => {
    expect((await problems(dev(["blueprint:apps.frontend.resources.limits.memory", "128MB"])))[0]).toMatch(
      /^blueprint:apps\.frontend\.resources\.limits\.memory must be a Kubernetes quantity/,
    );
  });

  it("refuses references to unknown images", async () => {
    expect(await problems(dev(["blueprint:apps.frontend.image", "nginx"]))).toEqual([
      'blueprint:apps.frontend.image names an image that is not in blueprint:release.images (known: podinfo), got "nginx"',
    ]);
  });

  it("refuses a team that is not the one its stack name says", async () => {
    expect(await problems(dev(["blueprint:team", "payments"]))).toContain(
      'blueprint:team must be "shop", the part of the stack name "dev.shop" after the first dot (team stacks are named <env>.<team>), got "payments"',
    );
  });

  it("refuses a stack without a layer, saying which one it probably is", () => {
    expect(collect(() => stackLayer(dev(["blueprint:layer", undefined]).config, "dev.shop"))).toEqual([
      "blueprint:layer is required: a platform stack (<env>.platform) holds the cluster and team namespaces, a team stack (<env>.<team>) a team's apps; this one is probably `blueprint:layer: team`",
    ]);
    expect(stackLayer(dev().config, "dev.shop")).toBe("team");
  });

  it("refuses platform keys in a team stack and team keys in a platform stack, saying where they belong", async () => {
    expect(await problems(dev(["blueprint:teams", {}]))).toContain(
      "blueprint:teams belongs in the platform stack (<env>.platform), not in a team stack",
    );
    expect(platformProblems(devPlatform(["blueprint:apps", {}]))).toContain(
      "blueprint:apps belongs in a team stack (<env>.<team>), not in the platform stack",
    );
  });

  it("refuses a team named platform", () => {
    expect(platformProblems(devPlatform(["blueprint:teams.platform", {}]))).toContain(
      'blueprint:teams.platform "platform" cannot be a team name: the stack <env>.platform is the platform\'s own',
    );
  });

  it("refuses an HPA whose minimum is not below its maximum", async () => {
    expect(
      await problems(
        dev(
          ["blueprint:apps.frontend.replicas", undefined],
          ["blueprint:apps.frontend.autoscaling", { minReplicas: 4, maxReplicas: 4 }],
        ),
      ),
    ).toEqual([
      "blueprint:apps.frontend.autoscaling minReplicas (4) must be below maxReplicas (4); for a fixed count use replicas instead",
    ]);
  });

  it("refuses replicas and autoscaling together", async () => {
    expect(await problems(dev(["blueprint:apps.frontend.autoscaling", { minReplicas: 1, maxReplicas: 2 }]))).toContain(
      "blueprint:apps.frontend set either replicas or autoscaling, not both (an HPA owns the replica count)",
    );
  });

  it("demands at least two replicas in production", async () => {
    expect(await problems(dev(["blueprint:production", true]))).toEqual([
      `blueprint:production must equal the platform's: ${WHERE} has blueprint:production false, this stack true`,
      "blueprint:apps.frontend.replicas must be at least 2 in a production environment (blueprint:production is true), got 1",
      "blueprint:apps.backend.replicas must be at least 2 in a production environment (blueprint:production is true), got 1",
    ]);
  });

  it("refuses requests above limits", async () => {
    expect(await problems(dev(["blueprint:apps.frontend.resources.requests.cpu", "300m"]))).toEqual([
      "blueprint:apps.frontend.resources.requests.cpu must not exceed the limit (200m), got 300m",
    ]);
  });

  it("refuses a limit above the team's LimitRange max and ratio", async () => {
    const found = await problems(dev(["blueprint:apps.frontend.resources.limits.memory", "16Gi"]));
    expect(found).toContain(
      `blueprint:apps.frontend.resources.limits.memory must not exceed the team's limits.max.memory (8Gi) set in ${WHERE}, got 16Gi`,
    );
    expect(found).toContain(
      `blueprint:apps.frontend.resources.limits.memory is more than 4x the request (the team's limits.maxLimitRequestRatio.memory set in ${WHERE}): 16Gi / 64Mi`,
    );
  });

  it("checks that the namespace quota holds every app at maximum scale plus surge", async () => {
    // 2 apps x (3 replicas + 1 surge) = 8 pods.
    const cfg = dev(["blueprint:apps.frontend.replicas", 3], ["blueprint:apps.backend.replicas", 3]);
    expect(await problems(cfg, "dev.shop", await contract("quota.pods", 7))).toEqual([
      `blueprint:apps need 8 of pods at maximum scale plus rollout surge, but the team's quota is 7 (blueprint:teams.shop.quota.pods of ${WHERE}): scale the apps down or have the platform raise the quota`,
    ]);
    expect(await problems(cfg, "dev.shop", await contract("quota.pods", 8))).toEqual([]);
  });

  it("counts percentage surge as the Deployment controller does (rounded up)", async () => {
    // 10 replicas + ceil(25% of 10) = 13 pods for frontend, 1 + 1 for backend.
    const cfg = dev(
      ["blueprint:apps.frontend.replicas", 10],
      ["blueprint:apps.frontend.rollingUpdate", { maxSurge: "25%", maxUnavailable: 0 }],
    );
    const lookup = await contractLookup("dev.shop", (c) => {
      Object.assign(c.quota as object, {
        pods: 14,
        "requests.cpu": "10",
        "limits.cpu": "10",
        "limits.memory": "10Gi",
        "limits.ephemeral-storage": "20Gi",
      });
    });
    expect(await problems(cfg, "dev.shop", lookup)).toEqual([
      `blueprint:apps need 15 of pods at maximum scale plus rollout surge, but the team's quota is 14 (blueprint:teams.shop.quota.pods of ${WHERE}): scale the apps down or have the platform raise the quota`,
    ]);
  });

  it("checks quota for cpu and memory sums", async () => {
    const lookup = await contractLookup("dev.shop", (c) => {
      (c.quota as Record<string, unknown>)["requests.cpu"] = "150m";
    });
    expect(await problems(dev(), "dev.shop", lookup)).toEqual([
      `blueprint:apps need 200m of requests.cpu at maximum scale plus rollout surge, but the team's quota is 150m (blueprint:teams.shop.quota.requests.cpu of ${WHERE}): scale the apps down or have the platform raise the quota`,
    ]);
  });

  it("refuses a rollout that can never progress", async () => {
    expect(await problems(dev(["blueprint:apps.frontend.rollingUpdate", { maxSurge: 0, maxUnavailable: 0 }]))).toEqual([
      "blueprint:apps.frontend.rollingUpdate maxSurge and maxUnavailable cannot both be 0: the rollout could never progress",
    ]);
  });

  it("refuses a preStop pause that is not shorter than the grace period", async () => {
    expect(await problems(dev(["blueprint:apps.frontend.preStopSeconds", 30]))).toEqual([
      "blueprint:apps.frontend.preStopSeconds must be less than terminationGracePeriodSeconds (30) so the app has time to drain after the pause, got 30",
    ]);
  });

  it("refuses a liveness probe identical to the readiness probe", async () => {
    expect(await problems(dev(["blueprint:apps.frontend.probes.liveness", { path: "/readyz" }]))).toEqual([
      "blueprint:apps.frontend.probes.liveness must differ from the readiness probe (a failing dependency would restart every pod), both are /readyz",
    ]);
  });

  it("refuses app names that are not DNS labels or too long for auto-named children", async () => {
    const cfg = dev();
    const apps = JSON.parse(cfg.config["blueprint:apps"]);
    apps["Front_End"] = apps.frontend;
    apps["a".repeat(48)] = apps.backend;
    delete apps.frontend;
    delete apps.backend;
    cfg.config["blueprint:apps"] = JSON.stringify(apps);
    const found = await problems(cfg);
    expect(found).toContainEqual(
      expect.stringMatching(/^blueprint:apps\.Front_End app name must be a DNS-1035 label of at most 47 characters/),
    );
    expect(found).toContainEqual(
      expect.stringMatching(new RegExp(`^blueprint:apps\\.${"a".repeat(48)} app name must be a DNS-1035 label`)),
    );
  });

  it("refuses a team name that is not a DNS label", () => {
    const cfg = devPlatform();
    const teams = JSON.parse(cfg.config["blueprint:teams"]);
    teams["Shop!"] = teams.shop;
    cfg.config["blueprint:teams"] = JSON.stringify(teams);
    expect(platformProblems(cfg)).toContain(
      "blueprint:teams.Shop! team name is the namespace name: it must be a DNS label of at most 63 characters",
    );
  });

  it("refuses plain config keys that look like credentials, saying how to set a secret", async () => {
    expect(await problems(dev(["blueprint:apps.frontend.config.DB_PASSWORD", "hunter2"]))).toEqual([
      "blueprint:apps.frontend.config.DB_PASSWORD looks like a credential: declare it in apps.frontend.secrets and set it with `pulumi config set --secret --path 'secrets.frontend.DB_PASSWORD' <value>`",
    ]);
  });

  it("refuses a private key pasted into plain config", async () => {
    expect(
      await problems(dev(["blueprint:apps.frontend.config.TLS_CA", "-----BEGIN RSA PRIVATE KEY-----\nabc"])),
    ).toEqual(["blueprint:apps.frontend.config.TLS_CA holds a private key: move it to blueprint:secrets"]);
  });

  it("refuses a declared secret without a value, and a value nobody declared", async () => {
    const found = await problems(
      secret(
        dev(["blueprint:apps.frontend.secrets", ["API_TOKEN"]], ["blueprint:secrets", { frontend: { OTHER: "x" } }]),
      ),
    );
    expect(found).toEqual([
      "blueprint:secrets.frontend.API_TOKEN has no value: set it with `pulumi config set --secret --path 'secrets.frontend.API_TOKEN' <value>`",
      "blueprint:secrets.frontend.OTHER is not declared in apps.frontend.secrets (declared: API_TOKEN)",
    ]);
  });

  it("refuses secrets stored in clear in the stack file, saying how to set them", async () => {
    expect(
      await problems(
        dev(
          ["blueprint:apps.frontend.secrets", ["API_TOKEN"]],
          ["blueprint:secrets", { frontend: { API_TOKEN: "x" } }],
        ),
      ),
    ).toEqual([
      "blueprint:secrets holds secrets but is stored in clear in the stack file: remove it and set each value with `pulumi config set --secret --path 'secrets.<app>.<NAME>' <value>`",
    ]);
  });

  it("never shows a secret value in a message", async () => {
    const found = await problems(
      secret(
        dev(
          ["blueprint:apps.frontend.secrets", ["API_PIN", "API_TOKEN"]],
          ["blueprint:secrets", { frontend: { API_PIN: 987654, API_TOKEN: "ok" } }],
        ),
      ),
    );
    expect(found).toEqual(['blueprint:secrets.frontend.API_PIN must be a string, got "(secret value not shown)"']);
    expect(found.join("\n")).not.toContain("987654");
  });

  it("tells to quote a version that YAML read as a number", async () => {
    expect(platformProblems(devPlatform(["blueprint:cluster.kubernetesVersion", 1.3]))).toEqual([
      "blueprint:cluster.kubernetesVersion must be a string, got the number 1.3: quote it in YAML (unquoted, 1.30 is read as the number 1.3)",
    ]);
  });

  it("refuses volume mounts of unknown volumes and ReadWriteOnce volumes on scaled apps", async () => {
    const found = await problems(
      dev(
        ["blueprint:volumes", { data: { size: "5Gi" } }],
        ["blueprint:apps.frontend.volumeMounts", { cache: "/cache" }],
        ["blueprint:apps.backend.volumeMounts", { data: "/data" }],
        ["blueprint:apps.backend.replicas", 2],
      ),
    );
    expect(found).toEqual([
      "blueprint:apps.frontend.volumeMounts.cache names a volume that is not in blueprint:volumes (known: data)",
      "blueprint:apps.backend.volumeMounts.data volume is ReadWriteOnce but the app runs up to 2 replicas on different nodes; use ReadWriteMany or one replica",
    ]);
  });

  it("keeps volumes within the team's PVC bounds and storage quota", async () => {
    const found = await problems(dev(["blueprint:volumes", { big: { size: "200Gi", storageClass: "fast" } }]));
    expect(found).toContain(
      `blueprint:volumes.big.size must be between the team's limits.pvcMin (1Gi) and limits.pvcMax (100Gi) set in ${WHERE}, got 200Gi`,
    );
    expect(found).toContain(
      `blueprint:volumes.big.storageClass names a StorageClass ${WHERE} does not offer (offered: app-storage), got "fast"`,
    );
    expect(found).toContain(
      `blueprint:volumes need 200Gi of requests.storage at maximum scale plus rollout surge, but the team's quota is 10Gi (blueprint:teams.shop.quota.requests.storage of ${WHERE}): scale the apps down or have the platform raise the quota`,
    );
  });

  it("refuses two apps on the same ingress host and path", async () => {
    const ingress = { host: "shop.example.com" };
    const lookup = await contract("ingress.hosts", { "shop.example.com": { annotations: {}, tls: "host" } });
    expect(
      await problems(
        dev(["blueprint:apps.frontend.ingress", ingress], ["blueprint:apps.backend.ingress", ingress]),
        "dev.shop",
        lookup,
      ),
    ).toEqual(['blueprint:apps.backend.ingress.host shop.example.com/ is already routed to app "frontend"']);
  });

  it("refuses an ingress host the platform does not let the team serve", async () => {
    expect(await problems(dev(["blueprint:apps.frontend.ingress", { host: "shop.example.com" }]))).toEqual([
      `blueprint:apps.frontend.ingress.host "shop.example.com" is not a host ${WHERE} lets the team serve (hosts: none); add it to blueprint:teams.shop.hosts there`,
    ]);
  });

  it("refuses a host two teams claim", () => {
    expect(
      platformProblems(
        devPlatform(
          ["blueprint:teams.shop.hosts", ["a.example.org"]],
          ["blueprint:teams.payments.hosts", ["a.example.org"]],
        ),
      ),
    ).toEqual([
      'blueprint:teams.payments.hosts "a.example.org" is already a host of team "shop": a host is served by one team',
    ]);
  });

  it("refuses an identity the platform does not offer, or one the app's ServiceAccount may not bind", async () => {
    expect(await problems(dev(["blueprint:apps.frontend.identity", "storage"]))).toEqual([
      `blueprint:apps.frontend.identity names an identity ${WHERE} does not let the team bind (identities: none), got "storage"`,
    ]);
    const lookup = await contract("identities", {
      storage: { annotations: {}, serviceAccounts: ["backend"], egress: [] },
    });
    expect(await problems(dev(["blueprint:apps.frontend.identity", "storage"]), "dev.shop", lookup)).toEqual([
      `blueprint:apps.frontend.identity "storage" may be bound by the ServiceAccounts backend in ${WHERE}, not by frontend`,
    ]);
    expect(await problems(dev(["blueprint:apps.backend.identity", "storage"]), "dev.shop", lookup)).toEqual([]);
  });

  it("refuses a released image the platform's admission policy would refuse", async () => {
    expect(await problems(dev(["blueprint:release.images.other", `registry.example.com/other@${DIGEST}`]))).toEqual([
      `blueprint:release.images.other is pulled as registry.example.com/other@${DIGEST}, which the cluster's admission policy refuses: ${WHERE} allows docker.io/library, docker.io/valkey, ghcr.io (its blueprint:policy.allowedRegistries)`,
    ]);
  });

  it("refuses a released image from docker.io/library in prod, whose platform does not let teams pull it", async () => {
    const alpine = `docker.io/library/alpine@${DIGEST}`;
    const prodShop = withEdits(stackConfig("prod.shop"), [["blueprint:release.images.tool", alpine]]);
    expect(await problems(prodShop, "prod.shop", await contractLookup("prod.shop"))).toEqual([
      `blueprint:release.images.tool is pulled as ${alpine}, which the cluster's admission policy refuses: the platform stack "prod.platform" allows ghcr.io (its blueprint:policy.allowedRegistries)`,
    ]);
  });

  it("requires an existing cluster to name a context or provide a kubeconfig secret", async () => {
    expect(platformProblems(devPlatform(["blueprint:cluster.existing", {}]))).toEqual([
      "blueprint:kubeconfig is required when blueprint:cluster.existing has no context: set it with `pulumi config set --secret kubeconfig < kubeconfig.yaml`",
    ]);
    expect(
      platformProblems(
        secret(devPlatform(["blueprint:cluster.existing", {}], ["blueprint:kubeconfig", "apiVersion: v1"])),
      ),
    ).toEqual([]);
  });

  it("refuses an unpinned or too old Kubernetes version", async () => {
    expect(platformProblems(devPlatform(["blueprint:cluster.kubernetesVersion", "latest"]))[0]).toMatch(
      /^blueprint:cluster\.kubernetesVersion must be a pinned Kubernetes minor version from "1\.30" up/,
    );
    expect(platformProblems(devPlatform(["blueprint:cluster.kubernetesVersion", "1.29"]))).toEqual([
      'blueprint:cluster.kubernetesVersion must be a pinned Kubernetes minor version from "1.30" up, such as "1.36", got "1.29"',
    ]);
  });

  it("reports cluster rules that need the teams together with the other platform rules", () => {
    const cfg = stackConfig("prod.platform");
    setConfig(cfg, "blueprint:cluster.aws.zones", 2);
    setConfig(cfg, "blueprint:teams.shop.limits.default.cpu", "8");
    const found = platformProblems(cfg, "prod.platform");
    expect(found).toContainEqual(
      expect.stringMatching(/^blueprint:cluster\.aws\.zones must be at least 3 in a production environment/),
    );
    expect(found).toContainEqual(
      expect.stringMatching(/^blueprint:teams\.shop\.limits\.default\.cpu must not exceed limits\.max\.cpu/),
    );
  });

  it("accepts a valid digest for a second image from an allowed registry", async () => {
    expect(await problems(dev(["blueprint:release.images.other", `ghcr.io/acme/other@${DIGEST}`]))).toEqual([]);
  });
});
