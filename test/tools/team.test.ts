import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { launch } from "../helpers/cli";
import { runProgram } from "../../tools/offline/run";
import { readProject, readStackConfig } from "../../lib/project";
import { snapshot, team, tempProject } from "../helpers/team";

const read = (dir: string, stack: string) => fs.readFileSync(path.join(dir, "stacks", `Pulumi.${stack}.yaml`), "utf8");
const config = (dir: string, stack: string) =>
  (parseYaml(read(dir, stack)) as { config: Record<string, unknown> }).config;

/** Whether `lines` appear in `text` in the same order (other lines may sit between them). */
function inOrder(lines: readonly string[], text: string): boolean {
  const have = text.split("\n");
  let i = 0;
  for (const line of have) if (i < lines.length && line === lines[i]) i++;
  return i === lines.length;
}

/** Runs a stack of the temp project as the render does, its platform's outputs answering its StackReference. */
async function render(dir: string, env: string, teamName: string) {
  const project = readProject(dir);
  const platform = await runProgram({
    projectDir: dir,
    stack: `${env}.platform`,
    config: readStackConfig(project, `${env}.platform`),
  });
  const teamRun = await runProgram({
    projectDir: dir,
    stack: `${env}.${teamName}`,
    config: readStackConfig(project, `${env}.${teamName}`),
    stacks: { [`${env}.platform`]: platform.stackOutputs },
  });
  return { platform, team: teamRun };
}

