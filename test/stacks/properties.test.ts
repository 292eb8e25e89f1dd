import type { RunResult } from "../../tools/offline/run";
import {
  asPlatform,
  byKind,
  onExistingCluster,
  platformOf,
  runEnvironment,
  runStack,
  setConfig,
  shippedEnvironments,
  stackConfig,
  teamStacksOf,
  type K8sObject,
} from "../helpers/program";
import { schemaErrors } from "../helpers/schema";
import { grantsBeyond, type Rule } from "../helpers/rbac";
import { EXISTING_ADD_ON_NAMESPACES } from "../../lib/namespaces";
import type { StackConfig } from "../../lib/project";

/** `cfg` with Velero writing to an S3-compatible bucket, its keys set as a secret. */
function withBackupBucket(cfg: StackConfig): StackConfig {
  setConfig(cfg, "blueprint:platform.volumeBackups.objectStore", {
    type: "s3",
    bucket: "acme-backups",
    region: "eu-west-1",
  });
  setConfig(cfg, "blueprint:backupStoreCredentials", { accessKeyId: "id", secretAccessKey: "key" });
  cfg.secretKeys.push("blueprint:backupStoreCredentials");
  return cfg;
}

type Pod = {
  metadata?: { labels?: Record<string, string> };
  spec: Record<string, unknown> & {
    containers: Array<Record<string, unknown>>;
    volumes?: Array<Record<string, unknown>>;
  };
};

/** Kinds whose `spec.template` is a pod template (a Velero Schedule's `spec.template` is a backup's). */
const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"]);

/** The pod template of a workload object, if it has one. */
function podTemplate(o: K8sObject): Pod | undefined {
  if (!WORKLOAD_KINDS.has(String(o.kind))) return undefined;
  const spec = o.spec as { template?: Pod; jobTemplate?: { spec: { template: Pod } } } | undefined;
  return spec?.template ?? spec?.jobTemplate?.spec.template;
}

/** Every name another object refers to, as `[description, kind, namespace/name]`. */
function references(o: K8sObject): Array<[string, string, string]> {
  const ns = o.metadata.namespace ?? "";
  const at = (name: string) => (ns ? `${ns}/${name}` : name);
  const refs: Array<[string, string, string]> = [];
  const pod = podTemplate(o);
  if (pod) {
    const spec = pod.spec;
    if (spec.serviceAccountName)
      refs.push(["serviceAccountName", "ServiceAccount", at(String(spec.serviceAccountName))]);
    if (spec.priorityClassName) refs.push(["priorityClassName", "PriorityClass", String(spec.priorityClassName)]);
    for (const c of spec.containers) {
      for (const e of (c.envFrom as
        Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }> | undefined) ?? []) {
        if (e.configMapRef) refs.push(["envFrom.configMapRef", "ConfigMap", at(e.configMapRef.name)]);
        if (e.secretRef) refs.push(["envFrom.secretRef", "Secret", at(e.secretRef.name)]);
      }
    }
    for (const v of spec.volumes ?? []) {
      const claim = (v.persistentVolumeClaim as { claimName?: string } | undefined)?.claimName;
      if (claim) refs.push(["claimName", "PersistentVolumeClaim", at(claim)]);
    }
  }
  if (o.kind === "RoleBinding") {
    const roleRef = o.roleRef as { kind: string; name: string };
    refs.push(["roleRef", roleRef.kind, roleRef.kind === "Role" ? at(roleRef.name) : roleRef.name]);
  }
  if (o.kind === "HorizontalPodAutoscaler") {
    const t = (o.spec as { scaleTargetRef: { kind: string; name: string } }).scaleTargetRef;
    refs.push(["scaleTargetRef", t.kind, at(t.name)]);
  }
  if (o.kind === "Ingress") {
    const annotations = o.metadata.annotations ?? {};
    // A TLS Secret must be rendered, unless cert-manager issues it from the annotation.
    if (!annotations["cert-manager.io/cluster-issuer"]) {
      for (const t of (o.spec as { tls?: Array<{ secretName?: string }> }).tls ?? []) {
        if (t.secretName) refs.push(["tls.secretName", "Secret", at(t.secretName)]);
      }
    }
    const cert = annotations["networking.gke.io/managed-certificates"];
    if (cert) refs.push(["managed-certificates", "ManagedCertificate", at(cert)]);
    for (const rule of (
      o.spec as { rules: Array<{ http: { paths: Array<{ backend: { service: { name: string } } }> } }> }
    ).rules) {
      for (const p of rule.http.paths) refs.push(["backend.service", "Service", at(p.backend.service.name)]);
    }
  }
  if (o.kind === "PersistentVolumeClaim") {
    const sc = (o.spec as { storageClassName?: string }).storageClassName;
    if (sc) refs.push(["storageClassName", "StorageClass", sc]);
  }
  // gmp-public is GKE's own namespace for Managed Prometheus's configuration, made by the cluster.
  if (ns && ns !== "gmp-public") refs.push(["metadata.namespace", "Namespace", ns]);
  return refs;
}

