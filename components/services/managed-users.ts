import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { containerResources, restrictedContainerSecurityContext, restrictedPodSecurityContext } from "../pod-security";
import { MANAGED_BY } from "../../lib/labels";
import { ALLOW_NAMESPACE_AND_DNS_POLICY, DEFAULT_DENY_POLICY } from "../guardrails";
import { ENSURE_USERS_SH, ENSURE_USERS_SQL } from "../../lib/service-scripts";
import { bindingLabel, BOUND, databaseName, rotatingUsers } from "../../lib/services";
// The platform's namespace for jobs that hold admin credentials of managed data; no team can read it.
import { DATA_ADMIN_NAMESPACE } from "../../lib/namespaces";

/**
 * The platform's namespace for data administration (Pod Security `restricted`), with the same
 * guardrails as a team's: all traffic denied but DNS (each service's policy adds its instance), a
 * quota and container limits. Create once per cluster.
 */
export function dataAdminNamespace(opts: pulumi.CustomResourceOptions): k8s.core.v1.Namespace {
  const ns = new k8s.core.v1.Namespace(
    "blueprint-data",
    {
      metadata: {
        name: DATA_ADMIN_NAMESPACE,
        labels: {
          "app.kubernetes.io/managed-by": MANAGED_BY,
          // The platform's own namespace, not a team's: team admission policies do not bind it.
          "app.kubernetes.io/part-of": "platform",
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/audit": "restricted",
          "pod-security.kubernetes.io/warn": "restricted",
        },
      },
    },
    opts,
  );
  const child = { parent: opts.parent, provider: opts.provider, dependsOn: [ns] };
  const meta = (name: string) => ({
    name,
    namespace: ns.metadata.name,
    labels: { "app.kubernetes.io/managed-by": MANAGED_BY },
  });
  new k8s.networking.v1.NetworkPolicy(
    "blueprint-data-default-deny",
    { metadata: meta("default-deny"), spec: DEFAULT_DENY_POLICY },
    child,
  );
  new k8s.networking.v1.NetworkPolicy(
    "blueprint-data-dns",
    {
      metadata: meta("allow-dns"),
      spec: {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: ALLOW_NAMESPACE_AND_DNS_POLICY.egress as k8s.types.input.networking.v1.NetworkPolicyEgressRule[],
      },
    },
    child,
  );
  new k8s.core.v1.ResourceQuota(
    "blueprint-data-quota",
    {
      metadata: meta("data-quota"),
      spec: {
        hard: {
          pods: "10",
          "requests.cpu": "1",
          "requests.memory": "1Gi",
          "limits.cpu": "2",
          "limits.memory": "2Gi",
          "requests.ephemeral-storage": "1Gi",
          "limits.ephemeral-storage": "2Gi",
        },
      },
    },
    child,
  );
  new k8s.core.v1.LimitRange(
    "blueprint-data-limits",
    {
      metadata: meta("data-limits"),
      spec: { limits: [{ type: "Container", max: { cpu: "500m", memory: "256Mi", "ephemeral-storage": "256Mi" } }] },
    },
    child,
  );
  return ns;
}

