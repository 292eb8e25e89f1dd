import { parsePlatform, parseTeam } from "../../config/load";
import { closest, editDistance } from "../../lib/names";
import { peakPods, rolloutStrategy } from "../../config/derive";
import {
  contractLookup,
  getObject,
  onExistingCluster,
  runStack,
  setConfig,
  stackConfig,
  withEdits,
  collect,
  type KeyPath,
} from "../helpers/program";
import type { StackConfig } from "../../lib/project";

/** The dev shop team stack, with edits applied. */
function dev(...edits: Array<[KeyPath, unknown]>): StackConfig {
  return withEdits(stackConfig("dev.shop"), edits);
}

/** The dev platform stack on an existing cluster, with edits applied. */
function devPlatform(...edits: Array<[KeyPath, unknown]>): StackConfig {
  return withEdits(onExistingCluster(stackConfig("dev.platform")), edits);
}

/**
 * A team stack's problems against its shipped platform's contract, with every ingress host the
 * apps name allowed (these tests are about the hosts' form, not about who may serve them).
 */
async function problems(cfg: StackConfig, stack = "dev.shop"): Promise<string[]> {
  const apps = JSON.parse(cfg.config["blueprint:apps"] ?? "{}") as Record<string, { ingress?: { host?: string } }>;
  const lookup = await contractLookup(stack, (c) => {
    const hosts = (c.ingress as { hosts: Record<string, unknown> }).hosts;
    for (const app of Object.values(apps))
      if (typeof app?.ingress?.host === "string") hosts[app.ingress.host] = { annotations: {}, tls: "host" };
  });
  return collect(() => parseTeam(cfg.config, stack, "blueprint", new Set(cfg.secretKeys), lookup));
}

function platformProblems(cfg: StackConfig, stack = "dev.platform"): string[] {
  return collect(() => parsePlatform(cfg.config, stack, "blueprint", new Set(cfg.secretKeys)));
}

/** Moves a key to another namespace, as a typo in the stack file would. */
function renamed(cfg: StackConfig, from: string, to: string): StackConfig {
  cfg.config[to] = cfg.config[from];
  delete cfg.config[from];
  return cfg;
}

describe("config keys outside the namespaces the program reads", () => {
  it("refuses a misspelt project namespace, suggesting the key it resembles", async () => {
    expect(
      await problems(renamed(stackConfig("prod.shop"), "blueprint:apps", "blueprnt:apps"), "prod.shop"),
    ).toContainEqual(
      'blueprnt:apps is in namespace "blueprnt", which this program does not read; did you mean blueprint:apps? (namespaces: blueprint, pulumi, aws, gcp, kubernetes)',
    );
  });

  it("refuses an unknown Pulumi setting, suggesting the one it resembles", async () => {
    expect(
      await problems(
        renamed(stackConfig("dev.shop"), "pulumi:disable-default-providers", "pulumi:disable-default-provider"),
      ),
    ).toEqual([
      "pulumi:disable-default-provider is not a Pulumi setting this project uses; did you mean pulumi:disable-default-providers? (allowed: pulumi:disable-default-providers, pulumi:tags)",
    ]);
  });

  it("refuses an unknown key of the project's namespace with a suggestion", async () => {
    expect(
      platformProblems(renamed(stackConfig("dev.platform"), "blueprint:teams", "blueprint:team"), "dev.platform"),
    ).toContainEqual(expect.stringMatching(/^blueprint:team is not a known key; did you mean blueprint:teams\?/));
  });

  it("accepts provider settings a stack may carry (aws:, gcp:, kubernetes:)", async () => {
    expect(
      await problems(
        dev(["aws:region", "eu-west-1"], ["gcp:project", "acme"], ["kubernetes:enableServerSideApply", "true"]),
      ),
    ).toEqual([]);
  });

  it("suggests only close names", async () => {
    expect(editDistance("blueprnt", "blueprint")).toBe(1);
    expect(closest("colour", ["cluster", "apps", "teams"])).toBeUndefined();
  });
});

describe("production has no default", () => {
  it("refuses a stack that does not state it", async () => {
    expect(await problems(dev(["blueprint:production", undefined]))).toEqual([
      "blueprint:production is required (boolean)",
    ]);
    expect(platformProblems(devPlatform(["blueprint:production", undefined]))).toEqual([
      "blueprint:production is required (boolean)",
    ]);
  });
});