function matches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** An environment as one result: its platform's objects and resources, then each team stack's. */
function merged(platform: RunResult, teams: readonly RunResult[]): RunResult {
  return {
    ...platform,
    resources: [...platform.resources, ...teams.flatMap((t) => t.resources)],
    objects: [...platform.objects, ...teams.flatMap((t) => t.objects)],
    defaultProviderUses: [...platform.defaultProviderUses, ...teams.flatMap((t) => t.defaultProviderUses)],
  };
}

/** The teams an environment's platform stack file declares, sorted. */
function teamsOf(env: string): string[] {
  return Object.keys(
    JSON.parse(stackConfig(`${env}.platform`).config["blueprint:teams"]) as Record<string, unknown>,
  ).sort();
}

/** An object of a cluster add-on the platform runs (the in-cluster MinIO of Velero's backups), not a team's. */
function platformAddOnNamespace(o: K8sObject): boolean {
  return (EXISTING_ADD_ON_NAMESPACES as readonly string[]).includes(o.metadata.namespace ?? "");
}

/** Every app (`<team>/<app>`) the environment's team stack files declare, sorted. */
function appsOf(env: string): string[] {
  return teamStacksOf(env)
    .flatMap((stack) =>
      Object.keys(JSON.parse(stackConfig(stack).config["blueprint:apps"]) as Record<string, unknown>).map(
        (app) => `${stack.split(".")[1]}/${app}`,
      ),
    )
    .sort();
}

const environments = shippedEnvironments();
const results = new Map<string, RunResult>();
beforeAll(async () => {
  for (const env of environments) {
    const { platform, teams } = await runEnvironment(env);
    results.set(env, merged(platform, Object.values(teams)));
  }
});
const each = (name: string, fn: (r: RunResult, env: string) => void) =>
  it.each(environments)(`%s: ${name}`, (e) => fn(results.get(e)!, e));

