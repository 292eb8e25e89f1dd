import { podSecurityPolicySpec, teamImagePolicySpec } from "../../components/admission-rules";
import { restrictedProblems } from "../../policy/rules";
import { admissionFailures, type AdmissionSpec } from "../helpers/cel";
import type { K8sObject } from "../helpers/program";

/**
 * The admission policy for `restricted` namespaces and the policy pack's restricted rule decide
 * as Kubernetes' Pod Security admission does at the pinned minor (kubernetes/pod-security-admission,
 * policy/check_*.go). Each case is one pod as admission sees it (after defaulting), with the
 * minors it applies to and whether Pod Security admits it there.
 */

const DIGEST = `sha256:${"a".repeat(64)}`;
type Spec = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Case = readonly [
  what: string,
  edit: (spec: Spec, annotations: Record<string, string>) => void,
  admittedFrom: readonly string[],
  refusedAt: readonly string[],
];

function pod(edit: Case[1]): { spec: Spec; annotations: Record<string, string> } {
  const spec: Spec = {
    securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: "RuntimeDefault" } },
    containers: [
      {
        name: "app",
        image: `ghcr.io/acme/web@${DIGEST}`,
        ports: [{ containerPort: 8080, protocol: "TCP" }],
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
        readinessProbe: { httpGet: { path: "/readyz", port: 8080, scheme: "HTTP" } },
      },
    ],
    volumes: [{ name: "tmp", emptyDir: {} }],
  };
  const annotations: Record<string, string> = {};
  edit(spec, annotations);
  return { spec, annotations };
}

const ALL = ["1.30", "1.31", "1.33", "1.34", "1.35", "1.37"];
const c0 = (s: Spec) => s.containers[0];
const ctx = (s: Spec) => c0(s).securityContext;

