import { parsePlatform, parseTeam } from "../../config/load";
import {
  collect,
  contractLookup,
  getConfig,
  onExistingCluster,
  stackConfig,
  withEdits,
  type KeyPath,
} from "../helpers/program";
import type { StackConfig } from "../../lib/project";

/** A shipped platform stack with edits applied. */
function platform(stack: string, ...edits: Array<[KeyPath, unknown]>): StackConfig {
  return withEdits(stackConfig(stack), edits);
}

function platformProblems(cfg: StackConfig, stack: string): string[] {
  return collect(() => parsePlatform(cfg.config, stack, "blueprint", new Set(cfg.secretKeys)));
}

async function teamProblems(cfg: StackConfig, stack: string): Promise<string[]> {
  const lookup = await contractLookup(stack);
  return collect(() => parseTeam(cfg.config, stack, "blueprint", new Set(cfg.secretKeys), lookup));
}

const DB = ["blueprint:teams", "shop", "services", "db"];

describe("backing services in the platform config", () => {
  it("accepts the shipped grants of every platform stack", () => {
    for (const stack of ["dev.platform", "local.platform"]) {
      expect(platformProblems(stackConfig(stack), stack)).toEqual([]);
    }
  });

  it("refuses an unknown type, naming the stack file, the key and the types there are", () => {
    const cfg = platform("dev.platform", [DB, { type: "mysql", flavour: "in-cluster" }]);
    expect(() => parsePlatform(cfg.config, "dev.platform", "blueprint")).toThrow(
      /stacks\/Pulumi\.dev\.platform\.yaml: blueprint:teams\.shop\.services\.db\.type .*postgres.*valkey/,
    );
  });

  it("names a misspelt type key among the keys no service type knows", () => {
    const cfg = platform("dev.platform", [DB, { tpye: "postgres", flavour: "in-cluster", storage: "5Gi" }]);
    expect(platformProblems(cfg, "dev.platform")).toEqual([
      "blueprint:teams.shop.services.db.type needs a type: one of postgres, valkey (unknown key: tpye)",
    ]);
  });

  it("refuses a service name that is not a DNS label, or too long for its Secret", () => {
    const bad = platform("dev.platform", [
      ["blueprint:teams", "shop", "services", "Main_DB"],
      { type: "postgres", flavour: "in-cluster" },
    ]);
    expect(platformProblems(bad, "dev.platform")).toContainEqual(
      expect.stringMatching(
        /^blueprint:teams\.shop\.services\.Main_DB service name must be a DNS label of at most 30 characters/,
      ),
    );
    const long = platform("dev.platform", [
      ["blueprint:teams", "shop", "services", `d${"b".repeat(30)}`],
      { type: "postgres", flavour: "in-cluster" },
    ]);
    expect(platformProblems(long, "dev.platform").join("\n")).toMatch(/at most 30 characters/);
  });

  it("refuses managed services on an existing cluster, which has no managed offering", () => {
    const cfg = platform("local.platform", [DB, { type: "postgres", flavour: "managed" }]);
    expect(platformProblems(cfg, "local.platform")).toContainEqual(
      'blueprint:teams.shop.services.db.flavour is "managed", but an existing cluster has no managed offering: use "in-cluster", or "external" with a URL in blueprint:serviceUrls.shop.db',
    );
  });

  it("refuses, in production, public access, a skipped final snapshot and too short a retention", () => {
    const cfg = onExistingCluster(
      platform(
        "prod.platform",
        [
          DB,
          {
            type: "postgres",
            flavour: "in-cluster",
            publicAccess: true,
            skipFinalSnapshot: true,
            backupRetentionDays: 3,
          },
        ],
        [["blueprint:policy", "allowedRegistries"], ["docker.io/library"]],
      ),
    );
    const found = platformProblems(cfg, "prod.platform");
    expect(found).toEqual(
      expect.arrayContaining([
        "blueprint:teams.shop.services.db.publicAccess must be false in a production environment (blueprint:production is true): data stays on private addresses",
        "blueprint:teams.shop.services.db.skipFinalSnapshot must be false in a production environment: destroying the instance must leave a final snapshot",
        "blueprint:teams.shop.services.db.backupRetentionDays must be at least 7 in a production environment, got 3",
      ]),
    );
  });

  it("accepts the same settings outside production", () => {
    const cfg = platform("dev.platform", [
      DB,
      { type: "postgres", flavour: "in-cluster", publicAccess: true, skipFinalSnapshot: true, backupRetentionDays: 1 },
    ]);
    expect(platformProblems(cfg, "dev.platform")).toEqual([]);
  });

  it("refuses sizes the engine does not offer, per cloud", () => {
    const aws = platform(
      "dev.platform",
      [DB, { type: "postgres", flavour: "managed", instanceClass: "db.t4g.huge" }],
      [
        ["blueprint:teams", "shop", "services", "cache"],
        { type: "valkey", flavour: "managed", nodeType: "cache.t2.giant" },
      ],
    );
    expect(platformProblems(aws, "dev.platform")).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^blueprint:teams\.shop\.services\.db\.instanceClass is not a DB instance class RDS for PostgreSQL offers .*got "db\.t4g\.huge"/,
        ),
        expect.stringMatching(
          /^blueprint:teams\.shop\.services\.cache\.nodeType is not an ElastiCache node type that runs Valkey .*got "cache\.t2\.giant"/,
        ),
      ]),
    );
    const gcp = platform(
      "prod-gke.platform",
      [DB, { type: "postgres", flavour: "managed", tier: "db-custom-3-4096" }],
      [["blueprint:teams", "shop", "services", "cache"], { type: "valkey", flavour: "managed", memorySizeGb: 500 }],
    );
    expect(platformProblems(gcp, "prod-gke.platform")).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^blueprint:teams\.shop\.services\.db\.tier is not a Cloud SQL for PostgreSQL tier .*got "db-custom-3-4096"/,
        ),
        "blueprint:teams.shop.services.cache.memorySizeGb must be between 1 and 300 (Memorystore capacity in GB), got 500",
      ]),
    );
  });

  it("refuses a size of one cloud on the other", () => {
    const cfg = platform("dev.platform", [DB, { type: "postgres", flavour: "managed", tier: "db-custom-2-7680" }]);
    expect(platformProblems(cfg, "dev.platform")).toContainEqual(
      "blueprint:teams.shop.services.db.tier applies to managed services on GCP (cluster.cloud: gcp) only; this environment's cluster is aws",
    );
  });

  it("refuses an in-cluster service whose upstream image the admission policy would refuse", () => {
    const cfg = platform("dev.platform", [["blueprint:policy", "allowedRegistries"], ["ghcr.io"]]);
    expect(platformProblems(cfg, "dev.platform")).toContainEqual(
      expect.stringMatching(
        /^blueprint:teams\.shop\.services\.db\.flavour is "in-cluster", which runs docker\.io\/library\/postgres@sha256:[0-9a-f]{64}, but blueprint:policy\.allowedRegistries \(ghcr\.io\) does not allow it: add "docker\.io\/library"$/,
      ),
    );
  });

  it("accepts the managed grants of staging, prod and prod-gke, whose users Job image is not on the teams' allow-list", () => {
    for (const stack of ["staging.platform", "prod.platform", "prod-gke.platform"]) {
      const cfg = stackConfig(stack);
      expect(getConfig(cfg, ["blueprint:policy", "allowedRegistries"])).not.toContain("docker.io/library");
      expect([stack, platformProblems(cfg, stack)]).toEqual([stack, []]);
    }
  });

  it.each(["staging.platform", "prod.platform", "prod-gke.platform"])(
    "refuses an in-cluster Postgres on %s, whose allow-list keeps docker.io/library out",
    (stack) => {
      const cfg = platform(stack, [DB, { type: "postgres", flavour: "in-cluster" }]);
      expect(platformProblems(cfg, stack)).toContainEqual(
        expect.stringMatching(
          /^blueprint:teams\.shop\.services\.db\.flavour is "in-cluster", which runs docker\.io\/library\/postgres@sha256:[0-9a-f]{64}, but blueprint:policy\.allowedRegistries \(.*\) does not allow it: add "docker\.io\/library"$/,
        ),
      );
    },
  );

  it("refuses an external service without its URL in the secret config, and a URL kept in clear", () => {
    const cfg = platform("dev.platform", [DB, { type: "postgres", flavour: "external" }]);
    expect(platformProblems(cfg, "dev.platform")).toContainEqual(
      expect.stringMatching(
        /^blueprint:serviceUrls\.shop\.db has no value: an external service needs its URL .*pulumi config set --secret --path 'serviceUrls\.shop\.db' <url>/,
      ),
    );
    const clear = platform(
      "dev.platform",
      [DB, { type: "postgres", flavour: "external" }],
      [["blueprint:serviceUrls", "shop", "db"], "postgresql://u:p@db.example.com/app"],
    );
    expect(platformProblems(clear, "dev.platform")).toContainEqual(
      expect.stringMatching(/^blueprint:serviceUrls holds secrets but is stored in clear in the stack file/),
    );
  });
});

