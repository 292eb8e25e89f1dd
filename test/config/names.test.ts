import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parsePlatform, parseTeam } from "../../config/load";
import { auditStack } from "../../tools/audit";
import { main as teamMain } from "../../tools/team";
import {
  collect,
  contractLookup,
  onExistingCluster,
  PROJECT_DIR,
  stackConfig,
  withEdits,
  type KeyPath,
} from "../helpers/program";
import type { StackConfig } from "../../lib/project";

/** Names Kubernetes reserves, identities it grants everyone, and names that collide after joining. */

const platform = (stack: string, ...edits: Array<[KeyPath, unknown]>) => withEdits(stackConfig(stack), edits);
const platformProblems = (cfg: StackConfig, stack: string) =>
  collect(() => parsePlatform(cfg.config, stack, "blueprint", new Set(cfg.secretKeys)));
const team = (_name: string, extra: Record<string, unknown> = {}) => ({
  groups: { maintainers: [], viewers: [] },
  ...extra,
});

describe("a team name is never a namespace Kubernetes, the cloud or the platform's add-ons use", () => {
  it.each<[string, string, StackConfig | undefined, RegExp]>([
    [
      "kube-system",
      "dev.platform",
      undefined,
      /teams\.kube-system cannot be a team name: .*starts with "kube-", which Kubernetes reserves/,
    ],
    ["kube-public", "prod-gke.platform", undefined, /teams\.kube-public cannot be a team name/],
    ["kube-anything", "local.platform", undefined, /teams\.kube-anything cannot be a team name/],
    [
      "default",
      "dev.platform",
      undefined,
      /teams\.default cannot be a team name: .*"default" is a namespace Kubernetes or the platform's add-ons use/,
    ],
    [
      "amazon-cloudwatch",
      "dev.platform",
      undefined,
      /teams\.amazon-cloudwatch cannot be a team name: .*amazon-cloudwatch/,
    ],
    // The platform's namespace for the users Job of managed databases, outside every team policy.
    [
      "blueprint-data",
      "prod.platform",
      undefined,
      /teams\.blueprint-data cannot be a team name: .*"blueprint-data" is a namespace Kubernetes or the platform's add-ons use/,
    ],
    ["blueprint-data", "prod-gke.platform", undefined, /teams\.blueprint-data cannot be a team name/],
    // The observability namespaces, also where the environment does not run them yet.
    [
      "logging",
      "prod.platform",
      undefined,
      /teams\.logging cannot be a team name: .*"logging" is a namespace Kubernetes or the platform's add-ons use/,
    ],
    ["monitoring", "prod-gke.platform", undefined, /teams\.monitoring cannot be a team name/],
    ["opensearch", "local.platform", undefined, /teams\.opensearch cannot be a team name/],
    ["gmp-system", "prod-gke.platform", undefined, /teams\.gmp-system cannot be a team name: .*"gmp-"/],
    ["gke-managed-system", "prod-gke.platform", undefined, /teams\.gke-managed-system cannot be a team name/],
    [
      "ingress-nginx",
      "dev.platform",
      onExistingCluster(stackConfig("dev.platform")),
      /teams\.ingress-nginx cannot be a team name: .*ingress-nginx/,
    ],
    [
      "traefik",
      "dev.platform",
      onExistingCluster(stackConfig("dev.platform"), {
        context: "test",
        ingressClass: "traefik",
        ingressNamespace: "traefik",
      }),
      /teams\.traefik cannot be a team name: .*traefik/,
    ],
  ])("refuses %s on %s, naming the file and key", (name, stack, base, message) => {
    const cfg = withEdits(base ?? stackConfig(stack), [[["blueprint:teams", name], team(name)]]);
    const found = platformProblems(cfg, stack);
    expect(found).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^blueprint:${message.source}`))]));
  });

  it.each<[string, string]>([
    ["kubeflow", "dev.platform"],
    ["defaults", "dev.platform"],
    ["gke-team", "dev.platform"],
    ["amazon-shop", "prod-gke.platform"],
    ["ingress-nginx", "dev.platform"],
  ])("accepts %s on %s (another cloud reserves it, or it only looks alike)", (name, stack) => {
    const cfg = platform(stack, [["blueprint:teams", name], team(name)]);
    expect(platformProblems(cfg, stack).filter((p) => p.includes(`teams.${name}`))).toEqual([]);
  });

  it("is refused by `npm run team -- add`, which writes nothing", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "names-"));
    try {
      fs.writeFileSync(
        path.join(dir, "Pulumi.yaml"),
        `name: blueprint\nruntime: nodejs\nmain: ${path.join(PROJECT_DIR, "index.ts")}\nstackConfigDir: stacks\n`,
      );
      fs.cpSync(path.join(PROJECT_DIR, "stacks"), path.join(dir, "stacks"), { recursive: true });
      const before = fs.readdirSync(path.join(dir, "stacks")).sort();
      const err: string[] = [];
      const code = await teamMain(
        ["add", "kube-system", "--environments", "dev"],
        { projectDir: dir },
        () => {},
        (l) => err.push(l),
      );
      expect(code).toBe(1);
      expect(err.join("\n")).toMatch(
        /stacks\/Pulumi\.dev\.platform\.yaml: blueprint:teams\.kube-system cannot be a team name/,
      );
      expect(fs.readdirSync(path.join(dir, "stacks")).sort()).toEqual(before);
      const groupErr: string[] = [];
      expect(
        await teamMain(
          ["add", "billing", "--environments", "dev", "--maintainers", "system:masters"],
          { projectDir: dir },
          () => {},
          (l) => groupErr.push(l),
        ),
      ).toBe(1);
      expect(groupErr.join("\n")).toMatch(
        /blueprint:teams\.billing\.groups\.maintainers "system:masters" is a Kubernetes system identity/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a group is never a Kubernetes system identity", () => {
  it.each<[string, StackConfig, string, string]>([
    ["EKS", stackConfig("dev.platform"), "dev.platform", "system:masters"],
    ["GKE", stackConfig("prod-gke.platform"), "prod-gke.platform", "system:authenticated"],
    ["an existing cluster", stackConfig("local.platform"), "local.platform", "system:serviceaccounts"],
    [
      "an existing cluster, in any case",
      onExistingCluster(stackConfig("dev.platform")),
      "dev.platform",
      "SYSTEM:masters",
    ],
  ])("refuses one on %s, naming the file and key", (_cloud, base, stack, group) => {
    const cfg = withEdits(base, [[["blueprint:teams", "shop", "groups", "viewers"], [group]]]);
    expect(platformProblems(cfg, stack)).toEqual(
      expect.arrayContaining([
        `blueprint:teams.shop.groups.viewers "${group}" is a Kubernetes system identity (names starting with "system:" are granted by Kubernetes itself, e.g. system:authenticated to every signed-in user): name the identity provider's group of the team`,
      ]),
    );
  });

  it("accepts groups that only contain the word", () => {
    const cfg = platform("local.platform", [
      ["blueprint:teams", "shop", "groups", "viewers"],
      ["ops-system:viewers", "systems"],
    ]);
    expect(platformProblems(cfg, "local.platform")).toEqual([]);
  });
});

