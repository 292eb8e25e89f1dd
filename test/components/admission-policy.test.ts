import { admissionFailures, podFromTemplate, type AdmissionSpec } from "../helpers/cel";
import {
  asPlatform,
  byKind,
  getObject,
  runComponents,
  runEnvironment,
  runStack,
  runStackError,
  setConfig,
  shippedEnvironments,
  stackConfig,
  type K8sObject,
} from "../helpers/program";

const DIGEST = `sha256:${"a".repeat(64)}`;
const ALLOWED = ["ghcr.io", "europe-west1-docker.pkg.dev/acme/ghcr"];

const policyNamed = (objects: readonly K8sObject[], name: string) =>
  objects.find((o) => o.kind === "ValidatingAdmissionPolicy" && o.metadata.name === name);
const imagePolicy = (objects: readonly K8sObject[]) => policyNamed(objects, "blueprint-team-images")!;
const specOf = (policy: K8sObject) => policy.spec as AdmissionSpec;
/** Every policy's validations together (they share their variables), as the API server applies them all. */
const POD_POLICIES = ["blueprint-team-images", "blueprint-team-pod-security"];
const allPolicies = (objects: readonly K8sObject[]): AdmissionSpec => {
  const specs = objects
    .filter((o) => o.kind === "ValidatingAdmissionPolicy" && POD_POLICIES.includes(o.metadata.name))
    .map(specOf);
  return {
    matchConditions: specs[0].matchConditions,
    variables: specs[0].variables,
    validations: specs.flatMap((s) => s.validations),
  };
};
const bindingValues = (objects: readonly K8sObject[], name: string) =>
  (
    objects.find((o) => o.kind === "ValidatingAdmissionPolicyBinding" && o.metadata.name === name)?.spec as
      { matchResources: { namespaceSelector: { matchExpressions: { values: string[] }[] } } } | undefined
  )?.matchResources.namespaceSelector.matchExpressions[0].values;

/** A pod that passes every rule; each negative case below breaks exactly one thing. */
function goodPod(): K8sObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web", namespace: "shop" },
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: "RuntimeDefault" } },
      containers: [
        {
          name: "app",
          image: `ghcr.io/acme/web@${DIGEST}`,
          ports: [{ containerPort: 8080 }],
          securityContext: {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
            readOnlyRootFilesystem: true,
          },
        },
      ],
      volumes: [
        { name: "tmp", emptyDir: {} },
        { name: "config", configMap: { name: "web" } },
      ],
    },
  };
}

type Edit = (spec: Record<string, any>) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
const edited = (edit: Edit): K8sObject => {
  const pod = goodPod();
  edit(pod.spec as Record<string, unknown>);
  return pod;
};

