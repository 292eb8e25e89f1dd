import { admissionFailures, type AdmissionSpec } from "../helpers/cel";
import { getObject, runComponents, runStack, type K8sObject } from "../helpers/program";

/**
 * What a maintainer could write with kubectl, held to the contract in the cluster: each policy run
 * through a real CEL engine against allowed and refused objects, on CREATE and on UPDATE.
 */

const GKE_METADATA = [{ cidr: "169.254.169.254/32", ports: [{ port: 80, protocol: "TCP" as const }] }];

async function policies(): Promise<{ objects: K8sObject[]; spec: (name: string) => AdmissionSpec }> {
  const { objects } = await runComponents(
    (s) =>
      new s.components.AdmissionPolicy(
        "team-pods",
        {
          namespaces: ["shop", "data"],
          restrictedNamespaces: ["shop"],
          allowedRegistries: ["ghcr.io"],
          podSecurityVersion: "1.34",
          ingressHosts: { shop: ["shop.example.com"], data: [] },
          loadBalancerNamespaces: ["data"],
          nodePortNamespaces: [],
          grantedEgress: GKE_METADATA,
        },
        { providers: [s.provider] },
      ),
  );
  const spec = (name: string) =>
    objects.find((o) => o.kind === "ValidatingAdmissionPolicy" && o.metadata.name === name)!.spec as AdmissionSpec;
  return { objects, spec };
}

const netpol = (egress: unknown[], namespace = "shop"): K8sObject => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name: "web-egress", namespace },
  spec: { podSelector: {}, policyTypes: ["Egress"], egress },
});
const block = (cidr: string, except?: string[]) => ({ ipBlock: { cidr, ...(except ? { except } : {}) } });

describe("team NetworkPolicies never reach instance metadata", () => {
  let spec: AdmissionSpec;
  beforeAll(async () => {
    spec = (await policies()).spec("blueprint-team-network-policies");
  });

  it.each<[string, unknown[]]>([
    ["an external database", [{ to: [block("10.99.0.0/16")], ports: [{ port: 5432 }] }]],
    [
      "the internet with link-local carved out",
      [{ to: [block("0.0.0.0/0", ["169.254.0.0/16"])], ports: [{ port: 443 }] }],
    ],
    ["the internet with a wider carve-out", [{ to: [block("0.0.0.0/0", ["169.0.0.0/8", "10.0.0.0/8"])] }]],
    [
      "IPv6 with link-local and the EC2 metadata address carved out",
      [{ to: [block("::/0", ["fe80::/10", "fd00:ec2::254/128"])] }],
    ],
    ["pods of the namespace", [{ to: [{ podSelector: {} }] }]],
    [
      "the GKE metadata server on the port the contract grants",
      [{ to: [block("169.254.169.254/32")], ports: [{ port: 80, protocol: "TCP" }] }],
    ],
  ])("admits egress to %s", (_what, egress) => {
    expect(admissionFailures(spec, netpol(egress))).toEqual([]);
    expect(admissionFailures(spec, netpol(egress), { operation: "UPDATE", oldObject: netpol([]) })).toEqual([]);
  });

  it.each<[string, unknown[], RegExp]>([
    ["the metadata server", [{ to: [block("169.254.169.254/32")] }], /may not reach 169\.254\.0\.0\/16/],
    ["all of link-local", [{ to: [block("169.254.0.0/16")] }], /may not reach/],
    ["a block inside link-local written with host bits", [{ to: [block("169.254.169.254/16")] }], /may not reach/],
    ["the internet without a carve-out", [{ to: [block("0.0.0.0/0")] }], /may not reach/],
    ["the internet carving out too little", [{ to: [block("0.0.0.0/0", ["169.254.169.0/24"])] }], /may not reach/],
    ["a /8 holding link-local", [{ to: [block("169.0.0.0/8")] }], /may not reach/],
    ["IPv6 everywhere", [{ to: [block("::/0")] }], /may not reach/],
    [
      "IPv6 carving out link-local but not the EC2 metadata address",
      [{ to: [block("::/0", ["fe80::/10"])] }],
      /may not reach/,
    ],
    ["the EC2 IPv6 metadata address", [{ to: [block("fd00:ec2::254/128")] }], /may not reach/],
    [
      "the granted block on another port",
      [{ to: [block("169.254.169.254/32")], ports: [{ port: 8080 }] }],
      /may not reach/,
    ],
    ["the granted block on every port", [{ to: [block("169.254.169.254/32")] }], /may not reach/],
    [
      "the granted block on a port range",
      [{ to: [block("169.254.169.254/32")], ports: [{ port: 80, endPort: 90 }] }],
      /may not reach/,
    ],
    ["every address (a rule without destinations)", [{ ports: [{ port: 443 }] }], /must name its destinations/],
    ["every address (empty destinations)", [{ to: [] }], /must name its destinations/],
  ])("refuses egress to %s, on create and on update", (_what, egress, message) => {
    expect(admissionFailures(spec, netpol(egress))).toEqual([expect.stringMatching(message)]);
    expect(
      admissionFailures(spec, netpol(egress), {
        operation: "UPDATE",
        oldObject: netpol([{ to: [{ podSelector: {} }] }]),
      }),
    ).toEqual([expect.stringMatching(message)]);
  });

  it("refuses the GKE metadata server where the cluster grants no such egress", async () => {
    const { objects } = await runComponents(
      (s) =>
        new s.components.AdmissionPolicy(
          "p",
          { namespaces: ["shop"], restrictedNamespaces: [], allowedRegistries: ["ghcr.io"] },
          { providers: [s.provider] },
        ),
    );
    const eks = objects.find(
      (o) => o.metadata.name === "blueprint-team-network-policies" && o.kind === "ValidatingAdmissionPolicy",
    )!.spec as AdmissionSpec;
    expect(
      admissionFailures(eks, netpol([{ to: [block("169.254.169.254/32")], ports: [{ port: 80, protocol: "TCP" }] }])),
    ).toEqual([expect.stringMatching(/may not reach/)]);
  });
});

