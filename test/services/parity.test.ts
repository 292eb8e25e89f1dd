import { runEnvironment, shippedEnvironments, type K8sObject } from "../helpers/program";
import { revealSecrets } from "../../tools/offline/mocks";
import type { RunResult } from "../../tools/offline/run";

type Container = {
  name: string;
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
};

/** `<app>` -> the names of its container's variables, of every Deployment of a team stack. */
function variableNames(result: RunResult): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const o of result.objects as K8sObject[]) {
    if (o.kind !== "Deployment") continue;
    const c = (o.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers[0];
    out[o.metadata.name] = (c.env ?? []).map((e) => e.name);
  }
  return out;
}

/** Every generated credential a platform run holds: passwords, and AUTH strings a cloud generates. */
function credentials(result: RunResult): string[] {
  const found: string[] = [];
  for (const r of result.resources) {
    const state = revealSecrets(r.state) as Record<string, unknown>;
    if (r.type === "random:index/randomPassword:RandomPassword") found.push(String(state.result));
    if (r.type === "gcp:redis/instance:Instance") found.push(String(state.authString));
  }
  return found;
}

describe("every environment, every stack", () => {
  const runs: Record<string, Awaited<ReturnType<typeof runEnvironment>>> = {};
  beforeAll(async () => {
    for (const env of shippedEnvironments()) runs[env] = await runEnvironment(env);
  }, 600_000);

  it("binds the shop's apps to a Postgres and a cache in every environment, in its flavour", () => {
    const flavours: Record<string, string> = {};
    for (const [env, run] of Object.entries(runs)) {
      const services = (
        run.platform.stackOutputs.outputs.contract as Record<
          string,
          { services: Record<string, { type: string; flavour: string }> }
        >
      ).shop.services;
      expect(
        Object.values(services)
          .map((s) => s.type)
          .sort(),
      ).toEqual(["postgres", "valkey"]);
      flavours[env] = services.db.flavour;
    }
    expect(flavours).toEqual({
      dev: "in-cluster",
      local: "in-cluster",
      staging: "managed",
      prod: "managed",
      "prod-gke": "managed",
    });
  });

  it("gives each bound app the same variable names in dev, staging, prod and prod-gke; only the values differ", () => {
    const names = Object.fromEntries(
      ["dev", "staging", "prod", "prod-gke"].map((env) => [env, variableNames(runs[env].teams[`${env}.shop`])]),
    );
    expect(names.dev.backend).toEqual([
      "PORT",
      "DB_URL",
      "DB_HOST",
      "DB_PORT",
      "DB_USERNAME",
      "DB_PASSWORD",
      "DB_DATABASE",
      "CACHE_URL",
      "CACHE_HOST",
      "CACHE_PORT",
      "CACHE_USERNAME",
      "CACHE_PASSWORD",
      "CACHE_DATABASE",
    ]);
    expect(names.dev.frontend).toEqual([
      "PORT",
      "CACHE_URL",
      "CACHE_HOST",
      "CACHE_PORT",
      "CACHE_USERNAME",
      "CACHE_PASSWORD",
      "CACHE_DATABASE",
    ]);
    for (const env of ["staging", "prod", "prod-gke"]) expect(names[env]).toEqual(names.dev);
  });

  it("never carries a credential in any output of any stack", () => {
    let scanned = 0;
    for (const run of Object.values(runs)) {
      const secrets = credentials(run.platform);
      expect(secrets.length).toBeGreaterThan(0);
      for (const stack of [run.platform, ...Object.values(run.teams)]) {
        const outputs = JSON.stringify(revealSecrets(stack.stackOutputs.outputs));
        for (const s of secrets) expect(outputs).not.toContain(s);
        expect(outputs).not.toMatch(/"(password|authToken|authString|adminPassword)"/i);
        scanned += 1;
      }
    }
    expect(scanned).toBe(15);
  });

  it("finds a credential when one leaks into an output (the scan can fail)", () => {
    const run = runs.dev;
    const leaked = { ...run.platform.stackOutputs.outputs, debug: { password: credentials(run.platform)[0] } };
    const text = JSON.stringify(leaked);
    expect(credentials(run.platform).some((s) => text.includes(s))).toBe(true);
  });
});