const NEGATIVE: ReadonlyArray<[string, Edit, RegExp]> = [
  [
    "an image pinned by tag",
    (s) => {
      s.containers[0].image = "ghcr.io/acme/web:1.2";
    },
    /pinned by digest/,
  ],
  [
    "an image with a tag and no digest from an allowed registry",
    (s) => {
      s.containers[0].image = "ghcr.io/acme/web:latest";
    },
    /pinned by digest/,
  ],
  [
    "an image from a foreign registry",
    (s) => {
      s.containers[0].image = `docker.io/library/nginx@${DIGEST}`;
    },
    /allowed registry/,
  ],
  [
    "a registry that only starts like an allowed one",
    (s) => {
      s.containers[0].image = `ghcr.io.evil.example/acme/web@${DIGEST}`;
    },
    /allowed registry/,
  ],
  [
    "another project's repository in the mirror's registry",
    (s) => {
      s.containers[0].image = `europe-west1-docker.pkg.dev/other/ghcr/web@${DIGEST}`;
    },
    /allowed registry/,
  ],
  [
    "a short Docker Hub name",
    (s) => {
      s.containers[0].image = `nginx@${DIGEST}`;
    },
    /allowed registry/,
  ],
  [
    "an ephemeral debug container with a tag",
    (s) => {
      s.ephemeralContainers = [
        { name: "debug", image: "ghcr.io/acme/debug:latest", securityContext: s.containers[0].securityContext },
      ];
    },
    /pinned by digest/,
  ],
  [
    "an init container from a foreign registry",
    (s) => {
      s.initContainers = [{ ...s.containers[0], name: "init", image: `quay.io/x/y@${DIGEST}` }];
    },
    /allowed registry/,
  ],
  [
    "a privileged container",
    (s) => {
      s.containers[0].securityContext.privileged = true;
    },
    /privileged/,
  ],
  [
    "a pod without runAsNonRoot",
    (s) => {
      delete s.securityContext.runAsNonRoot;
    },
    /runAsNonRoot/,
  ],
  [
    "a container that sets runAsNonRoot: false",
    (s) => {
      s.containers[0].securityContext.runAsNonRoot = false;
    },
    /runAsNonRoot/,
  ],
  [
    "a container running as root",
    (s) => {
      s.containers[0].securityContext.runAsUser = 0;
    },
    /runAsUser: 0/,
  ],
  [
    "a pod running as root",
    (s) => {
      s.securityContext.runAsUser = 0;
    },
    /runAsUser: 0/,
  ],
  [
    "a hostPath volume",
    (s) => {
      s.volumes.push({ name: "host", hostPath: { path: "/var/run" } });
    },
    /no hostPath/,
  ],
  [
    "host networking",
    (s) => {
      s.hostNetwork = true;
    },
    /host namespaces/,
  ],
  [
    "the host PID namespace",
    (s) => {
      s.hostPID = true;
    },
    /host namespaces/,
  ],
  [
    "a host port",
    (s) => {
      s.containers[0].ports[0].hostPort = 8080;
    },
    /host ports/,
  ],
  [
    "privilege escalation left on",
    (s) => {
      delete s.containers[0].securityContext.allowPrivilegeEscalation;
    },
    /allowPrivilegeEscalation/,
  ],
  [
    "capabilities not dropped",
    (s) => {
      s.containers[0].securityContext.capabilities = {};
    },
    /drop ALL/,
  ],
  [
    "an added capability other than NET_BIND_SERVICE",
    (s) => {
      s.containers[0].securityContext.capabilities.add = ["SYS_ADMIN"];
    },
    /drop ALL/,
  ],
  [
    "no seccomp profile",
    (s) => {
      delete s.securityContext.seccompProfile;
    },
    /seccomp/,
  ],
  [
    "an Unconfined seccomp profile on the container",
    (s) => {
      s.containers[0].securityContext.seccompProfile = { type: "Unconfined" };
    },
    /seccomp/,
  ],
];

describe("AdmissionPolicy", () => {
  let spec: AdmissionSpec;
  let policies: K8sObject[];
  beforeAll(async () => {
    const { objects } = await runComponents(
      (s) =>
        new s.components.AdmissionPolicy(
          "team-pods",
          { namespaces: ["shop", "data"], restrictedNamespaces: ["shop"], allowedRegistries: ALLOWED },
          { providers: [s.provider] },
        ),
    );
    const binding = objects.find(
      (o) => o.kind === "ValidatingAdmissionPolicyBinding" && o.metadata.name === "blueprint-team-images",
    )!;
    expect(binding.spec).toEqual({
      policyName: "blueprint-team-images",
      validationActions: ["Deny"],
      matchResources: {
        namespaceSelector: {
          matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: ["shop", "data"] }],
        },
      },
    });
    expect(bindingValues(objects, "blueprint-team-pod-security")).toEqual(["shop"]);
    const policy = imagePolicy(objects);
    expect(policy.apiVersion).toBe("admissionregistration.k8s.io/v1");
    expect(policy.metadata.annotations).toEqual({ "blueprint.dev/allowed-registries": ALLOWED.join(",") });
    spec = allPolicies(objects);
    policies = objects.filter((o) => o.kind === "ValidatingAdmissionPolicy" && POD_POLICIES.includes(o.metadata.name));
  });

  it("matches pods and the workloads that create them, on create and update, and fails closed", () => {
    expect(policies.map((p) => p.metadata.name)).toEqual(["blueprint-team-images", "blueprint-team-pod-security"]);
    for (const p of policies) {
      const s = p.spec as {
        failurePolicy: string;
        matchConstraints: { resourceRules: { resources: string[]; operations: string[] }[] };
      };
      expect(s.failurePolicy).toBe("Fail");
      expect(s.matchConstraints.resourceRules.flatMap((r) => r.resources)).toEqual([
        "pods",
        "pods/ephemeralcontainers",
        "deployments",
        "replicasets",
        "statefulsets",
        "daemonsets",
        "jobs",
        "cronjobs",
      ]);
      for (const r of s.matchConstraints.resourceRules) expect(r.operations).toEqual(["CREATE", "UPDATE"]);
    }
  });

  it("admits a pinned, restricted pod from an allowed registry, and a NET_BIND_SERVICE capability", () => {
    expect(admissionFailures(spec, goodPod())).toEqual([]);
    expect(
      admissionFailures(
        spec,
        edited((s) => {
          s.containers[0].securityContext.capabilities.add = ["NET_BIND_SERVICE"];
        }),
      ),
    ).toEqual([]);
    expect(
      admissionFailures(
        spec,
        edited((s) => {
          s.containers[0].image = `europe-west1-docker.pkg.dev/acme/ghcr/web@${DIGEST}`;
        }),
      ),
    ).toEqual([]);
  });

  it.each(NEGATIVE)("refuses %s", (_what, edit, message) => {
    const failures = admissionFailures(spec, edited(edit));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(message);
  });

  it("refuses the same pod spec in a Deployment and a CronJob, before any pod exists", () => {
    const bad = edited((s) => {
      s.containers[0].image = "ghcr.io/acme/web:1";
    });
    const deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web" },
      spec: { template: { spec: bad.spec } },
    };
    const cronJob = {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "web" },
      spec: { jobTemplate: { spec: { template: { spec: bad.spec } } } },
    };
    expect(admissionFailures(spec, deployment)).toEqual([expect.stringMatching(/pinned by digest/)]);
    expect(admissionFailures(spec, cronJob)).toEqual([expect.stringMatching(/pinned by digest/)]);
    expect(admissionFailures(spec, { ...deployment, spec: { template: { spec: goodPod().spec } } })).toEqual([]);
  });

  it("refuses an allow-list entry that is not a registry prefix", async () => {
    await expect(
      runComponents(
        (s) =>
          new s.components.AdmissionPolicy(
            "p",
            { namespaces: ["shop"], restrictedNamespaces: [], allowedRegistries: ["ghcr.io'] || true || ['"] },
            { providers: [s.provider] },
          ),
      ),
    ).rejects.toThrow(/allowed registries must be registry hosts/);
  });
});