describe("names that are also JavaScript object members", () => {
  it("treats a team named like an Object member as absent from the contract until the platform defines it", async () => {
    const cfg = setConfig(dev(), "blueprint:team", "constructor");
    expect(
      collect(() => parseTeam(cfg.config, "dev.constructor", "blueprint", new Set(), { found: true, value: {} })),
    ).toContainEqual(
      'blueprint:team names team "constructor", which the platform stack "dev.platform" does not provision (teams: none); add it to blueprint:teams of dev.platform',
    );
  });

  it("finds no inherited volume, secret value or image behind such names", async () => {
    const found = await problems(
      dev(
        ["blueprint:apps.backend.volumeMounts", { toString: "/data" }],
        ["blueprint:apps.backend.secrets", ["constructor"]],
        ["blueprint:apps.backend.image", "hasOwnProperty"],
      ),
    );
    expect(found).toContainEqual(
      expect.stringMatching(
        /^blueprint:apps\.backend\.volumeMounts\.toString names a volume that is not in blueprint:volumes/,
      ),
    );
    expect(found).toContainEqual(expect.stringMatching(/^blueprint:secrets\.backend\.constructor has no value/));
    expect(found).toContainEqual(
      expect.stringMatching(/^blueprint:apps\.backend\.image names an image that is not in blueprint:release\.images/),
    );
  });

  it("refuses __proto__ and toString as names instead of dropping them or failing in the SDK", async () => {
    const cfg = dev();
    cfg.config["blueprint:apps"] = cfg.config["blueprint:apps"].replace(
      '"config":{"PODINFO_LEVEL":"debug"}',
      '"config":{"PODINFO_LEVEL":"debug","__proto__":"x"}',
    );
    setConfig(cfg, "blueprint:apps.frontend.config.toString", "x");
    const found = await problems(cfg);
    expect(found).toContainEqual(
      expect.stringMatching(
        /^blueprint:apps\.backend\.config\.__proto__ cannot be used as a name: JavaScript reserves it/,
      ),
    );
    expect(found).toContainEqual(
      expect.stringMatching(
        /^blueprint:apps\.frontend\.config\.toString cannot be used as a name: the Pulumi SDK cannot send/,
      ),
    );
    const platform = devPlatform();
    platform.config["blueprint:teams"] = platform.config["blueprint:teams"].replace(/^\{/, '{"__proto__":{},');
    expect(platformProblems(platform)).toContainEqual(
      expect.stringMatching(/^blueprint:teams\.__proto__ cannot be used as a name/),
    );
  });

  it("renders env vars, a team and an app named like Object members", async () => {
    const cfg = dev(
      ["blueprint:apps.backend.config.hasOwnProperty", "yes"],
      ["blueprint:apps.backend.config.constructor", "also"],
    );
    const platformCfg = stackConfig("dev.platform");
    const teams = JSON.parse(platformCfg.config["blueprint:teams"]);
    teams.constructor = teams.payments;
    setConfig(platformCfg, "blueprint:teams", teams);
    const platform = await runStack("dev.platform", platformCfg);
    getObject(platform, "Namespace", "constructor");
    setConfig(cfg, "blueprint:team", "constructor");
    const apps = JSON.parse(cfg.config["blueprint:apps"]);
    // The team gets payments' grants, which have no backing services to bind.
    apps.backend.services = [];
    apps.constructor = { ...apps.backend, config: { A: "1" } };
    delete apps.frontend;
    setConfig(cfg, "blueprint:apps", apps);
    const result = await runStack("dev.constructor", cfg, { stacks: { "dev.platform": platform.stackOutputs } });
    getObject(result, "Deployment", "constructor/constructor");
    const cm = result.objects.find(
      (o) => o.kind === "ConfigMap" && (o.metadata as { name: string }).name.startsWith("backend-config"),
    ) as { data: Record<string, string> };
    expect(Object.hasOwn(cm.data, "hasOwnProperty") && Object.hasOwn(cm.data, "constructor")).toBe(true);
  });
});

describe("group names that collide in the cloud", () => {
  it("gives a group named constructor its own IAM role on EKS, not an inherited groupRoles entry", async () => {
    const cfg = stackConfig("dev.platform");
    setConfig(cfg, "blueprint:teams.shop.groups.viewers", ["constructor"]);
    const result = await runStack("dev.platform", cfg);
    const entries = result.resources
      .filter((r) => r.type === "aws:eks/accessEntry:AccessEntry")
      .map((r) => (r.inputs as { kubernetesGroups?: string[] }).kubernetesGroups);
    expect(entries).toContainEqual(["constructor"]);
    expect(result.resources.some((r) => r.type === "aws:iam/role:Role" && r.name.endsWith("-group-constructor"))).toBe(
      true,
    );
  });

  it("refuses groups that differ only by case", async () => {
    expect(platformProblems(devPlatform(["blueprint:teams.shop.groups.viewers", ["Shop-Developers"]]))).toEqual([
      'blueprint:teams.shop.groups.viewers "Shop-Developers" and "shop-developers" would become the same cloud identity (group names are compared without case); spell the group the same way everywhere',
    ]);
  });

  it("refuses groups that become the same IAM role name on EKS", async () => {
    const cfg = stackConfig("dev.platform");
    setConfig(cfg, "blueprint:teams.shop.groups.viewers", ["shop.developers"]);
    expect(platformProblems(cfg)).toContainEqual(
      expect.stringMatching(
        /"shop\.developers" and "shop-developers" would become the same cloud identity \(IAM role and access entry "shop-developers"\)/,
      ),
    );
  });
});

describe("what the Kubernetes API or Pulumi would refuse", () => {
  it("refuses integers beyond int32", async () => {
    expect(await problems(dev(["blueprint:apps.backend.replicas", 2 ** 31]))).toEqual([
      "blueprint:apps.backend.replicas must be at most 2147483647, got 2147483648",
    ]);
    expect(await problems(dev(["blueprint:apps.backend.probes.readiness.periodSeconds", 2 ** 31 - 1]))).toEqual([]);
  });

  it("refuses config that does not fit in a ConfigMap, and keys longer than a ConfigMap key", async () => {
    expect(await problems(dev(["blueprint:apps.backend.config.BIG", "x".repeat(1024 * 1024)]))).toEqual([
      "blueprint:apps.backend.config adds up to 1048581 bytes: a ConfigMap holds at most 1048576 (1 MiB); move large content into the image or a volume",
    ]);
    expect(await problems(dev(["blueprint:apps.backend.config.BIG", "x".repeat(1024 * 1000)]))).toEqual([]);
    expect(await problems(dev([["blueprint:apps", "backend", "config", `A${"B".repeat(253)}`], "1"]))).toEqual([
      `blueprint:apps.backend.config.A${"B".repeat(39)}... is 254 characters long: ConfigMap keys have at most 253`,
    ]);
  });

  it("refuses secret values that do not fit in a Secret", async () => {
    const cfg = dev(
      ["blueprint:apps.backend.secrets", ["TOKEN"]],
      ["blueprint:secrets.backend.TOKEN", "x".repeat(1024 * 1024 + 1)],
    );
    cfg.secretKeys.push("blueprint:secrets");
    expect(await problems(cfg)).toEqual([
      "blueprint:secrets.backend values add up to 1048577 bytes: a Secret holds at most 1048576 (1 MiB)",
    ]);
  });

  it.each(["/a//b", "/a/./b", "/a/../b", "/a/..", "/a/.", "/a%2Fb"])(
    "refuses the Prefix path %s the API rejects",
    async (path) => {
      expect(await problems(dev(["blueprint:apps.frontend.ingress", { host: "shop.example.com", path }]))).toEqual([
        expect.stringMatching(
          /^blueprint:apps\.frontend\.ingress\.path must not contain ".*" \(the Kubernetes API refuses such Prefix paths\)/,
        ),
      ]);
    },
  );

  it("refuses Prefix paths of two apps that overlap on the same host, and accepts disjoint ones", async () => {
    const ingress = (frontend: string, backend: string, host2 = "shop.example.com") =>
      dev(
        ["blueprint:apps.frontend.ingress", { host: "shop.example.com", path: frontend }],
        ["blueprint:apps.backend.ingress", { host: host2, path: backend }],
      );
    expect(await problems(ingress("/", "/api"))).toEqual([
      'blueprint:apps.backend.ingress.path shop.example.com/api overlaps shop.example.com/ of app "frontend" (Prefix paths match whole path elements, so one app\'s requests would reach the other); give the apps different hosts or disjoint paths',
    ]);
    expect(await problems(ingress("/api/", "/api/v1"))).toEqual([
      'blueprint:apps.backend.ingress.path shop.example.com/api/v1 overlaps shop.example.com/api/ of app "frontend" (Prefix paths match whole path elements, so one app\'s requests would reach the other); give the apps different hosts or disjoint paths',
    ]);
    expect(await problems(ingress("/api", "/apis"))).toEqual([]);
    expect(await problems(ingress("/", "/", "api.example.com"))).toEqual([]);
  });

  it("refuses custom timeouts that are not durations", async () => {
    expect(
      platformProblems(devPlatform(["blueprint:platform.customTimeouts", { create: "10 minutes", update: "0s" }])),
    ).toEqual([
      'blueprint:platform.customTimeouts.create must be a duration such as "10m", "1h30m" or "90s", got "10 minutes"',
      'blueprint:platform.customTimeouts.update must be longer than 0, got "0s"',
    ]);
    expect(
      platformProblems(devPlatform(["blueprint:platform.customTimeouts", { create: "1h30m", delete: "90s" }])),
    ).toEqual([]);
    expect(await problems(dev(["blueprint:customTimeouts", { update: "5 min" }]))).toEqual([
      'blueprint:customTimeouts.update must be a duration such as "10m", "1h30m" or "90s", got "5 min"',
    ]);
    expect(await problems(dev(["blueprint:customTimeouts", { update: "5m" }]))).toEqual([]);
  });

  it("refuses quantities and paths with stray whitespace, which the API would not parse", async () => {
    expect(platformProblems(devPlatform([["blueprint:teams", "shop", "quota", "requests.cpu"], "1\n"]))).toContainEqual(
      expect.stringMatching(/^blueprint:teams\.shop\.quota\.requests\.cpu must be a Kubernetes quantity/),
    );
    expect(await problems(dev(["blueprint:apps.backend.probes.readiness.path", "/readyz "]))).toEqual([
      'blueprint:apps.backend.probes.readiness.path must be an absolute HTTP path without whitespace, got "/readyz "',
    ]);
  });

  it("refuses quantities beyond the API's int64 and host names the API would not take", async () => {
    expect(await problems(dev(["blueprint:apps.backend.resources.limits.memory", "1e400"]))).toContainEqual(
      expect.stringMatching(/^blueprint:apps\.backend\.resources\.limits\.memory must be a Kubernetes quantity/),
    );
    expect(await problems(dev(["blueprint:apps.backend.resources.limits.memory", "9Ei"]))).toContainEqual(
      expect.stringMatching(/must be a Kubernetes quantity/),
    );
    expect(await problems(dev(["blueprint:apps.frontend.ingress", { host: `${"a".repeat(64)}.example.com` }]))).toEqual(
      [
        `blueprint:apps.frontend.ingress.host must have labels of at most 63 characters, got "${"a".repeat(64)}.example.com"`,
      ],
    );
    expect(await problems(dev(["blueprint:apps.frontend.ingress", { host: `${"a".repeat(63)}.example.com` }]))).toEqual(
      [],
    );
  });

  it("refuses label values over 63 characters or not ending alphanumeric", async () => {
    expect(await problems(dev(["blueprint:apps.backend.component", `a${"b".repeat(63)}`]))).toEqual([
      `blueprint:apps.backend.component must be at most 63 characters, got "a${"b".repeat(63)}"`,
    ]);
    expect(await problems(dev(["blueprint:release.id", "r-1-"]))).toEqual([
      'blueprint:release.id must end with a letter or digit (it is the app.kubernetes.io/version label), got "r-1-"',
    ]);
  });
});

describe("rollouts that cannot work", () => {
  const withVolume = (replicas: number, accessMode: string) =>
    dev(
      ["blueprint:volumes.data", { size: "1Gi", accessMode }],
      ["blueprint:apps.backend.volumeMounts", { data: "/data" }],
      ["blueprint:apps.backend.replicas", replicas],
    );

  it("rolls a single pod with a ReadWriteOnce volume out by Recreate", async () => {
    const result = await runStack("dev.shop", withVolume(1, "ReadWriteOnce"));
    expect((getObject(result, "Deployment", "shop/backend").spec as { strategy: unknown }).strategy).toEqual({
      type: "Recreate",
    });
    expect(
      (getObject(result, "Deployment", "shop/frontend").spec as { strategy: { type: string } }).strategy.type,
    ).toBe("RollingUpdate");
  });

  it("keeps a rolling update when the volume is shared or the rollout does not surge", async () => {
    const team = { volumes: { data: { size: "1Gi", accessMode: "ReadWriteMany" } } };
    const app = { replicas: 1, volumeMounts: { data: "/data" }, rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
    expect(rolloutStrategy(app as never, team as never)).toBe("RollingUpdate");
    expect(
      rolloutStrategy(
        { ...app, rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } } as never,
        { volumes: { data: { ...team.volumes.data, accessMode: "ReadWriteOnce" } } } as never,
      ),
    ).toBe("RollingUpdate");
    expect(
      rolloutStrategy(
        app as never,
        { volumes: { data: { ...team.volumes.data, accessMode: "ReadWriteOncePod" } } } as never,
      ),
    ).toBe("Recreate");
  });

  it("counts no surge pod against the quota for an app that rolls out by Recreate", async () => {
    const app = { replicas: 1, volumeMounts: { data: "/data" }, rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
    expect(peakPods(app as never, { volumes: { data: { size: "1Gi", accessMode: "ReadWriteOnce" } } } as never)).toBe(
      1,
    );
    expect(peakPods(app as never, { volumes: { data: { size: "1Gi", accessMode: "ReadWriteMany" } } } as never)).toBe(
      2,
    );
  });

  it("still refuses a ReadWriteOnce volume on more than one replica, naming the fix", async () => {
    expect(await problems(withVolume(2, "ReadWriteOnce"))).toContainEqual(
      expect.stringMatching(
        /volumeMounts\.data volume is ReadWriteOnce but the app runs up to 2 replicas .*use ReadWriteMany or one replica/,
      ),
    );
  });
});
