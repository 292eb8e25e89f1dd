import { dataProtection } from "../../components/protection";
import { looksLikeCredential } from "../../lib/credentials";
import { recommendedLabels, selectorLabels } from "../../lib/labels";
import { runComponents } from "../helpers/program";

describe("AppConfig", () => {
  it("renders plain data into a ConfigMap and secret data into a Secret, both referenced by envFrom", async () => {
    const { objects, value } = await runComponents(async (s) => {
      const cfg = new s.components.AppConfig(
        "web",
        {
          namespace: "shop",
          data: { LOG_LEVEL: "info" },
          secretData: { DATABASE_URL: s.pulumi.secret("postgres://u:p@db/x") },
        },
        { providers: [s.provider] },
      );
      return new Promise((resolve) => cfg.envFrom.apply(resolve));
    });
    const cm = objects.find((o) => o.kind === "ConfigMap")!;
    const secret = objects.find((o) => o.kind === "Secret")!;
    expect(cm.data).toEqual({ LOG_LEVEL: "info" });
    expect(cm.immutable).toBe(true);
    expect(secret.stringData).toEqual({ DATABASE_URL: "[secret]" });
    expect(value).toEqual([
      { configMapRef: { name: cm.metadata.name } },
      { secretRef: { name: secret.metadata.name } },
    ]);
  });

  it("gives a changed config a new auto-generated name", async () => {
    const name = async (level: string) =>
      (
        await runComponents(
          (s) =>
            new s.components.AppConfig(
              "web",
              { namespace: "shop", data: { LOG_LEVEL: level } },
              { providers: [s.provider] },
            ),
        )
      ).objects[0].metadata.name;
    const [a, a2, b] = [await name("info"), await name("info"), await name("debug")];
    expect(a).toMatch(/^web-config-[0-9a-f]{8}$/);
    expect(a2).toBe(a);
    expect(b).not.toBe(a);
  });

  it("registers nothing for empty config", async () => {
    const { objects } = await runComponents(
      (s) => new s.components.AppConfig("web", { namespace: "shop" }, { providers: [s.provider] }),
    );
    expect(objects).toEqual([]);
  });

  it("refuses plain keys that look like credentials", async () => {
    await expect(
      runComponents(
        (s) =>
          new s.components.AppConfig(
            "web",
            { namespace: "shop", data: { DB_PASSWORD: "x" } },
            { providers: [s.provider] },
          ),
      ),
    ).rejects.toThrow(/DB_PASSWORD look like credentials; pass them as secretData/);
  });

  it.each([
    ["DB_PASSWORD"],
    ["api_token"],
    ["CLIENT_SECRET"],
    ["AWS_SECRET_ACCESS_KEY"],
    ["SIGNING_KEY"],
    ["GOOGLE_APPLICATION_CREDENTIALS"],
    ["BEARER"],
  ])("treats %s as a credential", (key) => expect(looksLikeCredential(key)).toBe(true));
  it.each([["LOG_LEVEL"], ["KEYCLOAK_URL"], ["MONKEY_MODE"], ["PORT"]])("treats %s as plain config", (key) =>
    expect(looksLikeCredential(key)).toBe(false),
  );
});

describe("StorageClass and Volume", () => {
  it("binds on first consumer, expands, and retains when asked", async () => {
    const { objects } = await runComponents(
      (s) =>
        new s.components.StorageClass(
          "sc",
          {
            name: "app-storage",
            provisioner: "ebs.csi.aws.com",
            parameters: { type: "gp3", encrypted: "true" },
            reclaimPolicy: "Retain",
          },
          { providers: [s.provider] },
        ),
    );
    expect(objects[0]).toMatchObject({
      provisioner: "ebs.csi.aws.com",
      parameters: { type: "gp3", encrypted: "true" },
      reclaimPolicy: "Retain",
      volumeBindingMode: "WaitForFirstConsumer",
      allowVolumeExpansion: true,
    });
  });

  it("claims the size and class asked for under a fixed name", async () => {
    const { objects, value } = await runComponents(
      (s) =>
        new s.components.Volume(
          "shop-data",
          { name: "data", namespace: "shop", size: "20Gi", storageClassName: "app-storage", protect: true },
          { providers: [s.provider] },
        ).protected,
    );
    expect(objects[0]).toMatchObject({
      metadata: { name: "data", namespace: "shop" },
      spec: {
        accessModes: ["ReadWriteOnce"],
        storageClassName: "app-storage",
        resources: { requests: { storage: "20Gi" } },
      },
    });
    expect(value).toBe(true);
  });

  it("protects data in production and not elsewhere", () => {
    expect(dataProtection(true)).toEqual({ protect: true, retainOnDelete: true });
    expect(dataProtection(false)).toEqual({});
  });
});

describe("PriorityClasses", () => {
  it("defines three tiers, and the lowest never preempts", async () => {
    const { objects } = await runComponents((s) => new s.components.PriorityClasses("p", { providers: [s.provider] }));
    expect(objects.map((o) => [o.metadata.name, o.value, o.preemptionPolicy])).toEqual([
      ["blueprint-critical", 100000, "PreemptLowerPriority"],
      ["blueprint-standard", 10000, "PreemptLowerPriority"],
      ["blueprint-low", 1000, "Never"],
    ]);
  });
});

describe("labels", () => {
  it("keeps the version out of selectors", () => {
    const id = { name: "web", instance: "web", component: "server", partOf: "shop", version: "r1" };
    expect(recommendedLabels(id)["app.kubernetes.io/version"]).toBe("r1");
    expect(selectorLabels(id)).toEqual({ "app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web" });
  });
});
