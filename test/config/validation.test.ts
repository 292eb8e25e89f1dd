import { ConfigError } from "../../config/errors";
import { parseEnvironment } from "../../config/load";
import { onExistingCluster, setConfig, stackConfig, type KeyPath } from "../helpers/program";
import type { StackConfig } from "../../tools/offline/project";

const DIGEST = `sha256:${"b".repeat(64)}`;

/** The dev stack's apps on an existing cluster, with edits applied; each edit is `[key path, value]`. */
function dev(...edits: Array<[KeyPath, unknown]>): StackConfig {
  const cfg = onExistingCluster(stackConfig("dev"));
  for (const [k, v] of edits) setConfig(cfg, k, v);
  return cfg;
}

/** Marks the secret keys as Pulumi does when they were set with `--secret`. */
function secret(cfg: StackConfig): StackConfig {
  cfg.secretKeys.push("blueprint:secrets", "blueprint:kubeconfig");
  return cfg;
}

const quota = (key: string): KeyPath => ["blueprint:teams", "shop", "quota", key];

function problems(cfg: StackConfig, stack = "dev"): string[] {
  try {
    parseEnvironment(cfg.config, stack, "blueprint", new Set(cfg.secretKeys));
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${p.key} ${p.message}`);
    throw e;
  }
  return [];
}

describe("environment config validation", () => {
  it("accepts every shipped stack", () => {
    for (const stack of ["dev", "staging", "prod"]) expect(problems(stackConfig(stack), stack)).toEqual([]);
  });

  it("names the stack file in the error message, one line per problem", () => {
    const cfg = dev(["blueprint:apps.frontend.port", 0], ["blueprint:apps.backend.replicas", 0]);
    expect(() => parseEnvironment(cfg.config, "dev", "blueprint")).toThrow(
      /^2 configuration problems in stacks\/Pulumi\.dev\.yaml:\nstacks\/Pulumi\.dev\.yaml: blueprint:apps\.frontend\.port .*\nstacks\/Pulumi\.dev\.yaml: blueprint:apps\.backend\.replicas /,
    );
  });

  it("refuses an image pinned by tag", () => {
    expect(problems(dev(["blueprint:release.images.podinfo", "ghcr.io/stefanprodan/podinfo:6.2.3"]))).toEqual([
      'blueprint:release.images.podinfo must be pinned by digest (repo@sha256:<64 hex>), not by tag: got "ghcr.io/stefanprodan/podinfo:6.2.3"',
    ]);
  });

  it("refuses unknown keys at the top level and inside objects, listing what is allowed", () => {
    const found = problems(dev(["blueprint:colour", "blue"], ["blueprint:apps.frontend.replica", 2]));
    expect(found).toContainEqual(expect.stringMatching(/^blueprint:colour is not a known key \(allowed: blueprint:cluster, .*blueprint:apps/));
    expect(found).toContainEqual(expect.stringMatching(/^blueprint:apps\.frontend has unknown key "replica"; did you mean "replicas"\? \(allowed: team, image, port, .*replicas/));
  });

  it("reports every problem at once", () => {
    const found = problems(dev(["blueprint:apps.frontend.image", "nginx"], ["blueprint:apps.backend.team", "payments"], ["blueprint:apps.backend.preStopSeconds", 40]));
    expect(found).toHaveLength(3);
  });

  it("reports wrong types with the value given", () => {
    expect(problems(dev(["blueprint:apps.frontend.port", "http"]))).toEqual(['blueprint:apps.frontend.port must be a number, got "http"']);
  });

  it("reports a missing required key", () => {
    expect(problems(dev(["blueprint:apps.frontend.probes", undefined]))).toEqual(["blueprint:apps.frontend.probes is required (object)"]);
  });

  it("refuses an unknown enum value, listing the allowed ones", () => {
    expect(problems(dev(["blueprint:cluster.cloud", "azure"]))).toEqual(['blueprint:cluster.cloud must be one of "aws", "gcp", "existing", got "azure"']);
  });

  it("refuses a malformed quantity", () => {
    expect(problems(dev(["blueprint:apps.frontend.resources.limits.memory", "128MB"]))[0]).toMatch(/^blueprint:apps\.frontend\.resources\.limits\.memory must be a Kubernetes quantity/);
  });

  it("refuses references to unknown images and teams", () => {
    expect(problems(dev(["blueprint:apps.frontend.image", "nginx"], ["blueprint:apps.backend.team", "payments"]))).toEqual([
      'blueprint:apps.frontend.image names an image that is not in blueprint:release.images (known: podinfo), got "nginx"',
      'blueprint:apps.backend.team names a team that is not in blueprint:teams (known: shop), got "payments"',
    ]);
  });

  it("refuses an HPA whose minimum is not below its maximum", () => {
    expect(problems(dev(["blueprint:apps.frontend.replicas", undefined], ["blueprint:apps.frontend.autoscaling", { minReplicas: 4, maxReplicas: 4 }]))).toEqual([
      "blueprint:apps.frontend.autoscaling minReplicas (4) must be below maxReplicas (4); for a fixed count use replicas instead",
    ]);
  });

  it("refuses replicas and autoscaling together", () => {
    expect(problems(dev(["blueprint:apps.frontend.autoscaling", { minReplicas: 1, maxReplicas: 2 }]))).toContain(
      "blueprint:apps.frontend set either replicas or autoscaling, not both (an HPA owns the replica count)",
    );
  });

  it("demands at least two replicas in production", () => {
    expect(problems(dev(["blueprint:production", true]))).toEqual([
      "blueprint:apps.frontend.replicas must be at least 2 in a production environment (blueprint:production is true), got 1",
      "blueprint:apps.backend.replicas must be at least 2 in a production environment (blueprint:production is true), got 1",
    ]);
  });

  it("refuses requests above limits", () => {
    expect(problems(dev(["blueprint:apps.frontend.resources.requests.cpu", "300m"]))).toEqual([
      "blueprint:apps.frontend.resources.requests.cpu must not exceed the limit (200m), got 300m",
    ]);
  });

  it("refuses a limit above the team's LimitRange max and ratio", () => {
    const found = problems(dev(["blueprint:apps.frontend.resources.limits.memory", "16Gi"]));
    expect(found).toContain("blueprint:apps.frontend.resources.limits.memory must not exceed the team's limits.max.memory (8Gi), got 16Gi");
    expect(found).toContain("blueprint:apps.frontend.resources.limits.memory is more than 4x the request (the team's limits.maxLimitRequestRatio.memory): 16Gi / 64Mi");
  });

  it("checks that the namespace quota holds every app at maximum scale plus surge", () => {
    // 2 apps x (3 replicas + 1 surge) = 8 pods.
    const cfg = dev(["blueprint:apps.frontend.replicas", 3], ["blueprint:apps.backend.replicas", 3], ["blueprint:teams.shop.quota.pods", 7]);
    expect(problems(cfg)).toEqual(["blueprint:teams.shop.quota.pods is too small for the team's apps at maximum scale plus rollout surge: needs 8, quota is 7"]);
    expect(problems(setConfig(cfg, "blueprint:teams.shop.quota.pods", 8))).toEqual([]);
  });

  it("counts percentage surge as the Deployment controller does (rounded up)", () => {
    // 10 replicas + ceil(25% of 10) = 13 pods for frontend, 1 + 1 for backend.
    const cfg = dev(["blueprint:apps.frontend.replicas", 10], ["blueprint:apps.frontend.rollingUpdate", { maxSurge: "25%", maxUnavailable: 0 }], ["blueprint:teams.shop.quota.pods", 14], [quota("requests.cpu"), "10"], [quota("limits.cpu"), "10"], [quota("limits.memory"), "10Gi"], [quota("limits.ephemeral-storage"), "20Gi"]);
    expect(problems(cfg)).toEqual(["blueprint:teams.shop.quota.pods is too small for the team's apps at maximum scale plus rollout surge: needs 15, quota is 14"]);
  });

  it("checks quota for cpu and memory sums", () => {
    expect(problems(dev([quota("requests.cpu"), "150m"]))).toEqual([
      "blueprint:teams.shop.quota.requests.cpu is too small for the team's apps at maximum scale plus rollout surge: needs 200m, quota is 150m",
    ]);
  });

  it("refuses a rollout that can never progress", () => {
    expect(problems(dev(["blueprint:apps.frontend.rollingUpdate", { maxSurge: 0, maxUnavailable: 0 }]))).toEqual([
      "blueprint:apps.frontend.rollingUpdate maxSurge and maxUnavailable cannot both be 0: the rollout could never progress",
    ]);
  });

  it("refuses a preStop pause that is not shorter than the grace period", () => {
    expect(problems(dev(["blueprint:apps.frontend.preStopSeconds", 30]))).toEqual([
      "blueprint:apps.frontend.preStopSeconds must be less than terminationGracePeriodSeconds (30) so the app has time to drain after the pause, got 30",
    ]);
  });

  it("refuses a liveness probe identical to the readiness probe", () => {
    expect(problems(dev(["blueprint:apps.frontend.probes.liveness", { path: "/readyz" }]))).toEqual([
      "blueprint:apps.frontend.probes.liveness must differ from the readiness probe (a failing dependency would restart every pod), both are /readyz",
    ]);
  });

  it("refuses app names that are not DNS labels or too long for auto-named children", () => {
    const cfg = dev();
    const apps = JSON.parse(cfg.config["blueprint:apps"]);
    apps["Front_End"] = apps.frontend;
    apps["a".repeat(48)] = apps.backend;
    delete apps.frontend;
    delete apps.backend;
    cfg.config["blueprint:apps"] = JSON.stringify(apps);
    const found = problems(cfg);
    expect(found).toContainEqual(expect.stringMatching(/^blueprint:apps\.Front_End app name must be a DNS-1035 label of at most 47 characters/));
    expect(found).toContainEqual(expect.stringMatching(new RegExp(`^blueprint:apps\\.${"a".repeat(48)} app name must be a DNS-1035 label`)));
  });

  it("refuses a team name that is not a DNS label", () => {
    const cfg = dev();
    const teams = JSON.parse(cfg.config["blueprint:teams"]);
    teams["Shop!"] = teams.shop;
    cfg.config["blueprint:teams"] = JSON.stringify(teams);
    expect(problems(cfg)).toContain("blueprint:teams.Shop! team name is the namespace name: it must be a DNS label of at most 63 characters");
  });

  it("refuses plain config keys that look like credentials, saying how to set a secret", () => {
    expect(problems(dev(["blueprint:apps.frontend.config.DB_PASSWORD", "hunter2"]))).toEqual([
      "blueprint:apps.frontend.config.DB_PASSWORD looks like a credential: declare it in apps.frontend.secrets and set it with `pulumi config set --secret --path 'secrets.frontend.DB_PASSWORD' <value>`",
    ]);
  });

  it("refuses a private key pasted into plain config", () => {
    expect(problems(dev(["blueprint:apps.frontend.config.TLS_CA", "-----BEGIN RSA PRIVATE KEY-----\nabc"]))).toEqual([
      "blueprint:apps.frontend.config.TLS_CA holds a private key: move it to blueprint:secrets",
    ]);
  });

  it("refuses a declared secret without a value, and a value nobody declared", () => {
    const found = problems(secret(dev(["blueprint:apps.frontend.secrets", ["API_TOKEN"]], ["blueprint:secrets", { frontend: { OTHER: "x" } }])));
    expect(found).toEqual([
      "blueprint:secrets.frontend.API_TOKEN has no value: set it with `pulumi config set --secret --path 'secrets.frontend.API_TOKEN' <value>`",
      "blueprint:secrets.frontend.OTHER is not declared in apps.frontend.secrets (declared: API_TOKEN)",
    ]);
  });

  it("refuses secrets stored in clear in the stack file, saying how to set them", () => {
    expect(problems(dev(["blueprint:apps.frontend.secrets", ["API_TOKEN"]], ["blueprint:secrets", { frontend: { API_TOKEN: "x" } }]))).toEqual([
      "blueprint:secrets holds secrets but is stored in clear in the stack file: remove it and set each value with `pulumi config set --secret --path 'secrets.<app>.<NAME>' <value>`",
    ]);
  });

  it("never shows a secret value in a message", () => {
    const found = problems(secret(dev(["blueprint:apps.frontend.secrets", ["API_PIN", "API_TOKEN"]], ["blueprint:secrets", { frontend: { API_PIN: 987654, API_TOKEN: "ok" } }])));
    expect(found).toEqual(["blueprint:secrets.frontend.API_PIN must be a string, got \"(secret value not shown)\""]);
    expect(found.join("\n")).not.toContain("987654");
  });

  it("tells to quote a version that YAML read as a number", () => {
    expect(problems(dev(["blueprint:cluster.kubernetesVersion", 1.3]))).toEqual([
      "blueprint:cluster.kubernetesVersion must be a string, got the number 1.3: quote it in YAML (unquoted, 1.30 is read as the number 1.3)",
    ]);
  });

  it("refuses volume mounts of unknown volumes and ReadWriteOnce volumes on scaled apps", () => {
    const found = problems(dev(
      ["blueprint:teams.shop.volumes", { data: { size: "5Gi" } }],
      ["blueprint:apps.frontend.volumeMounts", { cache: "/cache" }],
      ["blueprint:apps.backend.volumeMounts", { data: "/data" }],
      ["blueprint:apps.backend.replicas", 2],
    ));
    expect(found).toEqual([
      "blueprint:apps.frontend.volumeMounts.cache names a volume that is not in teams.shop.volumes (known: data)",
      "blueprint:apps.backend.volumeMounts.data volume is ReadWriteOnce but the app runs up to 2 replicas on different nodes; use ReadWriteMany or one replica",
    ]);
  });

  it("keeps volumes within the team's PVC bounds and storage quota", () => {
    const found = problems(dev(["blueprint:teams.shop.volumes", { big: { size: "200Gi" } }]));
    expect(found).toContain("blueprint:teams.shop.volumes.big.size must be between the team's limits.pvcMin (1Gi) and limits.pvcMax (100Gi), got 200Gi");
    expect(found).toContain("blueprint:teams.shop.quota.requests.storage is too small for the team's apps at maximum scale plus rollout surge: needs 200Gi, quota is 10Gi");
  });

  it("refuses two apps on the same ingress host and path", () => {
    const ingress = { host: "shop.example.com" };
    expect(problems(dev(["blueprint:apps.frontend.ingress", ingress], ["blueprint:apps.backend.ingress", ingress]))).toEqual([
      'blueprint:apps.backend.ingress.host shop.example.com/ is already routed to app "frontend"',
    ]);
  });

  it("requires an existing cluster to name a context or provide a kubeconfig secret", () => {
    expect(problems(dev(["blueprint:cluster.existing", {}]))).toEqual([
      "blueprint:kubeconfig is required when blueprint:cluster.existing has no context: set it with `pulumi config set --secret kubeconfig < kubeconfig.yaml`",
    ]);
    expect(problems(secret(dev(["blueprint:cluster.existing", {}], ["blueprint:kubeconfig", "apiVersion: v1"])))).toEqual([]);
  });

  it("refuses an unpinned or too old Kubernetes version", () => {
    expect(problems(dev(["blueprint:cluster.kubernetesVersion", "latest"]))[0]).toMatch(/^blueprint:cluster\.kubernetesVersion must be a pinned Kubernetes minor version from "1\.30" up/);
    expect(problems(dev(["blueprint:cluster.kubernetesVersion", "1.29"]))).toHaveLength(1);
  });

  it("reports cluster rules that need the whole environment together with the app rules", () => {
    const cfg = stackConfig("prod");
    setConfig(cfg, "blueprint:cluster.aws.zones", 2);
    setConfig(cfg, "blueprint:apps.frontend.preStopSeconds", 60);
    const found = problems(cfg, "prod");
    expect(found).toContainEqual(expect.stringMatching(/^blueprint:cluster\.aws\.zones must be at least 3 in a production environment/));
    expect(found).toContainEqual(expect.stringMatching(/^blueprint:apps\.frontend\.preStopSeconds must be less than terminationGracePeriodSeconds/));
  });

  it("accepts a valid digest for a second image", () => {
    expect(problems(dev(["blueprint:release.images.other", `registry.example.com/other@${DIGEST}`]))).toEqual([]);
  });
});
