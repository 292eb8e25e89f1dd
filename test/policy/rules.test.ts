import { evaluate, RULES, type PolicyResourceView, type Rule, type RuleConfig } from "../../policy/rules";
import { policyViews } from "../../tools/audit";
import { runStack } from "../helpers/program";
import { MANAGED_USERS_IMAGE } from "../../lib/services";

const DIGEST = `sha256:${"b".repeat(64)}`;
const CONFIG: RuleConfig = { allowedRegistries: ["ghcr.io"], platformNamespaces: ["kube-system"] };
const rule = (name: string): Rule => RULES.find((r) => r.name === name)!;
const check = (name: string, views: readonly PolicyResourceView[], config: RuleConfig = CONFIG) =>
  evaluate([rule(name)], views, () => config).map((v) => v.message);

/** A deep copy of a view with its props edited. */
function edit(
  view: PolicyResourceView,
  change: (props: Record<string, any>) => void, // eslint-disable-line @typescript-eslint/no-explicit-any
  protect = view.protect,
): PolicyResourceView {
  const props = structuredClone(view.props) as Record<string, unknown>;
  change(props);
  return { ...view, props, protect };
}

const podSpec = (props: Record<string, any>) => props.spec.template.spec; // eslint-disable-line @typescript-eslint/no-explicit-any

let prod: PolicyResourceView[];
const find = (kind: string, name?: string) =>
  prod.find((v) => v.props.kind === kind && (!name || (v.props.metadata as { name: string }).name === name))!;

beforeAll(async () => {
  // The prod environment: its platform and the shop team's stack.
  prod = [...policyViews(await runStack("prod.platform")), ...policyViews(await runStack("prod.shop"))];
});