describe("binding services in a team stack", () => {
  it("binds the shipped services of dev and local", async () => {
    expect(await teamProblems(stackConfig("dev.shop"), "dev.shop")).toEqual([]);
    expect(await teamProblems(stackConfig("local.shop"), "local.shop")).toEqual([]);
  });

  it("refuses a service the platform does not grant the team, or another team's", async () => {
    const cfg = withEdits(stackConfig("dev.payments"), [[["blueprint:apps", "api", "services"], ["db"]]]);
    expect(await teamProblems(cfg, "dev.payments")).toContainEqual(
      'blueprint:apps.api.services names "db", which the platform stack "dev.platform" does not grant this team (granted: none); the platform adds it under blueprint:teams.<team>.services',
    );
    const unknown = withEdits(stackConfig("dev.shop"), [
      [
        ["blueprint:apps", "backend", "services"],
        ["db", "search"],
      ],
    ]);
    expect(await teamProblems(unknown, "dev.shop")).toContainEqual(
      expect.stringContaining(
        'names "search", which the platform stack "dev.platform" does not grant this team (granted: cache, db)',
      ),
    );
  });

  it("refuses a service bound twice", async () => {
    const cfg = withEdits(stackConfig("dev.shop"), [
      [
        ["blueprint:apps", "backend", "services"],
        ["db", "db"],
      ],
    ]);
    expect(await teamProblems(cfg, "dev.shop")).toContainEqual('blueprint:apps.backend.services names "db" twice');
  });

  it("refuses an app variable that clashes with a binding's", async () => {
    const cfg = withEdits(stackConfig("dev.shop"), [[["blueprint:apps", "backend", "config", "DB_HOST"], "localhost"]]);
    expect(await teamProblems(cfg, "dev.shop")).toContainEqual(
      'blueprint:apps.backend.config.DB_HOST clashes with the variable the binding of service "db" sets; remove it (the binding gives DB_HOST)',
    );
  });

  it("counts in-cluster services against the team's quota", async () => {
    const cfg = withEdits(stackConfig("dev.shop"), [[["blueprint:apps", "backend", "replicas"], 4]]);
    const lookup = await contractLookup("dev.shop", (c) => {
      Object.assign(c.quota as Record<string, unknown>, { pods: 9, "limits.cpu": "4" });
    });
    const found = collect(() => parseTeam(cfg.config, "dev.shop", "blueprint", new Set(cfg.secretKeys), lookup));
    // frontend 2 + backend 5 (4 and a surge) + the two instances = 9 fits; one more replica does not.
    expect(found).toEqual([]);
    const more = withEdits(stackConfig("dev.shop"), [[["blueprint:apps", "backend", "replicas"], 5]]);
    expect(
      collect(() => parseTeam(more.config, "dev.shop", "blueprint", new Set(more.secretKeys), lookup)),
    ).toContainEqual(expect.stringMatching(/^blueprint:apps need 10 of pods at maximum scale/));
  });
});
