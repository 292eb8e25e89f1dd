import { asPlatform, getObject, runStack, stackConfig, withEdits, type K8sObject } from "../helpers/program";
import { schemaErrors } from "../helpers/schema";
import { revealSecrets } from "../../tools/offline/mocks";
import type { RunResult } from "../../tools/offline/run";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Pod = {
  securityContext: Record<string, unknown>;
  containers: Array<Record<string, any>>;
  volumes: Array<Record<string, any>>;
};
/* eslint-enable @typescript-eslint/no-explicit-any */

function podOf(o: K8sObject): Pod {
  return (o.spec as { template: { spec: Pod } }).template.spec;
}

/** The clear-text stringData of a Secret as the program registered it (tests only; renders redact it). */
function secretData(result: RunResult, name: string): Record<string, string> {
  const r = result.resources.find(
    (x) => x.type === "kubernetes:core/v1:Secret" && (x.inputs.metadata as { name?: string })?.name === name,
  );
  if (!r) throw new Error(`no Secret ${name}`);
  return revealSecrets(r.inputs.stringData) as Record<string, string>;
}

describe("in-cluster Postgres and Valkey (dev, local)", () => {
  let dev: RunResult;
  beforeAll(async () => {
    dev = await runStack("dev.platform");
  });

  it("runs each as a StatefulSet under Pod Security restricted, with its data in a subdirectory of a PVC", () => {
    for (const name of ["svc-db", "svc-cache"]) {
      const sts = getObject(dev, "StatefulSet", `shop/${name}`);
      const pod = podOf(sts);
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 999,
        fsGroup: 999,
        seccompProfile: { type: "RuntimeDefault" },
      });
      const c = pod.containers[0];
      expect(c.securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
      });
      expect(c.image).toMatch(/^docker\.io\/(library\/postgres|valkey\/valkey)@sha256:[0-9a-f]{64}$/);
      expect(c.resources.limits).toEqual(
        expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String), "ephemeral-storage": "256Mi" }),
      );
      expect(
        (sts.spec as { volumeClaimTemplates: Array<{ spec: unknown }> }).volumeClaimTemplates[0].spec,
      ).toMatchObject({ accessModes: ["ReadWriteOnce"], storageClassName: "app-storage" });
      expect(schemaErrors(sts)).toBeUndefined();
    }
    const pg = podOf(getObject(dev, "StatefulSet", "shop/svc-db")).containers[0];
    expect(pg.env).toContainEqual({ name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" });
    expect(pg.volumeMounts).toContainEqual({ name: "data", mountPath: "/var/lib/postgresql/data" });
    // Every path the server writes besides its data is an emptyDir.
    expect(pg.volumeMounts.map((m: { mountPath: string }) => m.mountPath)).toEqual(
      expect.arrayContaining(["/var/run/postgresql", "/tmp"]),
    );
  });

  it("admits only pods bound to the service, on its port, and leaves the instance out of the namespace-wide allow rule", () => {
    const db = getObject(dev, "NetworkPolicy", "shop/svc-db").spec as Record<string, unknown>;
    expect(db).toEqual({
      podSelector: { matchLabels: { "app.kubernetes.io/name": "postgres", "app.kubernetes.io/instance": "svc-db" } },
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        {
          from: [{ podSelector: { matchLabels: { "services.blueprint.dev/db": "bound" } } }],
          ports: [{ protocol: "TCP", port: 5432 }],
        },
      ],
      egress: [],
    });
    const sts = getObject(dev, "StatefulSet", "shop/svc-db");
    expect(
      (sts.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels[
        "blueprint.dev/backing-service"
      ],
    ).toBe("db");
    const allow = getObject(dev, "NetworkPolicy", "shop/allow-namespace-and-dns").spec as { podSelector: unknown };
    expect(allow.podSelector).toEqual({
      matchExpressions: [{ key: "blueprint.dev/backing-service", operator: "DoesNotExist" }],
    });
    // Platform-owned, like the namespace's default deny.
    expect(getObject(dev, "NetworkPolicy", "shop/svc-db").metadata.labels).toMatchObject({
      "app.kubernetes.io/managed-by": "pulumi",
      "app.kubernetes.io/part-of": "shop",
    });
  });

  it("writes the binding Secret with the app user's credentials, never the superuser's, and keeps them out of the contract", () => {
    const data = secretData(dev, "svc-db-g0");
    expect(Object.keys(data).sort()).toEqual(["database", "host", "password", "port", "url", "username"]);
    expect(data).toMatchObject({
      host: "svc-db.shop.svc.cluster.local",
      port: "5432",
      username: "db_a",
      database: "db",
    });
    expect(data.url).toBe(`postgresql://db_a:${data.password}@svc-db.shop.svc.cluster.local:5432/db?sslmode=disable`);
    expect(data.password).toHaveLength(32);
    const contract = JSON.stringify(dev.stackOutputs.outputs.contract);
    expect(contract).not.toContain(data.password);
    expect((dev.stackOutputs.outputs.contract as Record<string, { services: unknown }>).shop.services).toEqual({
      db: {
        type: "postgres",
        flavour: "in-cluster",
        secretName: "svc-db-g0",
        host: "svc-db.shop.svc.cluster.local",
        port: 5432,
        tls: false,
        caFile: null,
        footprint: expect.any(Object),
      },
      cache: {
        type: "valkey",
        flavour: "in-cluster",
        secretName: "svc-cache-g0",
        host: "svc-cache.shop.svc.cluster.local",
        port: 6379,
        tls: false,
        caFile: null,
        footprint: expect.any(Object),
      },
    });
    const cache = secretData(dev, "svc-cache-g0");
    expect(cache.url).toBe(`redis://default:${cache.password}@svc-cache.shop.svc.cluster.local:6379/0`);
  });

  it("rotates from config: a new Secret name, the other user, and the previous password still valid", async () => {
    const cfg = withEdits(stackConfig("dev.platform"), [
      [["blueprint:teams", "shop", "services", "db", "rotation"], 1],
      [["blueprint:teams", "shop", "services", "cache", "rotation"], 1],
    ]);
    const rotated = await runStack("dev.platform", cfg);
    const before = secretData(dev, "svc-db-g0");
    const after = secretData(rotated, "svc-db-g1");
    expect(after.username).toBe("db_b");
    expect(after.password).not.toBe(before.password);
    // The server keeps both users: the new one with the new password, the old one with the old.
    const server = secretData(rotated, "svc-db-server-g1");
    expect(server).toMatchObject({
      SERVICE_USER_A: "db_a",
      SERVICE_PASSWORD_A: before.password,
      SERVICE_USER_B: "db_b",
      SERVICE_PASSWORD_B: after.password,
    });
    const acl = secretData(rotated, "svc-cache-server-g1")["users.acl"];
    expect(acl).toBe(
      `user default on >${secretData(rotated, "svc-cache-g1").password} >${secretData(dev, "svc-cache-g0").password} ~* &* +@all -@admin\n`,
    );
    // The previous Secret stays, unchanged, so a pod of the old ReplicaSet can still start until the next rotation.
    expect(secretData(rotated, "svc-db-g0")).toEqual(before);
    expect(secretData(rotated, "svc-cache-g0")).toEqual(secretData(dev, "svc-cache-g0"));
    const twice = await runStack(
      "dev.platform",
      withEdits(stackConfig("dev.platform"), [[["blueprint:teams", "shop", "services", "db", "rotation"], 2]]),
    );
    const names = (r: typeof dev) =>
      r.resources
        .filter((x) => x.type === "kubernetes:core/v1:Secret")
        .map((x) => (x.inputs.metadata as { name?: string }).name)
        .filter((n) => n?.match(/^svc-db-g\d+$/))
        .sort();
    expect(names(dev)).toEqual(["svc-db-g0"]);
    expect(names(rotated)).toEqual(["svc-db-g0", "svc-db-g1"]);
    expect(names(twice)).toEqual(["svc-db-g1", "svc-db-g2"]);
    expect(secretData(twice, "svc-db-g1").username).toBe("db_b");
    // The bound Deployment rolls: its variables now come from the new Secret.
    const shop = await runStack("dev.shop", stackConfig("dev.shop"), { stacks: asPlatform(rotated) });
    const env = podOf(getObject(shop, "Deployment", "shop/backend")).containers[0].env as Array<{
      name: string;
      valueFrom?: { secretKeyRef: { name: string } };
    }>;
    expect(env.find((e) => e.name === "DB_PASSWORD")?.valueFrom?.secretKeyRef.name).toBe("svc-db-g1");
  });

  it("disables the second user at generation 0, before any rotation", () => {
    const server = secretData(dev, "svc-db-server-g0");
    expect(server.SERVICE_PASSWORD_B).toBe("");
    expect(server.SERVICE_PASSWORD_A).toBe(secretData(dev, "svc-db-g0").password);
  });
});