describe("the policy rules", () => {
  it("find nothing wrong with what the components render for production", () => {
    // prod's allow-list (stacks/Pulumi.prod.platform.yaml), and the data namespace's Job's exact image.
    expect(evaluate(RULES, prod, () => ({ ...CONFIG, platformImages: [MANAGED_USERS_IMAGE] }))).toEqual([]);
  });

  it("images-pinned-by-digest refuses a tag in any container, init containers included", () => {
    const d = find("Deployment", "frontend");
    expect(check("images-pinned-by-digest", [d])).toEqual([]);
    expect(
      check("images-pinned-by-digest", [
        edit(d, (p) => {
          podSpec(p).containers[0].image = "ghcr.io/stefanprodan/podinfo:6.2.3";
        }),
      ]),
    ).toEqual([
      expect.stringMatching(/Deployment shop\/frontend: container "app" image must be pinned by digest .*not by tag/),
    ]);
    expect(
      check("images-pinned-by-digest", [
        edit(d, (p) => {
          podSpec(p).initContainers = [{ name: "init", image: "busybox" }];
        }),
      ]),
    ).toEqual([expect.stringMatching(/container "init" image must be pinned by digest/)]);
  });

  it("images-from-allowed-registries refuses a foreign registry, and fails closed without an allow-list", () => {
    const d = find("Deployment", "backend");
    expect(check("images-from-allowed-registries", [d])).toEqual([]);
    expect(
      check("images-from-allowed-registries", [
        edit(d, (p) => {
          podSpec(p).containers[0].image = `docker.io/library/nginx@${DIGEST}`;
        }),
      ]),
    ).toEqual([
      expect.stringMatching(/image "docker.io\/library\/nginx@sha256:b+" is not from an allowed registry \(ghcr.io\)/),
    ]);
    expect(check("images-from-allowed-registries", [d], {})).toEqual([
      expect.stringMatching(/no allowedRegistries; run it with --policy-pack-config/),
    ]);
  });

  it("images-from-allowed-registries allows the platform's own images exactly as listed, not their registry", () => {
    const d = find("Deployment", "backend");
    const minio = `docker.io/minio/minio@${DIGEST}`;
    const withImage = (image: string) =>
      edit(d, (p) => {
        podSpec(p).containers[0].image = image;
      });
    const config = { ...CONFIG, platformImages: [minio] };
    expect(check("images-from-allowed-registries", [withImage(minio)], config)).toEqual([]);
    // Another image of the same repository, or the listed one without the list, is refused.
    expect(check("images-from-allowed-registries", [withImage(`docker.io/minio/mc@${DIGEST}`)], config)).toEqual([
      expect.stringMatching(/image "docker.io\/minio\/mc@sha256:b+" is not from an allowed registry/),
    ]);
    expect(check("images-from-allowed-registries", [withImage(minio)])).toEqual([
      expect.stringMatching(/image "docker.io\/minio\/minio@sha256:b+" is not from an allowed registry/),
    ]);
  });

  it("pod-security-restricted names each way a pod breaks restricted", () => {
    const d = find("Deployment", "frontend");
    expect(check("pod-security-restricted", [d])).toEqual([]);
    const broken = edit(d, (p) => {
      const spec = podSpec(p);
      delete spec.securityContext.runAsNonRoot;
      delete spec.securityContext.seccompProfile;
      spec.containers[0].securityContext = { capabilities: { add: ["SYS_ADMIN"] } };
      spec.volumes.push({ name: "host", hostPath: { path: "/" } });
    });
    expect(check("pod-security-restricted", [broken])).toEqual([
      expect.stringMatching(/container "app" does not set runAsNonRoot: true/),
      expect.stringMatching(/container "app" does not set allowPrivilegeEscalation: false/),
      expect.stringMatching(/container "app" does not drop ALL capabilities/),
      expect.stringMatching(/container "app" adds capabilities SYS_ADMIN/),
      expect.stringMatching(/container "app" has no seccomp profile RuntimeDefault/),
      expect.stringMatching(/volume "host" is of type hostPath/),
    ]);
    expect(
      check("pod-security-restricted", [
        edit(d, (p) => {
          podSpec(p).securityContext.runAsUser = 0;
        }),
      ]),
    ).toEqual([expect.stringMatching(/runs as root/)]);
  });

  it("resources-requests-and-limits names the missing requests and limits", () => {
    const d = find("Deployment", "backend");
    expect(check("resources-requests-and-limits", [d])).toEqual([]);
    expect(
      check("resources-requests-and-limits", [
        edit(d, (p) => {
          podSpec(p).containers[0].resources = { requests: { cpu: "100m" } };
        }),
      ]),
    ).toEqual([expect.stringMatching(/does not set resources requests.memory, limits.cpu, limits.memory/)]);
  });

  it("no-host-access refuses host namespaces, hostPath, host ports and privileged containers", () => {
    const d = find("Deployment", "backend");
    expect(check("no-host-access", [d])).toEqual([]);
    const broken = edit(d, (p) => {
      const spec = podSpec(p);
      spec.hostNetwork = true;
      spec.hostPID = true;
      spec.volumes.push({ name: "docker", hostPath: { path: "/var/run/docker.sock" } });
      spec.containers[0].securityContext.privileged = true;
    });
    expect(check("no-host-access", [broken])).toEqual([
      expect.stringMatching(/hostNetwork: true/),
      expect.stringMatching(/hostPID: true/),
      expect.stringMatching(/volume "docker" mounts a host path/),
      expect.stringMatching(/container "app" is privileged/),
    ]);
    expect(
      check("no-host-access", [
        edit(d, (p) => {
          podSpec(p).containers[0].ports[0].hostPort = 80;
        }),
      ]),
    ).toEqual([expect.stringMatching(/binds host port 80/)]);
  });

  it("no-external-service-types refuses LoadBalancer and NodePort outside the platform namespaces", () => {
    const svc = find("Service", "frontend");
    expect(check("no-external-service-types", [svc])).toEqual([]);
    expect(
      check("no-external-service-types", [
        edit(svc, (p) => {
          p.spec.type = "LoadBalancer";
        }),
      ]),
    ).toEqual([
      expect.stringMatching(
        /Service shop\/frontend: type LoadBalancer is only allowed in platform namespaces \(kube-system\)/,
      ),
    ]);
    expect(
      check("no-external-service-types", [
        edit(svc, (p) => {
          p.spec.type = "NodePort";
        }),
      ]),
    ).toEqual([expect.stringMatching(/type NodePort/)]);
    expect(
      check("no-external-service-types", [
        edit(svc, (p) => {
          p.spec.type = "LoadBalancer";
          p.metadata.namespace = "kube-system";
        }),
      ]),
    ).toEqual([]);
  });

  it("no-builtin-cluster-role-bindings refuses bindings of cluster-admin, admin, edit, view and system roles", () => {
    const rb = find("RoleBinding", "team-maintainers");
    expect(check("no-builtin-cluster-role-bindings", [rb])).toEqual([]);
    for (const role of ["cluster-admin", "edit", "system:aggregate-to-admin"]) {
      expect(
        check("no-builtin-cluster-role-bindings", [
          edit(rb, (p) => {
            p.roleRef = { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role };
          }),
        ]),
      ).toEqual([expect.stringMatching(new RegExp(`binds the built-in ClusterRole ${role}`))]);
    }
    const crb = {
      type: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
      name: "x",
      protect: false,
      props: { kind: "ClusterRoleBinding", metadata: { name: "x" }, roleRef: { kind: "ClusterRole", name: "view" } },
    };
    expect(check("no-builtin-cluster-role-bindings", [crb])).toEqual([
      expect.stringMatching(/ClusterRoleBinding x: binds the built-in ClusterRole view/),
    ]);
  });

  it("production-pod-disruption-budgets wants a PDB that selects each Deployment's pods", () => {
    expect(check("production-pod-disruption-budgets", prod)).toEqual([]);
    const withoutBackendPdb = prod.filter(
      (v) => !(v.props.kind === "PodDisruptionBudget" && (v.props.metadata as { name: string }).name === "backend"),
    );
    expect(check("production-pod-disruption-budgets", withoutBackendPdb)).toEqual([
      expect.stringMatching(/Deployment shop\/backend: no PodDisruptionBudget selects its pods/),
    ]);
  });

  it("production-replicas wants 2 replicas, counting the HPA's minReplicas where one owns them", () => {
    expect(check("production-replicas", prod)).toEqual([]);
    const noHpa = prod.filter((v) => v.props.kind !== "HorizontalPodAutoscaler");
    // Without their HPAs, neither Deployment sets replicas, so each runs Kubernetes' default of 1.
    expect(check("production-replicas", noHpa).sort()).toEqual([
      expect.stringMatching(/Deployment shop\/backend: replicas is 1; production needs at least 2$/),
      expect.stringMatching(/Deployment shop\/frontend: replicas is 1; production needs at least 2$/),
    ]);
    const oneReplica = prod.map((v) =>
      v.props.kind === "HorizontalPodAutoscaler" && (v.props.metadata as { name: string }).name === "frontend"
        ? edit(v, (p) => {
            p.spec.minReplicas = 1;
          })
        : v,
    );
    expect(check("production-replicas", oneReplica)).toEqual([
      expect.stringMatching(/Deployment shop\/frontend: its HPA's minReplicas is 1; production needs at least 2/),
    ]);
    const fixed = noHpa.map((v) =>
      v.props.kind === "Deployment"
        ? edit(v, (p) => {
            p.spec.replicas = 3;
          })
        : v,
    );
    expect(check("production-replicas", fixed)).toEqual([]);
  });

  it("production-protected-data wants protected Namespaces and PersistentVolumeClaims", () => {
    const ns = find("Namespace", "shop");
    expect(ns.protect).toBe(true);
    expect(check("production-protected-data", [ns])).toEqual([]);
    expect(check("production-protected-data", [{ ...ns, protect: false }])).toEqual([
      expect.stringMatching(/Namespace shop: is not protected/),
    ]);
    const pvc = {
      type: "kubernetes:core/v1:PersistentVolumeClaim",
      name: "shop-data",
      protect: false,
      props: { kind: "PersistentVolumeClaim", metadata: { name: "data", namespace: "shop" } },
    };
    expect(check("production-protected-data", [pvc])).toEqual([
      expect.stringMatching(/PersistentVolumeClaim shop\/data: is not protected/),
    ]);
    expect(check("production-protected-data", [{ ...pvc, protect: true }])).toEqual([]);
  });

  it("look into the pod templates of every workload kind and of bare pods", () => {
    const bad = { containers: [{ name: "c", image: "nginx:1" }] };
    const shapes: Array<[string, string, Record<string, unknown>]> = [
      ["Pod", "core/v1", { spec: bad }],
      ["StatefulSet", "apps/v1", { spec: { template: { spec: bad } } }],
      ["DaemonSet", "apps/v1", { spec: { template: { spec: bad } } }],
      ["Job", "batch/v1", { spec: { template: { spec: bad } } }],
      ["CronJob", "batch/v1", { spec: { jobTemplate: { spec: { template: { spec: bad } } } } }],
    ];
    for (const [kind, api, props] of shapes) {
      const view = {
        type: `kubernetes:${api}:${kind}`,
        name: "x",
        protect: false,
        props: { kind, metadata: { name: "x", namespace: "shop" }, ...props },
      };
      expect(check("images-pinned-by-digest", [view])).toEqual([
        expect.stringMatching(new RegExp(`^${kind} shop/x: container "c"`)),
      ]);
    }
  });
});
