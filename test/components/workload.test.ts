import { runComponents, type ComponentsScope, type K8sObject } from "../helpers/program";

const DIGEST = `sha256:${"a".repeat(64)}`;
const IMAGE = `registry.example.com/shop/web@${DIGEST}`;

function workloadArgs(_scope: ComponentsScope, overrides: Record<string, unknown> = {}) {
  return {
    identity: { name: "web", instance: "web", component: "server", partOf: "shop", version: "r1" },
    namespace: "shop",
    image: IMAGE,
    port: 8080,
    resources: {
      requests: { cpu: "100m", memory: "128Mi", "ephemeral-storage": "256Mi" },
      limits: { cpu: "500m", memory: "256Mi", "ephemeral-storage": "1Gi" },
    },
    probes: { readiness: { path: "/ready" }, liveness: { path: "/live" } },
    priorityClassName: "blueprint-standard",
    ...overrides,
  } as ConstructorParameters<ComponentsScope["components"]["Workload"]>[1];
}

function find(objects: K8sObject[], kind: string): K8sObject {
  const o = objects.find((x) => x.kind === kind);
  if (!o) throw new Error(`no ${kind}`);
  return o;
}

type PodSpec = {
  securityContext: Record<string, unknown>;
  containers: Array<
    Record<string, unknown> & {
      securityContext: Record<string, unknown>;
      resources: Record<string, Record<string, string>>;
    }
  >;
  volumes: Array<Record<string, unknown>>;
  automountServiceAccountToken: boolean;
  terminationGracePeriodSeconds: number;
  topologySpreadConstraints: Array<{ topologyKey: string; whenUnsatisfiable: string }>;
};
const podSpec = (d: K8sObject) => (d.spec as { template: { spec: PodSpec } }).template.spec;