const SA = (team: string, sas: string[]) => ({
  cloudIdentity: `${team.replace(/[^a-z]/g, "")}-app@acme-blueprint-prod.iam.gserviceaccount.com`,
  serviceAccounts: sas,
});

describe("names joined from parts never collide", () => {
  it("refuses team shop with ServiceAccount api-x beside team shop-api with x (one IAM binding name on GKE)", () => {
    const cfg = platform(
      "prod-gke.platform",
      [["blueprint:teams", "shop", "identities"], { api: SA("shop", ["api-x"]) }],
      [
        ["blueprint:teams", "shop-api"],
        { groups: { maintainers: ["shop-api@example.com"], viewers: [] }, identities: { x: SA("shopapi", ["x"]) } },
      ],
    );
    expect(platformProblems(cfg, "prod-gke.platform")).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^blueprint:teams\.shop-api\.identities\.x\.serviceAccounts "x" of team "shop-api" and teams\.shop\.identities\.api ServiceAccount "api-x" join to the same name "shop-api-x"/,
        ),
      ]),
    );
  });

  it("refuses one ServiceAccount bound to two identities, on every cloud", () => {
    const cfg = platform("dev.platform", [
      ["blueprint:teams", "shop", "identities"],
      {
        a: { cloudIdentity: "arn:aws:iam::123456789012:role/a", serviceAccounts: ["backend"] },
        b: { cloudIdentity: "arn:aws:iam::123456789012:role/b", serviceAccounts: ["backend"] },
      },
    ]);
    expect(platformProblems(cfg, "dev.platform")).toEqual([
      'blueprint:teams.shop.identities.b.serviceAccounts "backend" is already bound by teams.shop.identities.a ServiceAccount "backend": a ServiceAccount carries one cloud identity',
    ]);
  });

  it("accepts distinct joins, and the same ServiceAccount name in two teams", () => {
    const cfg = platform(
      "prod-gke.platform",
      [["blueprint:teams", "shop", "identities"], { api: SA("shop", ["api"]) }],
      [["blueprint:teams", "payments", "identities"], { api: SA("payments", ["api"]) }],
    );
    expect(platformProblems(cfg, "prod-gke.platform")).toEqual([]);
  });

  const teamProblems = async (cfg: StackConfig) =>
    collect(() => parseTeam(cfg.config, "dev.shop", "blueprint", new Set(cfg.secretKeys), lookup));
  let lookup: Awaited<ReturnType<typeof contractLookup>>;
  beforeAll(async () => {
    lookup = await contractLookup("dev.shop");
  });
  const backend = () => stackConfig("dev.shop");
  const app = (cfg: StackConfig, name: string) =>
    JSON.parse(cfg.config["blueprint:apps"])[name] as Record<string, unknown>;

  it("refuses an app named like another app's release Job ServiceAccount (<app>-admin)", async () => {
    const base = withEdits(backend(), [[["blueprint:apps", "backend", "releaseJob"], { command: ["./migrate"] }]]);
    const cfg = withEdits(base, [[["blueprint:apps", "backend-admin"], app(base, "backend")]]);
    expect(await teamProblems(cfg)).toEqual(
      expect.arrayContaining([
        `blueprint:apps.backend-admin app name "backend-admin" is also the ServiceAccount of app "backend"'s release Job (<app>-admin): two ServiceAccounts of one name; rename the app`,
      ]),
    );
  });

  it("accepts an app named <app>-admin when that app has no release Job", async () => {
    const cfg = withEdits(backend(), [[["blueprint:apps", "backend-admin"], app(backend(), "backend")]]);
    expect((await teamProblems(cfg)).filter((p) => p.includes("ServiceAccount"))).toEqual([]);
  });

  it("refuses an app named default (the namespace's own ServiceAccount)", async () => {
    const cfg = withEdits(backend(), [[["blueprint:apps", "default"], app(backend(), "backend")]]);
    expect(await teamProblems(cfg)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/blueprint:apps\.default app name "default" is the namespace's own ServiceAccount/),
      ]),
    );
  });

  it("is refused by the audit too, before any resource", async () => {
    const cfg = platform(
      "prod-gke.platform",
      [["blueprint:teams", "shop", "identities"], { api: SA("shop", ["api-x"]) }],
      [
        ["blueprint:teams", "shop-api"],
        { groups: { maintainers: ["shop-api@example.com"], viewers: [] }, identities: { x: SA("shopapi", ["x"]) } },
      ],
    );
    const result = await auditStack({ projectDir: PROJECT_DIR, stack: "prod-gke.platform", config: cfg });
    expect(result.code).toBe(1);
    expect(result.err.join("\n")).toMatch(
      /stacks\/Pulumi\.prod-gke\.platform\.yaml: blueprint:teams\.shop-api\.identities\.x\.serviceAccounts .*join to the same name "shop-api-x"/,
    );
  });
});