describe("properties of every rendered environment (platform and team stacks together)", () => {
  each("no resource relies on a default provider", (r) => {
    expect(r.resources.length).toBeGreaterThan(20);
    expect(r.defaultProviderUses).toEqual([]);
  });

  each("every object validates against the Kubernetes schema", (r) => {
    const objects = r.objects as K8sObject[];
    expect(objects.length).toBeGreaterThan(0);
    expect(objects.map(schemaErrors).filter(Boolean)).toEqual([]);
  });

  each("every name reference resolves to a rendered object", (r) => {
    const present = new Set(
      (r.objects as K8sObject[]).map(
        (o) => `${o.kind}:${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`,
      ),
    );
    const refs = (r.objects as K8sObject[]).flatMap((o) =>
      references(o).map(([what, kind, id]) => ({ from: `${o.kind}/${o.metadata.name} ${what}`, to: `${kind}:${id}` })),
    );
    expect(refs.length).toBeGreaterThan(10);
    expect(refs.filter((x) => !present.has(x.to))).toEqual([]);
  });

  each("a Deployment's selector matches no other workload's pods", (r) => {
    const workloads = (r.objects as K8sObject[]).filter((o) => podTemplate(o));
    for (const d of byKind(r, "Deployment").values()) {
      const sel = (d.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
      const others = workloads.filter(
        (w) =>
          w !== d && w.metadata.namespace === d.metadata.namespace && matches(sel, podTemplate(w)!.metadata?.labels),
      );
      expect(others.map((w) => `${w.kind}/${w.metadata.name}`)).toEqual([]);
    }
  });

  each("Deployment, Service, PDB and app NetworkPolicy selectors match the pod template labels", (r) => {
    const deployments = [...byKind(r, "Deployment").values()];
    expect(deployments.length).toBeGreaterThan(0);
    for (const d of deployments) {
      const labels = podTemplate(d)!.metadata!.labels;
      const sel = (d.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
      expect(matches(sel, labels)).toBe(true);
      const services = [...byKind(r, "Service").values()].filter(
        (s) => s.metadata.namespace === d.metadata.namespace && s.metadata.name === d.metadata.name,
      );
      const pdbs = [...byKind(r, "PodDisruptionBudget").values()].filter(
        (p) => p.metadata.namespace === d.metadata.namespace && p.metadata.name === d.metadata.name,
      );
      expect(services).toHaveLength(1);
      expect(pdbs).toHaveLength(1);
      expect(matches((services[0].spec as { selector: Record<string, string> }).selector, labels)).toBe(true);
      expect(
        matches((pdbs[0].spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels, labels),
      ).toBe(true);
    }
    // A backing service's policies select its StatefulSet's pods, or the pods bound to it (Deployments, Jobs).
    const workloads = (r.objects as K8sObject[]).filter((o) => podTemplate(o));
    for (const p of byKind(r, "NetworkPolicy").values()) {
      // The log store's pods come from its Helm chart, not from a rendered Deployment.
      if (p.metadata.namespace === "opensearch") continue;
      const sel = (p.spec as { podSelector: { matchLabels?: Record<string, string> } }).podSelector.matchLabels ?? {};
      const selected = workloads.filter(
        (d) => d.metadata.namespace === p.metadata.namespace && matches(sel, podTemplate(d)!.metadata!.labels),
      );
      expect(selected.length).toBeGreaterThan(0);
    }
  });

  each("pods meet Pod Security restricted, with resources, probes and graceful shutdown", (r, env) => {
    const withPods = (r.objects as K8sObject[]).filter((o) => podTemplate(o));
    // Every app of every team stack of the environment is among the checked workloads.
    expect(
      withPods
        .filter((o) => o.kind === "Deployment" && !platformAddOnNamespace(o))
        .map((o) => `${o.metadata.namespace}/${o.metadata.name}`)
        .sort(),
    ).toEqual(appsOf(env));
    for (const o of withPods) {
      const pod = podTemplate(o)!;
      const spec = pod.spec as Record<string, unknown> & Pod["spec"];
      expect(spec.automountServiceAccountToken).toBe(false);
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
      for (const k of ["hostNetwork", "hostPID", "hostIPC"]) expect(spec[k]).toBeFalsy();
      for (const v of spec.volumes ?? []) expect(v.hostPath).toBeUndefined();
      for (const c of spec.containers) {
        expect(c.image).toMatch(/@sha256:[0-9a-f]{64}$/);
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
        });
        const res = c.resources as { requests: Record<string, string>; limits: Record<string, string> };
        for (const key of ["cpu", "memory", "ephemeral-storage"]) {
          expect(res.requests[key]).toBeDefined();
          expect(res.limits[key]).toBeDefined();
        }
        if (o.kind === "Deployment") {
          expect(c.readinessProbe).toBeDefined();
          expect(c.livenessProbe).toBeDefined();
          expect(c.livenessProbe).not.toEqual(c.readinessProbe);
          const preStop = (c.lifecycle as { preStop: { sleep: { seconds: number } } }).preStop.sleep.seconds;
          expect(Number(spec.terminationGracePeriodSeconds)).toBeGreaterThan(preStop);
        }
      }
    }
  });

  each("RBAC grants no exec, attach or wildcards and binds only Roles defined here", (r, env) => {
    // A maintainer and a viewer Role in every team namespace: the checks below see them all.
    expect([...byKind(r, "Role").keys()].sort()).toEqual(
      teamsOf(env).flatMap((t) => [`${t}/team-maintainer`, `${t}/team-viewer`]),
    );
    // An allow-list of what a team Role may grant: anything it does not name fails.
    for (const role of byKind(r, "Role").values())
      expect([role.metadata.name, grantsBeyond((role as unknown as { rules: Rule[] }).rules)]).toEqual([
        role.metadata.name,
        [],
      ]);
    for (const role of [...byKind(r, "Role").values(), ...byKind(r, "ClusterRole").values()]) {
      for (const rule of (role as unknown as { rules: Array<{ resources?: string[]; verbs: string[] }> }).rules) {
        expect(rule.resources ?? []).not.toEqual(expect.arrayContaining(["pods/exec"]));
        expect(rule.resources ?? []).not.toEqual(expect.arrayContaining(["pods/attach"]));
        expect([...(rule.resources ?? []), ...rule.verbs]).not.toContain("*");
      }
    }
    for (const b of [...byKind(r, "RoleBinding").values(), ...byKind(r, "ClusterRoleBinding").values()]) {
      expect((b as unknown as { roleRef: { kind: string } }).roleRef.kind).toBe("Role");
    }
  });

  each("every team namespace has a default-deny policy and a quota", (r, env) => {
    // The platform's observability namespaces (monitoring, logging, opensearch) are not team
    // namespaces; they have no default-deny or quota yet (docs/observability.md, known limits).
    const teamNamespaces = [...byKind(r, "Namespace").values()]
      .filter((n) => n.metadata.labels?.["app.kubernetes.io/part-of"] !== "platform")
      .map((n) => n.metadata.name);
    expect(teamNamespaces.sort()).toEqual(teamsOf(env));
    for (const ns of teamNamespaces) {
      const deny = byKind(r, "NetworkPolicy").get(`${ns}/default-deny`);
      expect(deny?.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
      // Team namespaces: team-quota and team-limits; the platform's data namespace has its own.
      const quotas = [...byKind(r, "ResourceQuota").values()].filter((q) => q.metadata.namespace === ns);
      expect(quotas.map((q) => q.metadata.name)).toEqual(["team-quota"]);
      // Every limit the platform stack file sets for the team is the quota's, value for value.
      const declared =
        (
          JSON.parse(stackConfig(`${env}.platform`).config["blueprint:teams"]) as Record<
            string,
            { quota?: Record<string, string | number> }
          >
        )[ns].quota ?? {};
      expect(Object.keys(declared).length).toBeGreaterThan(3);
      const hard = (quotas[0].spec as { hard: Record<string, string> }).hard;
      expect(Object.fromEntries(Object.keys(declared).map((k) => [k, hard[k]]))).toEqual(
        Object.fromEntries(Object.entries(declared).map(([k, v]) => [k, String(v)])),
      );
      expect([...byKind(r, "LimitRange").values()].filter((l) => l.metadata.namespace === ns)).toHaveLength(1);
    }
  });
});

describe("config reaches the output", () => {
  it("keeps known secret values out of every rendered object and output", async () => {
    const secret = "s3cr3t-value-7f1d2c";
    const token = "kubeconfig-token-9a8b7c";
    const platformCfg = onExistingCluster(stackConfig("dev.platform"), {});
    setConfig(platformCfg, "blueprint:kubeconfig", `apiVersion: v1\nusers:\n- name: u\n  user:\n    token: ${token}\n`);
    platformCfg.secretKeys.push("blueprint:kubeconfig");
    const platform = await runStack("dev.platform", platformCfg);
    // Anyone who can read the platform stack reads its outputs: an existing cluster's kubeconfig is never one.
    expect(platform.outputs.kubeconfig).toBeNull();
    // The platform's own credential never reaches a team through the contract.
    expect(JSON.stringify(platform.stackOutputs.outputs.contract)).not.toContain(token);
    const cfg = stackConfig("dev.shop");
    setConfig(cfg, "blueprint:apps.backend.secrets", ["PODINFO_CACHE_SERVER"]);
    setConfig(cfg, "blueprint:secrets", { backend: { PODINFO_CACHE_SERVER: `redis://user:${secret}@cache:6379` } });
    cfg.secretKeys.push("blueprint:secrets");
    const r = await runStack("dev.shop", cfg, { stacks: asPlatform(platform) });
    const secretObj = [...byKind(r, "Secret").values()];
    expect(secretObj).toHaveLength(1);
    expect(secretObj[0].stringData).toEqual({ PODINFO_CACHE_SERVER: "[secret]" });
    const text = JSON.stringify([platform.objects, platform.outputs, r.objects, r.outputs]);
    expect(text).not.toContain(secret);
    expect(text).not.toContain(token);
  });

  it("rolls the Deployment when its config changes, by renaming the ConfigMap", async () => {
    const before = await runStack("dev.shop");
    const after = await runStack(
      "dev.shop",
      setConfig(stackConfig("dev.shop"), "blueprint:apps.frontend.config.PODINFO_UI_MESSAGE", "hello"),
    );
    const configMapOf = (r: RunResult) =>
      (
        podTemplate(byKind(r, "Deployment").get("shop/frontend")!)!.spec.containers[0].envFrom as {
          configMapRef?: { name: string };
        }[]
      ).flatMap((e) => (e.configMapRef ? [e.configMapRef.name] : []));
    const [old] = configMapOf(before);
    const [renamed] = configMapOf(after);
    expect(old).toMatch(/^frontend-config-/);
    expect(renamed).toMatch(/^frontend-config-/);
    expect(renamed).not.toBe(old);
    // The Deployment points at the new ConfigMap, which holds the new value; the old one is gone from the render.
    expect(byKind(after, "ConfigMap").get(`shop/${renamed}`)!.data).toMatchObject({ PODINFO_UI_MESSAGE: "hello" });
    expect(byKind(after, "ConfigMap").has(`shop/${old}`)).toBe(false);
    // The other app's config did not change, so its ConfigMap keeps its name.
    expect([...byKind(after, "ConfigMap").keys()].filter((k) => k.startsWith("shop/backend-config-"))).toEqual(
      [...byKind(before, "ConfigMap").keys()].filter((k) => k.startsWith("shop/backend-config-")),
    );
  });

  it.each([
    [
      "dev.shop",
      "blueprint:apps.backend.replicas",
      2,
      "Deployment",
      "shop/backend",
      (o: K8sObject) => (o.spec as { replicas: number }).replicas,
      2,
    ],
    [
      "dev.platform",
      "blueprint:teams.shop.quota.pods",
      9,
      "ResourceQuota",
      "shop/team-quota",
      (o: K8sObject) => (o.spec as { hard: Record<string, string> }).hard.pods,
      "9",
    ],
    [
      "dev.shop",
      "blueprint:apps.frontend.preStopSeconds",
      3,
      "Deployment",
      "shop/frontend",
      (o: K8sObject) => podTemplate(o)!.spec.containers[0].lifecycle,
      { preStop: { sleep: { seconds: 3 } } },
    ],
    [
      "dev.platform",
      "blueprint:production",
      true,
      "StorageClass",
      "app-storage",
      (o: K8sObject) => o.reclaimPolicy,
      "Retain",
    ],
  ] as const)("%s: setting %s renders what it says", async (stack, key, value, kind, id, read, expected) => {
    // An existing cluster in production keeps its backups in a bucket outside it (config/backups.ts).
    const base =
      stack === "dev.platform" ? withBackupBucket(onExistingCluster(stackConfig(stack))) : stackConfig(stack);
    const before = read(byKind(await runStack(stack, base), kind).get(id)!);
    const after = read(byKind(await runStack(stack, setConfig(base, key, value)), kind).get(id)!);
    expect(after).toEqual(expected);
    // The shipped value was another, so the edit is what made the difference.
    expect(before).not.toEqual(expected);
  });

  it("registers nothing but the stack itself (and the read of its platform's outputs) when the config is invalid", async () => {
    const cfg = setConfig(stackConfig("dev.shop"), "blueprint:apps.frontend.image", "nginx");
    const stacks = await platformOf("dev.shop");
    const types: string[] = [];
    let message = "";
    await jest.isolateModulesAsync(async () => {
      const { runProgram } = await import("../../tools/offline/run");
      const { PROJECT_DIR } = await import("../helpers/program");
      await runProgram({
        projectDir: PROJECT_DIR,
        stack: "dev.shop",
        config: cfg,
        stacks,
        computed: (type) => {
          types.push(type);
          return undefined;
        },
      }).catch((e: Error) => {
        message = e.message;
      });
    });
    expect(message).toMatch(/blueprint:apps\.frontend\.image names an image that is not in blueprint:release\.images/);
    expect(types).toEqual(["pulumi:pulumi:Stack"]);
  });
});