describe("the admission policy of each shipped stack", () => {
  it.each(shippedEnvironments())(
    "%s: binds the team namespaces and admits every pod the team stacks' workloads create",
    async (env) => {
      const { platform, teams: teamRuns } = await runEnvironment(env);
      const objects = platform.objects as K8sObject[];
      // Team namespaces: the platform's own (monitoring, logging, opensearch) are not bound.
      const teams = [...byKind(platform, "Namespace").values()]
        .filter((n) => n.metadata.labels?.["app.kubernetes.io/part-of"] !== "platform")
        .map((n) => n.metadata.name);
      expect([...teams].sort()).toEqual(["payments", "shop"]);
      expect(bindingValues(objects, "blueprint-team-images")).toEqual(teams);
      expect(bindingValues(objects, "blueprint-team-pod-security")).toEqual(teams);
      const spec = allPolicies(objects);
      // Two image rules and every restricted check of the pinned minor (16 from 1.34 on).
      expect(spec.validations.length).toBeGreaterThanOrEqual(16);
      const workloads = Object.values(teamRuns).flatMap((r) => [
        ...byKind(r, "Deployment").values(),
        ...byKind(r, "Job").values(),
      ]);
      expect(workloads.length).toBeGreaterThan(0);
      for (const w of workloads) {
        expect(admissionFailures(spec, w)).toEqual([]);
        expect(admissionFailures(spec, podFromTemplate(w))).toEqual([]);
      }
      // What the team stacks write besides pods passes the policies on NetworkPolicies, Services and Ingresses.
      const byPolicy: Record<string, string> = {
        NetworkPolicy: "blueprint-team-network-policies",
        Service: "blueprint-team-services",
        Ingress: "blueprint-team-ingresses",
      };
      const others = Object.values(teamRuns).flatMap((r) => (r.objects as K8sObject[]).filter((o) => byPolicy[o.kind]));
      expect(others.length).toBeGreaterThan(0);
      for (const o of others)
        expect([
          o.kind,
          o.metadata.name,
          admissionFailures(specOf(policyNamed(objects, byPolicy[o.kind])!), o),
        ]).toEqual([o.kind, o.metadata.name, []]);
    },
  );

  it("allows only the mirror on a cluster that pulls through one, and the release's registry elsewhere", async () => {
    const gke = imagePolicy((await runStack("prod-gke.platform")).objects as K8sObject[]);
    // ghcr.io only through the mirror, and nothing else.
    expect(gke.metadata.annotations!["blueprint.dev/allowed-registries"]).toBe(
      "europe-west1-docker.pkg.dev/acme-blueprint-prod/ghcr",
    );
    const upstream = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "x" },
      spec: { ...(goodPod().spec as object) },
    } as K8sObject;
    expect(admissionFailures(specOf(gke), upstream)).toEqual([expect.stringMatching(/allowed registry/)]);
    const dev = imagePolicy((await runStack("dev.platform")).objects as K8sObject[]);
    expect(dev.metadata.annotations!["blueprint.dev/allowed-registries"]).toBe(
      "docker.io/library,docker.io/valkey,ghcr.io",
    );
  });

  it.each(["staging", "prod", "prod-gke"])(
    "%s: refuses a team image from docker.io/library, and never binds the platform's data namespace",
    async (env) => {
      const platform = await runStack(`${env}.platform`);
      const objects = platform.objects as K8sObject[];
      const alpine = edited((s) => {
        s.containers[0].image = `docker.io/library/alpine@${DIGEST}`;
      });
      expect(admissionFailures(specOf(imagePolicy(objects)), alpine)).toEqual([
        expect.stringMatching(
          /^every image must come from an allowed registry: (ghcr\.io|europe-west1-docker\.pkg\.dev\/\S+)$/,
        ),
      ]);
      // The users Job of managed databases runs in blueprint-data, which no team policy binds.
      const job = [...byKind(platform, "Job").values()].find((j) => j.metadata.namespace === "blueprint-data");
      expect(job).toBeDefined();
      for (const policy of objects.filter((o) => o.kind === "ValidatingAdmissionPolicyBinding"))
        expect([policy.metadata.name, bindingValues(objects, policy.metadata.name)]).toEqual([
          policy.metadata.name,
          expect.not.arrayContaining(["blueprint-data"]),
        ]);
    },
  );

  it("admits a release Job's pods, and adds the registries of blueprint:policy.allowedRegistries", async () => {
    // The in-cluster backing services' upstream images stay allowed (docker.io/library, docker.io/valkey).
    const platform = await runStack(
      "dev.platform",
      setConfig(stackConfig("dev.platform"), "blueprint:policy", {
        allowedRegistries: ["ghcr.io", "docker.io/library", "docker.io/valkey", "registry.example.com/platform"],
      }),
    );
    const policy = getObject(platform, "ValidatingAdmissionPolicy", "blueprint-team-images");
    expect(policy.metadata.annotations!["blueprint.dev/allowed-registries"]).toBe(
      "docker.io/library,docker.io/valkey,ghcr.io,registry.example.com/platform",
    );
    const cfg = setConfig(stackConfig("dev.shop"), "blueprint:apps.backend.releaseJob", {
      command: ["./podinfo", "--version"],
    });
    const result = await runStack("dev.shop", cfg, { stacks: asPlatform(platform) });
    const job = [...byKind(result, "Job").values()][0];
    expect(admissionFailures(specOf(policy), podFromTemplate(job))).toEqual([]);
    const platformImage = edited((s) => {
      s.containers[0].image = `registry.example.com/platform/tool@${DIGEST}`;
    });
    expect(admissionFailures(specOf(policy), platformImage)).toEqual([]);
  });

  it("leaves Pod Security to the namespace's own level for a team configured baseline, but still checks its images", async () => {
    const cfg = setConfig(stackConfig("dev.platform"), "blueprint:teams.shop.podSecurity", "baseline");
    const objects = (await runStack("dev.platform", cfg)).objects as K8sObject[];
    expect(bindingValues(objects, "blueprint-team-images")).toEqual(["shop", "payments"]);
    expect(bindingValues(objects, "blueprint-team-pod-security")).toEqual(["payments"]);
  });

  it("refuses a blueprint:policy.allowedRegistries entry that is not a registry prefix, naming the stack file and key", async () => {
    const cfg = setConfig(stackConfig("dev.platform"), "blueprint:policy", { allowedRegistries: ["https://ghcr.io"] });
    expect(await runStackError("dev.platform", cfg)).toMatch(
      /stacks\/Pulumi\.dev\.platform\.yaml: blueprint:policy\.allowedRegistries\.0 must be a registry host/,
    );
  });
});