const CASES: readonly Case[] = [
  ["the baseline pod", () => {}, ALL, []],
  // AppArmor (check_appArmorProfile.go)
  [
    "a pod AppArmor profile RuntimeDefault",
    (s) => {
      s.securityContext.appArmorProfile = { type: "RuntimeDefault" };
    },
    ALL,
    [],
  ],
  [
    "a container AppArmor profile Localhost",
    (s) => {
      ctx(s).appArmorProfile = { type: "Localhost", localhostProfile: "k8s-app" };
    },
    ALL,
    [],
  ],
  [
    "a pod AppArmor profile Unconfined",
    (s) => {
      s.securityContext.appArmorProfile = { type: "Unconfined" };
    },
    [],
    ALL,
  ],
  [
    "a container AppArmor profile Unconfined",
    (s) => {
      ctx(s).appArmorProfile = { type: "Unconfined" };
    },
    [],
    ALL,
  ],
  [
    "an AppArmor annotation runtime/default",
    (_s, a) => {
      a["container.apparmor.security.beta.kubernetes.io/app"] = "runtime/default";
    },
    ALL,
    [],
  ],
  [
    "an AppArmor annotation localhost/profile",
    (_s, a) => {
      a["container.apparmor.security.beta.kubernetes.io/app"] = "localhost/k8s-app";
    },
    ALL,
    [],
  ],
  [
    "an AppArmor annotation unconfined",
    (_s, a) => {
      a["container.apparmor.security.beta.kubernetes.io/app"] = "unconfined";
    },
    [],
    ALL,
  ],
  // Probe and lifecycle hosts (check_hostProbesAndhostLifecycle.go, from 1.34)
  [
    "a readiness probe with an empty host",
    (s) => {
      c0(s).readinessProbe.httpGet.host = "";
    },
    ALL,
    [],
  ],
  [
    "an HTTP readiness probe to another host",
    (s) => {
      c0(s).readinessProbe.httpGet.host = "10.0.0.1";
    },
    ["1.30", "1.33"],
    ["1.34", "1.35", "1.37"],
  ],
  [
    "a TCP liveness probe to another host",
    (s) => {
      c0(s).livenessProbe = { tcpSocket: { port: 8080, host: "example.com" } };
    },
    ["1.33"],
    ["1.34"],
  ],
  [
    "a preStop hook to another host",
    (s) => {
      c0(s).lifecycle = { preStop: { httpGet: { path: "/", port: 80, host: "169.254.169.254" } } };
    },
    ["1.31"],
    ["1.34", "1.37"],
  ],
  [
    "a postStart TCP hook to another host",
    (s) => {
      c0(s).lifecycle = { postStart: { tcpSocket: { port: 80, host: "db" } } };
    },
    ["1.33"],
    ["1.34"],
  ],
  [
    "a preStop sleep",
    (s) => {
      c0(s).lifecycle = { preStop: { sleep: { seconds: 5 } } };
    },
    ALL,
    [],
  ],
  // procMount (check_procMount_baseline.go, check_procMount_restricted.go)
  [
    "procMount Default",
    (s) => {
      ctx(s).procMount = "Default";
    },
    ALL,
    [],
  ],
  [
    "procMount Unmasked",
    (s) => {
      ctx(s).procMount = "Unmasked";
    },
    [],
    ALL,
  ],
  [
    "procMount Unmasked in a user namespace (restricted still refuses it)",
    (s) => {
      ctx(s).procMount = "Unmasked";
      s.hostUsers = false;
    },
    [],
    ALL,
  ],
  // seLinuxOptions (check_seLinuxOptions.go; container_engine_t from 1.31)
  [
    "SELinux type container_t",
    (s) => {
      s.securityContext.seLinuxOptions = { type: "container_t", level: "s0:c123,c456" };
    },
    ALL,
    [],
  ],
  [
    "SELinux type container_engine_t",
    (s) => {
      ctx(s).seLinuxOptions = { type: "container_engine_t" };
    },
    ["1.31", "1.34"],
    ["1.30"],
  ],
  [
    "SELinux type spc_t",
    (s) => {
      ctx(s).seLinuxOptions = { type: "spc_t" };
    },
    [],
    ALL,
  ],
  [
    "an SELinux user",
    (s) => {
      s.securityContext.seLinuxOptions = { user: "system_u" };
    },
    [],
    ALL,
  ],
  [
    "an SELinux role",
    (s) => {
      ctx(s).seLinuxOptions = { role: "system_r" };
    },
    [],
    ALL,
  ],
  // sysctls (check_sysctls.go: sets of 1.0, 1.27, 1.29, 1.32, 1.37)
  [
    "a safe sysctl",
    (s) => {
      s.securityContext.sysctls = [{ name: "net.ipv4.ip_unprivileged_port_start", value: "0" }];
    },
    ALL,
    [],
  ],
  [
    "net.ipv4.tcp_rmem",
    (s) => {
      s.securityContext.sysctls = [{ name: "net.ipv4.tcp_rmem", value: "4096 87380 16777216" }];
    },
    ["1.33", "1.37"],
    ["1.30", "1.31"],
  ],
  [
    "net.ipv4.tcp_notsent_lowat",
    (s) => {
      s.securityContext.sysctls = [{ name: "net.ipv4.tcp_notsent_lowat", value: "16384" }];
    },
    ["1.37"],
    ["1.34", "1.35"],
  ],
  [
    "kernel.msgmax",
    (s) => {
      s.securityContext.sysctls = [{ name: "kernel.msgmax", value: "65536" }];
    },
    [],
    ALL,
  ],
  // Windows hostProcess (check_windowsHostProcess.go)
  [
    "a pod hostProcess",
    (s) => {
      s.securityContext.windowsOptions = { hostProcess: true };
    },
    [],
    ALL,
  ],
  [
    "a container hostProcess",
    (s) => {
      ctx(s).windowsOptions = { hostProcess: true };
    },
    [],
    ALL,
  ],
  [
    "hostProcess false",
    (s) => {
      ctx(s).windowsOptions = { hostProcess: false };
    },
    ALL,
    [],
  ],
  // Volumes (check_restrictedVolumes.go)
  [
    "an image volume",
    (s) => {
      s.volumes.push({ name: "model", image: { reference: `ghcr.io/acme/model@${DIGEST}` } });
    },
    ALL,
    [],
  ],
  [
    "a projected and a CSI volume",
    (s) => {
      s.volumes.push(
        { name: "token", projected: { sources: [] } },
        { name: "secrets", csi: { driver: "secrets-store.csi.k8s.io" } },
      );
    },
    ALL,
    [],
  ],
  [
    "a hostPath volume",
    (s) => {
      s.volumes.push({ name: "host", hostPath: { path: "/" } });
    },
    [],
    ALL,
  ],
  [
    "an NFS volume",
    (s) => {
      s.volumes.push({ name: "nfs", nfs: { server: "nfs", path: "/" } });
    },
    [],
    ALL,
  ],
  [
    "a gitRepo volume",
    (s) => {
      s.volumes.push({ name: "git", gitRepo: { repository: "https://x" } });
    },
    [],
    ALL,
  ],
  // runAsNonRoot and runAsUser (relaxed for user-namespace pods from 1.35)
  [
    "a pod runAsNonRoot false though every container sets true",
    (s) => {
      s.securityContext.runAsNonRoot = false;
      ctx(s).runAsNonRoot = true;
    },
    [],
    ALL,
  ],
  [
    "runAsUser 0 in a user namespace",
    (s) => {
      s.securityContext.runAsUser = 0;
      s.hostUsers = false;
    },
    ["1.35", "1.37"],
    ["1.30", "1.34"],
  ],
  [
    "no runAsNonRoot in a user namespace",
    (s) => {
      delete s.securityContext.runAsNonRoot;
      s.hostUsers = false;
    },
    ["1.35"],
    ["1.33", "1.34"],
  ],
  [
    "runAsUser 0 with hostUsers true",
    (s) => {
      s.securityContext.runAsUser = 0;
      s.hostUsers = true;
    },
    [],
    ALL,
  ],
  // Windows pods are exempt from seccomp, capabilities and allowPrivilegeEscalation (1.25+)
  [
    "a Windows pod without seccomp, capabilities or allowPrivilegeEscalation",
    (s) => {
      s.os = { name: "windows" };
      delete s.securityContext.seccompProfile;
      delete ctx(s).allowPrivilegeEscalation;
      delete ctx(s).capabilities;
    },
    ALL,
    [],
  ],
  [
    "a Linux pod without seccomp",
    (s) => {
      s.os = { name: "linux" };
      delete s.securityContext.seccompProfile;
    },
    [],
    ALL,
  ],
  // What was already covered still holds
  [
    "an init container that may escalate",
    (s) => {
      s.initContainers = [{ ...c0(s), name: "init", securityContext: { capabilities: { drop: ["ALL"] } } }];
    },
    [],
    ALL,
  ],
  [
    "an ephemeral container with SYS_PTRACE",
    (s) => {
      s.ephemeralContainers = [
        {
          name: "debug",
          image: c0(s).image,
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"], add: ["SYS_PTRACE"] } },
        },
      ];
    },
    [],
    ALL,
  ],
  [
    "a host port",
    (s) => {
      c0(s).ports[0].hostPort = 8080;
    },
    [],
    ALL,
  ],
  [
    "host networking",
    (s) => {
      s.hostNetwork = true;
    },
    [],
    ALL,
  ],
  [
    "a privileged container",
    (s) => {
      ctx(s).privileged = true;
    },
    [],
    ALL,
  ],
];