const service = (type: string | undefined, namespace = "shop", extra: Record<string, unknown> = {}): K8sObject => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "web", namespace },
  spec: { ...(type ? { type } : {}), ports: [{ port: 80 }], ...extra },
});

describe("team Services are exposed only as the contract grants", () => {
  let spec: AdmissionSpec;
  beforeAll(async () => {
    spec = (await policies()).spec("blueprint-team-services");
  });

  it("admits ClusterIP Services everywhere and a LoadBalancer where the quota grants one", () => {
    expect(admissionFailures(spec, service(undefined))).toEqual([]);
    expect(admissionFailures(spec, service("ClusterIP"))).toEqual([]);
    expect(admissionFailures(spec, service("LoadBalancer", "data"))).toEqual([]);
  });

  it.each<[string, K8sObject, RegExp]>([
    ["a LoadBalancer without the grant", service("LoadBalancer"), /type LoadBalancer needs the platform's grant/],
    ["a NodePort without the grant", service("NodePort", "data"), /type NodePort needs the platform's grant/],
    ["externalIPs", service("ClusterIP", "shop", { externalIPs: ["10.0.0.1"] }), /externalIPs are not allowed/],
  ])("refuses %s, on create and when an update changes the type", (_what, obj, message) => {
    expect(admissionFailures(spec, obj)).toEqual([expect.stringMatching(message)]);
    expect(admissionFailures(spec, obj, { operation: "UPDATE", oldObject: service("ClusterIP") })).toEqual([
      expect.stringMatching(message),
    ]);
  });
});

const ingress = (spec: Record<string, unknown>, namespace = "shop"): K8sObject => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "Ingress",
  metadata: { name: "web", namespace },
  spec,
});
const rule = (host?: string) => ({
  ...(host ? { host } : {}),
  http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "web", port: { number: 80 } } } }] },
});

