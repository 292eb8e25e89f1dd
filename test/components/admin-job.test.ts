import { byKind, runComponents, runStack, setConfig, stackConfig, type K8sObject } from "../helpers/program";

const IMAGE = `registry.example.com/shop/web@sha256:${"c".repeat(64)}`;
const resources = {
  requests: { cpu: "100m", memory: "128Mi", "ephemeral-storage": "256Mi" },
  limits: { cpu: "200m", memory: "256Mi", "ephemeral-storage": "512Mi" },
};
const identity = { name: "web", instance: "web", component: "server", partOf: "shop" };

type JobPod = {
  spec: {
    restartPolicy: string;
    containers: Array<{ image: string; command: string[]; securityContext: Record<string, unknown> }>;
    securityContext: Record<string, unknown>;
  };
};
const jobPod = (o: K8sObject) => (o.spec as { template: JobPod }).template;

describe("AdminJob", () => {
  it("runs the release image once, never restarting, under Pod Security restricted", async () => {
    const { objects } = await runComponents(
      (s) =>
        new s.components.AdminJob(
          "web",
          {
            identity,
            namespace: "shop",
            image: IMAGE,
            command: ["./migrate"],
            resources,
            priorityClassName: "blueprint-low",
          },
          { providers: [s.provider] },
        ),
    );
    const job = objects.find((o) => o.kind === "Job")!;
    expect(job.metadata.name).toMatch(/^web-admin-[0-9a-f]{8}$/);
    expect(job.spec).toMatchObject({ backoffLimit: 2, activeDeadlineSeconds: 600 });
    const pod = jobPod(job);
    expect(pod.spec.restartPolicy).toBe("Never");
    expect(pod.spec.containers[0]).toMatchObject({
      image: IMAGE,
      command: ["./migrate"],
      securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
    });
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(objects.find((o) => o.kind === "ServiceAccount")).toMatchObject({
      metadata: { name: "web-admin" },
      automountServiceAccountToken: false,
    });
  });

  it("refuses a tag and an empty command", async () => {
    await expect(
      runComponents(
        (s) =>
          new s.components.AdminJob(
            "web",
            { identity, namespace: "shop", image: "web:1", command: ["x"], resources, priorityClassName: "p" },
            { providers: [s.provider] },
          ),
      ),
    ).rejects.toThrow(/AdminJob web: image must be pinned by digest/);
    await expect(
      runComponents(
        (s) =>
          new s.components.AdminJob(
            "web",
            { identity, namespace: "shop", image: IMAGE, command: [], resources, priorityClassName: "p" },
            { providers: [s.provider] },
          ),
      ),
    ).rejects.toThrow(/command must not be empty/);
  });

  it("runs in a stack with the digest the Deployment runs, and is renamed by a new release", async () => {
    const cfg = setConfig(stackConfig("dev.shop"), "blueprint:apps.backend.releaseJob", {
      command: ["./podinfo", "--version"],
    });
    const first = await runStack("dev.shop", cfg);
    const job = [...byKind(first, "Job").values()];
    expect(job).toHaveLength(1);
    const deploymentImage = (byKind(first, "Deployment").get("shop/backend")!.spec as { template: JobPod }).template
      .spec.containers[0].image;
    expect(jobPod(job[0]).spec.containers[0].image).toBe(deploymentImage);
    // The Job's pods are not selected by the app's Deployment, Service or PDB.
    const selector = (
      byKind(first, "Deployment").get("shop/backend")!.spec as { selector: { matchLabels: Record<string, string> } }
    ).selector.matchLabels;
    const jobLabels = (job[0].spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata
      .labels;
    expect(Object.entries(selector).every(([k, v]) => jobLabels[k] === v)).toBe(false);
    expect(jobLabels["app.kubernetes.io/instance"]).toBe("backend-admin");
    const next = await runStack(
      "dev.shop",
      setConfig(cfg, "blueprint:release.images.podinfo", `ghcr.io/stefanprodan/podinfo@sha256:${"d".repeat(64)}`),
    );
    const nextJobs = [...byKind(next, "Job").entries()];
    const [firstName] = [...byKind(first, "Job").keys()];
    // One Job, under a new name (a Job's pod template is immutable), running the new digest.
    expect(nextJobs.map(([id]) => id)).toEqual([expect.stringMatching(/^shop\/backend-admin/)]);
    expect(nextJobs[0][0]).not.toBe(firstName);
    expect(jobPod(nextJobs[0][1]).spec.containers[0].image).toBe(
      `ghcr.io/stefanprodan/podinfo@sha256:${"d".repeat(64)}`,
    );
  });
});