describe("npm run team -- add", () => {
  let dir: string;
  beforeEach(() => {
    dir = tempProject();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("provisions the team in every environment, and the written stacks render", async () => {
    const before = snapshot(dir);
    const r = await team(
      dir,
      "add",
      "billing",
      "--maintainers",
      "billing-maintainers@example.com",
      "--viewers",
      "billing-support@example.com",
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    for (const env of ["dev", "staging", "prod", "prod-gke", "local"]) {
      const entry = (
        config(dir, `${env}.platform`)["blueprint:teams"] as Record<
          string,
          { groups: unknown; quota: Record<string, unknown> }
        >
      ).billing;
      expect(entry.groups).toEqual({
        maintainers: ["billing-maintainers@example.com"],
        viewers: ["billing-support@example.com"],
      });
      const stack = config(dir, `${env}.billing`);
      expect(stack["blueprint:layer"]).toBe("team");
      expect(stack["blueprint:team"]).toBe("billing");
      expect(stack["blueprint:production"]).toBe(config(dir, `${env}.platform`)["blueprint:production"]);
      expect(stack["blueprint:apps"]).toBeUndefined();
      expect(stack["blueprint:release"]).toEqual({ images: {} });
    }
    const { platform, team: teamRun } = await render(dir, "dev", "billing");
    const namespaces = platform.objects
      .filter((o) => o.kind === "Namespace")
      .map((o) => (o.metadata as { name: string }).name);
    expect(namespaces).toContain("billing");
    const quota = platform.objects.find(
      (o) => o.kind === "ResourceQuota" && (o.metadata as { namespace?: string }).namespace === "billing",
    );
    expect((quota?.spec as { hard: Record<string, unknown> }).hard.pods).toBe("40");
    expect(teamRun.outputs.namespace).toBe("billing");
    // The shipped teams are untouched.
    for (const [file, text] of before)
      if (/Pulumi\.[a-z-]+\.(shop|payments)\.yaml$/.test(file)) expect(snapshot(dir).get(file)).toBe(text);
  }, 180_000);

  it("keeps every comment and every other key of the platform files, adding only lines", async () => {
    const before = snapshot(dir);
    expect((await team(dir, "add", "billing", "--environments", "dev,prod")).code).toBe(0);
    for (const env of ["dev", "prod"]) {
      const file = `stacks/Pulumi.${env}.platform.yaml`;
      const after = read(dir, `${env}.platform`);
      const original = before.get(file)!;
      expect(inOrder(original.split("\n"), after)).toBe(true);
      expect(after.split("\n").length).toBeGreaterThan(original.split("\n").length);
      const { "blueprint:teams": teamsAfter, ...restAfter } = config(dir, `${env}.platform`);
      const { "blueprint:teams": teamsBefore, ...restBefore } = (
        parseYaml(original) as { config: Record<string, unknown> }
      ).config;
      expect(restAfter).toEqual(restBefore);
      expect(Object.keys(teamsAfter as object)).toEqual([...Object.keys(teamsBefore as object), "billing"]);
    }
    expect(snapshot(dir).get("stacks/Pulumi.staging.platform.yaml")).toBe(
      before.get("stacks/Pulumi.staging.platform.yaml"),
    );
    expect(fs.existsSync(path.join(dir, "stacks/Pulumi.staging.billing.yaml"))).toBe(false);
  }, 120_000);

  it("marks the group principals a production EKS platform needs as placeholders that trust no one", async () => {
    const r = await team(dir, "add", "billing", "--maintainers", "billing-maintainers", "--environments", "prod");
    expect(r.code).toBe(0);
    const text = read(dir, "prod.platform");
    expect(text).toMatch(/# REPLACE: who may act as "billing-maintainers"/);
    const cluster = config(dir, "prod.platform")["blueprint:cluster"] as {
      aws: { groupPrincipals: Record<string, string[]> };
    };
    expect(cluster.aws.groupPrincipals["billing-maintainers"]).toEqual([
      "arn:aws:iam::123456789012:role/REPLACE-ME/billing-maintainers",
    ]);
    expect(r.stdout).toMatch(/groupPrincipals\.billing-maintainers is a placeholder/);
  }, 120_000);

  it("prints the files written and the next steps", async () => {
    const r = await team(dir, "add", "billing", "--environments", "dev");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("created stacks/Pulumi.dev.billing.yaml");
    expect(r.stdout).toContain("changed stacks/Pulumi.dev.platform.yaml");
    expect(r.stdout).toContain("pulumi up -s dev.platform");
    expect(r.stdout).toContain("pulumi stack init dev.billing");
    // Promotion needs the lane in every stage's environment.
    expect(r.stdout).toMatch(/lane "billing" needs a team stack .*missing: staging, prod, prod-gke/);
  }, 120_000);

  it.each([
    ["shop", 1, /team "shop" already exists: stacks\/Pulumi\.dev\.platform\.yaml \(blueprint:teams\.shop\)/],
    ["pay-ments", 1, /would be confused with the existing team "payments"/],
    ["platform", 1, /"platform" cannot be a team name/],
    ["Billing", 2, /not valid: .*DNS label.*did you mean "billing"/],
    ["bill_ing", 2, /not valid/],
    ["billing-", 2, /not valid/],
    [`b${"x".repeat(63)}`, 2, /not valid/],
  ])("refuses the name %j and writes nothing", async (name, code, message) => {
    const before = snapshot(dir);
    const r = await team(dir, "add", name);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.split("\n").every((l) => l.startsWith("team: "))).toBe(true);
    expect(snapshot(dir)).toEqual(before);
  });

  it("adds an existing team to more environments, but never twice to one", async () => {
    expect((await team(dir, "add", "billing", "--environments", "dev")).code).toBe(0);
    const again = await team(dir, "add", "billing");
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(
      /team "billing" already exists: stacks\/Pulumi\.dev\.platform\.yaml \(blueprint:teams\.billing\), stacks\/Pulumi\.dev\.billing\.yaml; .*--environments local,prod,prod-gke,staging/,
    );
    const more = await team(dir, "add", "billing", "--environments", "staging");
    expect(more.stderr).toBe("");
    expect(more.code).toBe(0);
    expect(Object.keys(config(dir, "staging.platform")["blueprint:teams"] as object)).toContain("billing");
    expect(fs.existsSync(path.join(dir, "stacks/Pulumi.staging.billing.yaml"))).toBe(true);
    expect(more.stdout).toMatch(/missing: prod, prod-gke\n|missing: prod, prod-gke \(/);
  }, 120_000);

  it("refuses a team stack file that already exists without a platform entry", async () => {
    fs.writeFileSync(path.join(dir, "stacks/Pulumi.dev.billing.yaml"), "config: {}\n");
    const r = await team(dir, "add", "billing");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/team "billing" already exists: stacks\/Pulumi\.dev\.billing\.yaml/);
  });

  it("writes nothing when one platform file is invalid, naming its file and key", async () => {
    const file = path.join(dir, "stacks/Pulumi.staging.platform.yaml");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("maxSize: 6", "maxSize: many"));
    expect(fs.readFileSync(file, "utf8")).toContain("maxSize: many");
    const before = snapshot(dir);
    const r = await team(dir, "add", "billing");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^team: stacks\/Pulumi\.staging\.platform\.yaml: blueprint:cluster\.aws\.nodeGroups\.general\.maxSize /m,
    );
    expect(r.stderr).toMatch(/refused; nothing was written$/);
    expect(snapshot(dir)).toEqual(before);
  });

  it("refuses a platform stack file that is a link, and reads nothing through it", async () => {
    const outside = path.join(dir, "outside.yaml");
    fs.renameSync(path.join(dir, "stacks/Pulumi.local.platform.yaml"), outside);
    fs.symlinkSync(outside, path.join(dir, "stacks/Pulumi.local.platform.yaml"));
    const before = fs.readFileSync(outside, "utf8");
    const r = await team(dir, "add", "billing");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/stacks\/Pulumi\.local\.platform\.yaml is not a regular file/);
    expect(fs.readFileSync(outside, "utf8")).toBe(before);
  });

  it("writes nothing when one environment refuses the groups given (GKE wants Google Group emails)", async () => {
    const before = snapshot(dir);
    const r = await team(dir, "add", "billing", "--maintainers", "billing-maintainers");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /stacks\/Pulumi\.prod-gke\.platform\.yaml: blueprint:teams\.billing\.groups\.maintainers .*Google Group email/,
    );
    expect(snapshot(dir)).toEqual(before);
  });

  it("refuses an unknown environment, a missing name and an unknown command as usage errors", async () => {
    expect((await team(dir, "add", "billing", "--environments", "dev,qa")).code).toBe(2);
    expect((await team(dir, "add")).code).toBe(2);
    expect((await team(dir, "rename", "billing")).code).toBe(2);
    expect((await team(dir, "add", "billing", "--owners", "x")).code).toBe(2);
  });
});