describe("Workload", () => {
  it("runs the pinned image under Pod Security restricted with a read-only root filesystem", async () => {
    const { objects } = await runComponents(
      (s) => new s.components.Workload("web", workloadArgs(s), { providers: [s.provider] }),
    );
    const spec = podSpec(find(objects, "Deployment"));
    const c = spec.containers[0];
    expect(c.image).toBe(IMAGE);
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(c.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(spec.volumes).toContainEqual({ name: "tmp", emptyDir: { sizeLimit: "64Mi" } });
    expect(c.volumeMounts).toContainEqual({ name: "tmp", mountPath: "/tmp" });
    expect(spec.automountServiceAccountToken).toBe(false);
  });

  it("puts the release label on the pods only, so a release changes nothing but the pod template", async () => {
    const { objects } = await runComponents(
      (s) =>
        new s.components.Workload("web", workloadArgs(s, { autoscaling: { minReplicas: 2, maxReplicas: 3 } }), {
          providers: [s.provider],
        }),
    );
    const d = find(objects, "Deployment");
    expect(
      (d.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels[
        "app.kubernetes.io/version"
      ],
    ).toBe("r1");
    for (const o of objects) expect(o.metadata.labels?.["app.kubernetes.io/version"]).toBeUndefined();
  });

  it("sets requests and limits for cpu, memory and ephemeral storage", async () => {
    const { objects } = await runComponents(
      (s) => new s.components.Workload("web", workloadArgs(s), { providers: [s.provider] }),
    );
    const res = podSpec(find(objects, "Deployment")).containers[0].resources;
    expect(Object.keys(res.requests).sort()).toEqual(["cpu", "ephemeral-storage", "memory"]);
    expect(Object.keys(res.limits).sort()).toEqual(["cpu", "ephemeral-storage", "memory"]);
  });

  it("pauses before SIGTERM and gives the grace period room to drain", async () => {
    const { objects } = await runComponents(
      (s) =>
        new s.components.Workload("web", workloadArgs(s, { preStopSeconds: 7, terminationGracePeriodSeconds: 40 }), {
          providers: [s.provider],
        }),
    );
    const spec = podSpec(find(objects, "Deployment"));
    expect(spec.containers[0].lifecycle).toEqual({ preStop: { sleep: { seconds: 7 } } });
    expect(spec.terminationGracePeriodSeconds).toBe(40);
  });

  it("leaves replicas to the HPA when autoscaling, and keeps a PDB that allows evictions", async () => {
    const { objects } = await runComponents(
      (s) =>
        new s.components.Workload("web", workloadArgs(s, { autoscaling: { minReplicas: 3, maxReplicas: 9 } }), {
          providers: [s.provider],
        }),
    );
    const deployment = find(objects, "Deployment");
    expect((deployment.spec as Record<string, unknown>).replicas).toBeUndefined();
    const hpa = find(objects, "HorizontalPodAutoscaler").spec as Record<string, unknown>;
    expect(hpa).toMatchObject({ minReplicas: 3, maxReplicas: 9, scaleTargetRef: { kind: "Deployment", name: "web" } });
    const pdb = find(objects, "PodDisruptionBudget").spec as Record<string, unknown>;
    expect(pdb).toMatchObject({ maxUnavailable: 1, unhealthyPodEvictionPolicy: "AlwaysAllow" });
  });

  it("sets fixed replicas and registers no HPA without autoscaling", async () => {
    const { objects } = await runComponents(
      (s) => new s.components.Workload("web", workloadArgs(s, { replicas: 2 }), { providers: [s.provider] }),
    );
    expect((find(objects, "Deployment").spec as Record<string, unknown>).replicas).toBe(2);
    expect(objects.some((o) => o.kind === "HorizontalPodAutoscaler")).toBe(false);
  });

  it("rolls out without going below the desired count by default", async () => {
    const { objects } = await runComponents(
      (s) => new s.components.Workload("web", workloadArgs(s), { providers: [s.provider] }),
    );
    expect((find(objects, "Deployment").spec as Record<string, unknown>).strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
  });

  it("spreads pods across zones and hosts, strictly across zones when asked", async () => {
    const { objects } = await runComponents(
      (s) => new s.components.Workload("web", workloadArgs(s, { strictZoneSpread: true }), { providers: [s.provider] }),
    );
    const spread = podSpec(find(objects, "Deployment")).topologySpreadConstraints;
    expect(spread.map((t) => [t.topologyKey, t.whenUnsatisfiable])).toEqual([
      ["topology.kubernetes.io/zone", "DoNotSchedule"],
      ["kubernetes.io/hostname", "ScheduleAnyway"],
    ]);
  });

  it("uses distinct readiness and liveness probes and an optional startup probe", async () => {
    const { objects } = await runComponents(
      (s) =>
        new s.components.Workload(
          "web",
          workloadArgs(s, {
            probes: {
              readiness: { path: "/ready" },
              liveness: { path: "/live" },
              startup: { path: "/started", failureThreshold: 30 },
            },
          }),
          { providers: [s.provider] },
        ),
    );
    const c = podSpec(find(objects, "Deployment")).containers[0] as Record<
      string,
      { httpGet: { path: string }; failureThreshold: number }
    >;
    expect(c.readinessProbe.httpGet.path).toBe("/ready");
    expect(c.livenessProbe.httpGet.path).toBe("/live");
    expect(c.startupProbe).toMatchObject({ httpGet: { path: "/started" }, failureThreshold: 30 });
  });

  it("mounts volumes by claim name", async () => {
    const { objects } = await runComponents(
      (s) =>
        new s.components.Workload(
          "web",
          workloadArgs(s, { volumes: [{ name: "data", claimName: "data", mountPath: "/data" }] }),
          { providers: [s.provider] },
        ),
    );
    const spec = podSpec(find(objects, "Deployment"));
    expect(spec.volumes).toContainEqual({ name: "data", persistentVolumeClaim: { claimName: "data" } });
    expect(spec.containers[0].volumeMounts).toContainEqual({ name: "data", mountPath: "/data" });
  });

  it("exposes an Ingress with TLS and lets only the ingress peers reach the port", async () => {
    const { objects } = await runComponents(
      (s) =>
        new s.components.Workload(
          "web",
          workloadArgs(s, {
            ingress: {
              host: "shop.example.com",
              path: "/",
              className: "alb",
              annotations: { a: "b" },
              tls: { secretName: "web-tls" },
              allowFrom: [{ ipBlock: { cidr: "10.0.0.0/16" } }],
            },
          }),
          { providers: [s.provider] },
        ),
    );
    const ingress = find(objects, "Ingress");
    expect(ingress.spec).toMatchObject({
      ingressClassName: "alb",
      tls: [{ hosts: ["shop.example.com"], secretName: "web-tls" }],
    });
    const policy = objects.find((o) => o.kind === "NetworkPolicy")!;
    expect(policy.spec).toMatchObject({
      ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/16" } }], ports: [{ port: 8080 }] }],
    });
  });

  it("leaves spec.tls out when the certificate is attached by annotation", async () => {
    const { objects } = await runComponents(
      (s) =>
        new s.components.Workload(
          "web",
          workloadArgs(s, {
            ingress: {
              host: "shop.example.com",
              path: "/",
              annotations: { "networking.gke.io/managed-certificates": "web-cert" },
              allowFrom: [],
            },
          }),
          { providers: [s.provider] },
        ),
    );
    const ingress = find(objects, "Ingress");
    expect((ingress.spec as Record<string, unknown>).tls).toBeUndefined();
    expect((ingress.spec as Record<string, unknown>).ingressClassName).toBeUndefined();
    expect(ingress.metadata.annotations).toEqual({ "networking.gke.io/managed-certificates": "web-cert" });
  });

  it("refuses an image pinned by tag", async () => {
    await expect(
      runComponents(
        (s) =>
          new s.components.Workload("web", workloadArgs(s, { image: "registry.example.com/shop/web:1.2" }), {
            providers: [s.provider],
          }),
      ),
    ).rejects.toThrow(/pinned by digest.*not by tag/);
  });

  it("refuses a preStop pause as long as the grace period", async () => {
    await expect(
      runComponents(
        (s) =>
          new s.components.Workload("web", workloadArgs(s, { preStopSeconds: 30, terminationGracePeriodSeconds: 30 }), {
            providers: [s.provider],
          }),
      ),
    ).rejects.toThrow(/preStopSeconds \(30\) must be less than terminationGracePeriodSeconds \(30\)/);
  });

  it("refuses autoscaling whose minimum is not below its maximum", async () => {
    await expect(
      runComponents(
        (s) =>
          new s.components.Workload("web", workloadArgs(s, { autoscaling: { minReplicas: 3, maxReplicas: 3 } }), {
            providers: [s.provider],
          }),
      ),
    ).rejects.toThrow(/minReplicas must be below maxReplicas/);
  });
});