/** Arguments of a {@link ManagedPostgresUsers}. */
export interface ManagedPostgresUsersArgs {
  readonly service: string;
  readonly team: string;
  readonly namespace: pulumi.Input<string>;
  /** The Postgres client image (the same digest the in-cluster flavour runs). */
  readonly image: string;
  readonly host: pulumi.Input<string>;
  readonly port: number;
  readonly adminUser: string;
  readonly adminPassword: pulumi.Input<string>;
  /** The server's root CAs (PEM): the admin login then verifies the server (`verify-full`), else only encrypts. */
  readonly ca?: pulumi.Input<string>;
  /** Passwords of the two rotating users ("" disables one). */
  readonly passwordA: pulumi.Input<string>;
  readonly passwordB: pulumi.Input<string>;
  /** Waits for these (the instance and its admin user). */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

/**
 * A Job in the platform's data namespace that logs in as the managed instance's admin (over TLS)
 * and creates or updates the binding's database, owner role and the two rotating users, with the
 * same SQL the in-cluster server runs. Auto-named from its content, so a rotation runs it again.
 * The admin credential lives only in this namespace, never in the team's.
 */
export class ManagedPostgresUsers extends pulumi.ComponentResource {
  constructor(name: string, args: ManagedPostgresUsersArgs, opts?: pulumi.ComponentResourceOptions) {
    super("blueprint:services:ManagedPostgresUsers", name, {}, opts);
    const labels = {
      "app.kubernetes.io/name": "postgres-users",
      "app.kubernetes.io/instance": `${args.team}-${args.service}`,
      "app.kubernetes.io/managed-by": MANAGED_BY,
    };
    const [userA, userB] = rotatingUsers(args.service);
    const secret = new k8s.core.v1.Secret(
      `${name}-admin`,
      {
        metadata: { namespace: args.namespace, labels },
        type: "Opaque",
        immutable: true,
        stringData: pulumi.secret(
          pulumi.all([args.adminPassword, args.passwordA, args.passwordB, args.host]).apply(([admin, a, b, host]) => ({
            PGHOST: host,
            PGPORT: String(args.port),
            PGUSER: args.adminUser,
            PGPASSWORD: admin,
            // TLS to the instance (RDS and Cloud SQL require it), verifying the server where its CA is known.
            ...(args.ca ? { PGSSLMODE: "verify-full", PGSSLROOTCERT: "/scripts/ca.crt" } : { PGSSLMODE: "require" }),
            SERVICE_DATABASE: databaseName(args.service),
            SERVICE_OWNER: `${databaseName(args.service)}_owner`,
            SERVICE_USER_A: userA,
            SERVICE_PASSWORD_A: a,
            SERVICE_USER_B: userB,
            SERVICE_PASSWORD_B: b,
          })),
        ),
      },
      { parent: this },
    );
    const scripts = new k8s.core.v1.ConfigMap(
      `${name}-scripts`,
      {
        metadata: { namespace: args.namespace, labels },
        immutable: true,
        data: pulumi.output(args.ca).apply((ca) => ({
          "ensure-users.sh": ENSURE_USERS_SH,
          "ensure-users.sql": ENSURE_USERS_SQL,
          ...(ca ? { "ca.crt": ca } : {}),
        })),
      },
      { parent: this },
    );
    new k8s.batch.v1.Job(
      `${name}-users`,
      {
        metadata: { namespace: args.namespace, labels },
        spec: {
          backoffLimit: 6,
          activeDeadlineSeconds: 900,
          ttlSecondsAfterFinished: 86400,
          template: {
            metadata: { labels: { ...labels, [bindingLabel(args.service)]: BOUND } },
            spec: {
              restartPolicy: "Never",
              automountServiceAccountToken: false,
              enableServiceLinks: false,
              securityContext: restrictedPodSecurityContext(999),
              containers: [
                {
                  name: "users",
                  image: args.image,
                  imagePullPolicy: "IfNotPresent",
                  command: ["/bin/sh", "/scripts/ensure-users.sh"],
                  envFrom: [{ secretRef: { name: secret.metadata.name } }],
                  resources: containerResources({
                    requests: { cpu: "50m", memory: "64Mi", "ephemeral-storage": "64Mi" },
                    limits: { cpu: "200m", memory: "128Mi", "ephemeral-storage": "128Mi" },
                  }),
                  securityContext: restrictedContainerSecurityContext(),
                  volumeMounts: [
                    { name: "scripts", mountPath: "/scripts", readOnly: true },
                    { name: "tmp", mountPath: "/tmp" },
                  ],
                },
              ],
              volumes: [
                { name: "scripts", configMap: { name: scripts.metadata.name } },
                { name: "tmp", emptyDir: { sizeLimit: "16Mi" } },
              ],
            },
          },
        },
      },
      { parent: this, dependsOn: args.dependsOn, customTimeouts: { create: "20m", update: "20m" } },
    );
    this.registerOutputs({});
  }
}

/** Arguments of a {@link BoundEgressPolicy}. */
export interface BoundEgressPolicyArgs {
  readonly service: string;
  readonly team: string;
  readonly namespace: pulumi.Input<string>;
  /** Where the managed instance's addresses are (its subnets, or the private services range). */
  readonly cidrs: readonly string[];
  readonly port: number;
}

/**
 * Lets the pods bound to a managed service (and only those) leave the team namespace for the
 * instance's addresses, on its port. Platform-owned, in the team namespace, beside its default deny.
 */
export class BoundEgressPolicy extends pulumi.ComponentResource {
  constructor(name: string, args: BoundEgressPolicyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("blueprint:services:BoundEgressPolicy", name, {}, opts);
    new k8s.networking.v1.NetworkPolicy(
      name,
      {
        metadata: {
          name: `svc-${args.service}-egress`,
          namespace: args.namespace,
          labels: {
            "app.kubernetes.io/part-of": args.team,
            "app.kubernetes.io/managed-by": MANAGED_BY,
            "app.kubernetes.io/component": "backing-service",
          },
        },
        spec: {
          podSelector: { matchLabels: { [bindingLabel(args.service)]: BOUND } },
          policyTypes: ["Egress"],
          egress: [
            { to: args.cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: "TCP", port: args.port }] },
          ],
        },
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