describe("npm run team -- remove", () => {
  let dir: string;
  beforeEach(() => {
    dir = tempProject();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("removes an empty team and leaves the platform files exactly as they were before it was added", async () => {
    const before = snapshot(dir);
    expect(
      (await team(dir, "add", "billing", "--maintainers", "billing-maintainers", "--environments", "dev,prod")).code,
    ).toBe(0);
    // What the add wrote: a team stack file in each environment named, and the team in those
    // environments' platform files (a production EKS cluster also gets a principal entry for the group).
    const added = snapshot(dir);
    const changed = [...added.keys()].filter((f) => added.get(f) !== before.get(f)).sort();
    expect(changed).toEqual([
      "stacks/Pulumi.dev.billing.yaml",
      "stacks/Pulumi.dev.platform.yaml",
      "stacks/Pulumi.prod.billing.yaml",
      "stacks/Pulumi.prod.platform.yaml",
    ]);
    expect([...before.keys()].filter((f) => !added.has(f))).toEqual([]);
    for (const env of ["dev", "prod"]) {
      const teams = config(dir, `${env}.platform`)["blueprint:teams"] as Record<string, { groups: unknown }>;
      expect([env, teams.billing.groups]).toEqual([env, { maintainers: ["billing-maintainers"], viewers: [] }]);
      expect(config(dir, `${env}.billing`)["blueprint:team"]).toBe("billing");
    }
    const prodAws = (config(dir, "prod.platform")["blueprint:cluster"] as { aws: { groupPrincipals: object } }).aws;
    expect(Object.keys(prodAws.groupPrincipals)).toContain("billing-maintainers");
    const r = await team(dir, "remove", "billing");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(snapshot(dir)).toEqual(before);
    expect(r.stdout).toContain("removed stacks/Pulumi.dev.billing.yaml");
    expect(r.stdout).toMatch(/removed blueprint:cluster\.aws\.groupPrincipals\.billing-maintainers/);
    expect(r.stdout).toMatch(/pulumi up -s prod\.platform: the namespace "billing" is protected in production/);
    expect(r.stdout).toMatch(/pulumi up -s dev\.platform: deletes the namespace "billing"/);
  }, 120_000);

  it.each([
    ["apps", "  blueprint:apps:\n    web: { image: web, port: 8080 }\n", /blueprint:apps still has web/],
    ["volumes", "  blueprint:volumes:\n    data: { size: 1Gi }\n", /blueprint:volumes still has data/],
    [
      "a release id",
      "  blueprint:release: { id: r-0123456789ab, images: {} }\n",
      /blueprint:release\.id is "r-0123456789ab"/,
    ],
  ])(
    "refuses to remove a team that still has %s, naming the file and key",
    async (_what, extra, message) => {
      expect((await team(dir, "add", "billing", "--environments", "dev")).code).toBe(0);
      const file = path.join(dir, "stacks/Pulumi.dev.billing.yaml");
      const text = fs.readFileSync(file, "utf8").replace(/ {2}blueprint:release:\n {4}images: \{\}\n/, "");
      fs.writeFileSync(
        file,
        `${text}${extra.includes("release") ? "" : "  blueprint:release: { images: {} }\n"}${extra}`,
      );
      const before = snapshot(dir);
      const r = await team(dir, "remove", "billing");
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`stacks/Pulumi\\.dev\\.billing\\.yaml: ${message.source}`));
      expect(snapshot(dir)).toEqual(before);
    },
    120_000,
  );

  it("refuses to remove a team with release files or history", async () => {
    expect((await team(dir, "add", "billing", "--environments", "dev")).code).toBe(0);
    fs.mkdirSync(path.join(dir, "stacks/history/billing/dev"), { recursive: true });
    const r = await team(dir, "remove", "billing");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/stacks\/history\/billing\/: the team has promotion history/);
    expect(fs.existsSync(path.join(dir, "stacks/Pulumi.dev.billing.yaml"))).toBe(true);
  }, 120_000);

  it.each(["shop", "payments"])("refuses to remove the shipped team %s", async (name) => {
    const before = snapshot(dir);
    const r = await team(dir, "remove", name);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`stacks/Pulumi\\.dev\\.${name}\\.yaml: blueprint:apps still has`));
    expect(snapshot(dir)).toEqual(before);
  });

  it("refuses to remove a team that does not exist, or the platform", async () => {
    expect((await team(dir, "remove", "billing")).stderr).toMatch(
      /there is no team "billing" \(teams: payments, shop\)/,
    );
    expect((await team(dir, "remove", "platform")).code).toBe(1);
  });
});

describe("the team command line", () => {
  it("runs as `npm run team` with one-line errors and exit codes", () => {
    const dir = tempProject();
    try {
      const run = (...args: string[]) =>
        spawnSync(process.execPath, launch("tools/team/cli", ...args), {
          cwd: dir,
          encoding: "utf8",
          timeout: 60_000,
        });
      const usage = run("add");
      expect(usage.status).toBe(2);
      expect(usage.stderr.trim().split("\n")).toHaveLength(1);
      const refused = run("add", "shop");
      expect(refused.status).toBe(1);
      expect(refused.stderr).not.toMatch(/\n\s+at /);
      expect(run("--help").stdout).toMatch(/npm run team -- add <name>/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