const asPod = (spec: Spec, annotations: Record<string, string>): K8sObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web", namespace: "shop", annotations },
  spec,
});
const asDeployment = (spec: Spec, annotations: Record<string, string>): K8sObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "shop" },
  spec: { template: { metadata: { annotations }, spec } },
});

describe("Pod Security restricted, as Pod Security admission decides it at the pinned minor", () => {
  const rows = CASES.flatMap(([what, edit, admitted, refused]) => [
    ...admitted.map((v) => [`${v}: admits ${what}`, edit, v, true] as const),
    ...refused.map((v) => [`${v}: refuses ${what}`, edit, v, false] as const),
  ]);
  const specs = new Map<string, AdmissionSpec>();
  const specFor = (v: string) => specs.get(v) ?? specs.set(v, podSecurityPolicySpec(v) as AdmissionSpec).get(v)!;

  it.each(rows)("%s (admission policy and policy pack alike)", (_name, edit, version, admitted) => {
    const { spec, annotations } = pod(edit);
    const cel = admissionFailures(specFor(version), asPod(spec, annotations));
    const inTemplate = admissionFailures(specFor(version), asDeployment(spec, annotations));
    const pack = restrictedProblems(spec, version, annotations);
    if (admitted) {
      expect(cel).toEqual([]);
      expect(inTemplate).toEqual([]);
      expect(pack).toEqual([]);
    } else {
      expect(cel.length).toBeGreaterThan(0);
      expect(cel.join("\n")).not.toMatch(/error:|variable /);
      expect(inTemplate).toEqual(cel);
      expect(pack.length).toBeGreaterThan(0);
    }
  });
});