describe("team Ingresses serve only the team's hosts", () => {
  let spec: AdmissionSpec;
  beforeAll(async () => {
    spec = (await policies()).spec("blueprint-team-ingresses");
  });

  it("admits a rule and TLS for a granted host", () => {
    expect(
      admissionFailures(
        spec,
        ingress({ rules: [rule("shop.example.com")], tls: [{ hosts: ["shop.example.com"], secretName: "web-tls" }] }),
      ),
    ).toEqual([]);
  });

  it.each<[string, K8sObject, RegExp]>([
    [
      "another team's host",
      ingress({ rules: [rule("payments.example.com")] }),
      /must name a host the platform lets this team serve/,
    ],
    ["a rule without a host (every host)", ingress({ rules: [rule()] }), /must name a host/],
    [
      "a granted host in another team's namespace",
      ingress({ rules: [rule("shop.example.com")] }, "data"),
      /must name a host/,
    ],
    [
      "a default backend",
      ingress({
        defaultBackend: { service: { name: "web", port: { number: 80 } } },
        rules: [rule("shop.example.com")],
      }),
      /default backend is not allowed/,
    ],
    [
      "a TLS host it may not serve",
      ingress({ rules: [rule("shop.example.com")], tls: [{ hosts: ["evil.example.com"] }] }),
      /TLS hosts must be hosts/,
    ],
  ])("refuses %s, on create and on update", (_what, obj, message) => {
    expect(admissionFailures(spec, obj)).toEqual([expect.stringMatching(message)]);
    expect(
      admissionFailures(spec, obj, { operation: "UPDATE", oldObject: ingress({ rules: [rule("shop.example.com")] }) }),
    ).toEqual([expect.stringMatching(message)]);
  });
});

describe("the platform's objects in a team namespace are not the team's to write", () => {
  const defaultDeny = (policyTypes = ["Ingress", "Egress"]): K8sObject => ({
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: "default-deny", namespace: "shop", labels: { "blueprint.dev/owner": "platform" } },
    spec: { podSelector: {}, policyTypes },
  });
  const team = { allowed: () => false };
  /** A cluster administrator (`*` on everything) or the namespace controller (`delete` on every resource). */
  const platform = {
    allowed: (g: string, r: string, _n: string, v: string) =>
      g === "blueprint.dev" && r === "guardrails" && v === "delete",
  };
  let spec: AdmissionSpec;
  let objects: K8sObject[];
  beforeAll(async () => {
    ({ objects } = await policies());
    spec = objects.find(
      (o) => o.metadata.name === "blueprint-platform-guardrails" && o.kind === "ValidatingAdmissionPolicy",
    )!.spec as AdmissionSpec;
  });

  it("binds the guardrail policy to objects carrying the platform's label, in team namespaces, on create, update and delete", () => {
    const binding = objects.find(
      (o) => o.kind === "ValidatingAdmissionPolicyBinding" && o.metadata.name === "blueprint-platform-guardrails",
    )!;
    expect((binding.spec as { matchResources: unknown }).matchResources).toEqual({
      namespaceSelector: {
        matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: ["shop", "data"] }],
      },
      objectSelector: { matchLabels: { "blueprint.dev/owner": "platform" } },
    });
    const rules = (
      spec as unknown as { matchConstraints: { resourceRules: { resources: string[]; operations: string[] }[] } }
    ).matchConstraints.resourceRules;
    expect(rules.flatMap((r) => r.resources)).toEqual(
      expect.arrayContaining(["networkpolicies", "resourcequotas", "limitranges", "roles", "rolebindings"]),
    );
    for (const r of rules) expect(r.operations).toEqual(["CREATE", "UPDATE", "DELETE"]);
  });

  it.each<[string, K8sObject | null, K8sObject | undefined, "CREATE" | "UPDATE" | "DELETE"]>([
    ["deleting default-deny", null, defaultDeny(), "DELETE"],
    ["weakening default-deny to ingress only", defaultDeny(["Ingress"]), defaultDeny(), "UPDATE"],
    ["creating an object that claims the platform's label", defaultDeny(), undefined, "CREATE"],
  ])("refuses a team member %s", (_what, object, oldObject, operation) => {
    expect(admissionFailures(spec, object, { ...team, operation, oldObject, namespace: "shop" })).toEqual([
      expect.stringMatching(/platform's guardrails/),
    ]);
    expect(admissionFailures(spec, object, { ...platform, operation, oldObject, namespace: "shop" })).toEqual([]);
  });

  it("labels default-deny and the other objects the platform puts in a team namespace", async () => {
    const platformRun = await runStack("dev.platform");
    for (const [kind, id] of [
      ["NetworkPolicy", "shop/default-deny"],
      ["NetworkPolicy", "shop/allow-namespace-and-dns"],
      ["ResourceQuota", "shop/team-quota"],
      ["LimitRange", "shop/team-limits"],
      ["Role", "shop/team-maintainer"],
    ] as const) {
      expect(getObject(platformRun, kind, id).metadata.labels).toMatchObject({ "blueprint.dev/owner": "platform" });
    }
  });
});