describe("one EKS access entry per principal", () => {
  const ROLE = "arn:aws:iam::123456789012:role/platform-admins";
  it("refuses an admin role that is also a group's role, and an admin role given twice", () => {
    const cfg = platform(
      "dev.platform",
      [
        ["blueprint:cluster", "aws", "adminRoleArns"],
        [ROLE, ROLE.replace("platform-admins", "Platform-Admins")],
      ],
      [["blueprint:cluster", "aws", "groupRoles"], { "shop-developers": ROLE }],
    );
    const found = platformProblems(cfg, "dev.platform");
    expect(found).toEqual([
      expect.stringMatching(
        /^blueprint:cluster\.aws\.adminRoleArns names arn:aws:iam::123456789012:role\/Platform-Admins, which already has an access entry as aws\.adminRoleArns: EKS allows one access entry per principal/,
      ),
      expect.stringMatching(
        /blueprint:cluster\.aws\.groupRoles\.shop-developers names arn:aws:iam::123456789012:role\/platform-admins, which already has an access entry as aws\.adminRoleArns/,
      ),
    ]);
  });

  it("accepts two groups mapped to one role (one entry lists both groups)", () => {
    const cfg = platform("dev.platform", [
      ["blueprint:cluster", "aws", "groupRoles"],
      { "shop-developers": ROLE, "shop-support": ROLE },
    ]);
    expect(platformProblems(cfg, "dev.platform")).toEqual([]);
  });
});

describe("the reserved observability namespaces", () => {
  it("are the namespaces the platform's observability runs in", async () => {
    const { observabilityNamespaces } = await import("../../components/observability");
    const { OBSERVABILITY_NAMESPACES } = await import("../../lib/namespaces");
    expect([...OBSERVABILITY_NAMESPACES].sort()).toEqual(
      Object.values(observabilityNamespaces)
        .map((n) => n.name)
        .sort(),
    );
  });
});