describe("an update that leaves the pod template as it was is not judged again", () => {
  const policy = teamImagePolicySpec(["registry.example.com"]) as AdmissionSpec;
  const old = `ghcr.io/acme/web@${DIGEST}`;
  const replicaSet = (replicas: number, img = old): K8sObject => ({
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name: "web-1", namespace: "shop" },
    spec: {
      replicas,
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "app", image: img }] } },
    },
  });
  const job = (finalizers: string[]): K8sObject => ({
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "migrate", namespace: "shop", finalizers } as K8sObject["metadata"],
    spec: { template: { spec: { containers: [{ name: "app", image: old }] } } },
  });

  it("lets an old ReplicaSet from a registry no longer allowed scale down", () => {
    expect(admissionFailures(policy, replicaSet(0), { operation: "UPDATE", oldObject: replicaSet(3) })).toEqual([]);
  });

  it("lets a Job's finalizer be removed", () => {
    expect(
      admissionFailures(policy, job([]), { operation: "UPDATE", oldObject: job(["batch.kubernetes.io/job-tracking"]) }),
    ).toEqual([]);
  });

  it("still refuses an update that changes the template, and every create", () => {
    expect(
      admissionFailures(policy, replicaSet(3, `ghcr.io/acme/other@${DIGEST}`), {
        operation: "UPDATE",
        oldObject: replicaSet(3),
      }),
    ).toEqual([expect.stringMatching(/allowed registry/)]);
    expect(admissionFailures(policy, replicaSet(3))).toEqual([expect.stringMatching(/allowed registry/)]);
    const pod = (img: string): K8sObject => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", namespace: "shop" },
      spec: { containers: [{ name: "app", image: img }] },
    });
    expect(
      admissionFailures(policy, pod(`ghcr.io/acme/x@${DIGEST}`), { operation: "UPDATE", oldObject: pod(old) }),
    ).toEqual([expect.stringMatching(/allowed registry/)]);
    expect(admissionFailures(policy, pod(old), { operation: "UPDATE", oldObject: pod(old) })).toEqual([]);
  });

  it("applies the same condition to the Pod Security policy", () => {
    const restricted = podSecurityPolicySpec("1.34") as AdmissionSpec;
    const bad = replicaSet(0);
    expect(admissionFailures(restricted, bad, { operation: "UPDATE", oldObject: replicaSet(2) })).toEqual([]);
    expect(admissionFailures(restricted, bad).length).toBeGreaterThan(0);
  });
});
