import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { containerResources, restrictedContainerSecurityContext, type Quantities } from "../pod-security";
import { MANAGED_BY } from "../../lib/labels";
import { ENSURE_USERS_SH, ENSURE_USERS_SQL, PG_HBA_CONF } from "../../lib/service-scripts";
import {
  BACKING_SERVICE_LABEL,
  bindingLabel,
  BOUND,
  databaseName,
  DEFAULT_PORTS,
  rotatingUsers,
  userOf,
  type Connection,
  type ServiceType,
} from "../../lib/services";
import { parseQuantity } from "../../lib/quantity";
import { BindingSecret, generationPasswords } from "./credentials";

/** Defaults of an {@link InClusterService}, in one visible place. */
export const inClusterDefaults = {
  /** The UID and GID the Docker Official Images run their server as (`postgres`, `valkey`). */
  uid: 999,
  storage: "5Gi",
  /** CPU request as a share of the limit; memory is requested in full (a database must not be overcommitted). */
  cpuRequestShare: 0.25,
  /** Ephemeral storage for the emptyDirs (socket, /tmp). */
  ephemeral: { request: "64Mi", limit: "256Mi" },
  /** Valkey's own memory bound, as a share of the container's limit (room for buffers and the fork of a rewrite). */
  valkeyMaxMemoryShare: 0.75,
} as const;

/** Arguments of an {@link InClusterService}. */
export interface InClusterServiceArgs {
  readonly type: ServiceType;
  /** The service's name in the team's grant; the objects are `svc-<name>`. */
  readonly service: string;
  /** The team namespace it runs in. */
  readonly namespace: pulumi.Input<string>;
  /** The team (`app.kubernetes.io/part-of`). */
  readonly team: string;
  /** The upstream image by digest, as this cluster pulls it. */
  readonly image: string;
  /** Credential generation; raising it rotates (see `rotatingUsers`). */
  readonly generation: number;
  /** Container limits; the CPU request is a share of it, the memory request all of it. */
  readonly resources: { readonly cpu: string; readonly memory: string };
  /** Size of the data volume. @default "5Gi" */
  readonly storage?: string;
  readonly storageClassName: pulumi.Input<string>;
  readonly priorityClassName?: pulumi.Input<string>;
  /** Makes the random passwords (the stack's `random` provider). */
  readonly randomProvider: pulumi.ProviderResource;
}

/**
 * Postgres or Valkey in a team namespace, for dev and local: a StatefulSet with its data on a PVC,
 * a Service, a NetworkPolicy that admits only the pods bound to it on its port, under Pod Security
 * `restricted` (non-root, fsGroup, data in a subdirectory of the volume, read-only root with
 * emptyDirs), and the binding's Secret. Credentials are generated per generation; no admin
 * credential exists outside the pod (Postgres's superuser logs in over the local socket only).
 */
export class InClusterService extends pulumi.ComponentResource {
  /** The binding Secret a bound app reads. */
  public readonly secretName: pulumi.Output<string>;
  /** `svc-<name>.<namespace>.svc.cluster.local`. */
  public readonly host: pulumi.Output<string>;
  public readonly port: number;
  /** What the instance takes from the team's quota. */
  public readonly footprint: { readonly requests: Quantities; readonly limits: Quantities; readonly storage: string };

  constructor(name: string, args: InClusterServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("blueprint:services:InCluster", name, {}, opts);
    const d = inClusterDefaults;
    const objectName = `svc-${args.service}`;
    const port = DEFAULT_PORTS[args.type];
    this.port = port;
    const selector = { "app.kubernetes.io/name": args.type, "app.kubernetes.io/instance": objectName };
    const labels = {
      ...selector,
      "app.kubernetes.io/component": "backing-service",
      "app.kubernetes.io/part-of": args.team,
      "app.kubernetes.io/managed-by": MANAGED_BY,
    };
    const podLabels = { ...labels, [BACKING_SERVICE_LABEL]: args.service };
    const meta = (n: string) => ({ name: n, namespace: args.namespace, labels });
    const parent = { parent: this };

    const cpuLimit = parseQuantity(args.resources.cpu) ?? 0.5;
    const cpuRequest = `${Math.max(1, Math.round(cpuLimit * d.cpuRequestShare * 1000))}m`;
    this.footprint = {
      requests: { cpu: cpuRequest, memory: args.resources.memory, "ephemeral-storage": d.ephemeral.request },
      limits: { cpu: args.resources.cpu, memory: args.resources.memory, "ephemeral-storage": d.ephemeral.limit },
      storage: args.storage ?? d.storage,
    };

    const passwords = generationPasswords(`${name}-password`, args.generation, {
      parent: this,
      provider: args.randomProvider,
    });
    const [userA, userB] = rotatingUsers(args.service);
    // Slot of generation g is users[g % 2]: the current generation's user gets the new password,
    // the other one keeps the previous generation's (none at generation 0).
    const currentIsA = args.generation % 2 === 0;
    const previous = passwords.previous ?? pulumi.output("");
    const server: Record<string, pulumi.Output<string>> = args.type === "postgres"
      ? {
          SERVICE_DATABASE: pulumi.output(databaseName(args.service)),
          SERVICE_OWNER: pulumi.output(`${databaseName(args.service)}_owner`),
          SERVICE_USER_A: pulumi.output(userA),
          SERVICE_PASSWORD_A: currentIsA ? passwords.current : previous,
          SERVICE_USER_B: pulumi.output(userB),
          SERVICE_PASSWORD_B: currentIsA ? previous : passwords.current,
        }
      : // Valkey: one user (`default`) with both passwords; ACL users may hold several
        // (https://valkey.io/topics/acl/#acl-rules: `>password` adds one).
        {
          "users.acl": pulumi.all([passwords.current, previous]).apply(
            ([c, p]) =>
              `user default on ${[c, p]
                .filter((x) => x)
                .map((x) => `>${x}`)
                .join(" ")} ~* &* +@all -@admin\n`,
          ),
        };
    // Named after the generation: a rotation changes the pod template, so the server restarts and
    // applies the new users and passwords.
    const serverSecret = new k8s.core.v1.Secret(
      `${name}-server`,
      {
        metadata: meta(`${objectName}-server-g${args.generation}`),
        type: "Opaque",
        immutable: true,
        stringData: pulumi.secret(pulumi.all(server)),
      },
      { ...parent, deleteBeforeReplace: true },
    );

    const scripts =
      args.type === "postgres"
        ? new k8s.core.v1.ConfigMap(
            `${name}-scripts`,
            {
              metadata: meta(`${objectName}-scripts`),
              data: {
                "ensure-users.sh": ENSURE_USERS_SH,
                "ensure-users.sql": ENSURE_USERS_SQL,
                "pg_hba.conf": PG_HBA_CONF,
              },
            },
            parent,
          )
        : undefined;

    const service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: meta(objectName),
        spec: {
          type: "ClusterIP",
          selector,
          ports: [{ name: args.type, port, targetPort: args.type, protocol: "TCP" }],
        },
      },
      parent,
    );
    this.host = pulumi.interpolate`${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local`;

    // Only pods bound to this service reach it, only on its port; the instance itself reaches
    // nothing (the namespace's default deny, which the namespace-wide allow rule leaves in force for it).
    new k8s.networking.v1.NetworkPolicy(
      `${name}-ingress`,
      {
        metadata: meta(objectName),
        spec: {
          podSelector: { matchLabels: selector },
          policyTypes: ["Ingress", "Egress"],
          ingress: [
            {
              from: [{ podSelector: { matchLabels: { [bindingLabel(args.service)]: BOUND } } }],
              ports: [{ protocol: "TCP", port }],
            },
          ],
          egress: [],
        },
      },
      parent,
    );

    const tmp = { name: "tmp", emptyDir: { sizeLimit: "64Mi" } };
    const container =
      args.type === "postgres"
        ? this.postgresContainer(port, serverSecret)
        : this.valkeyContainer(port, args.resources.memory);
    const volumes: k8s.types.input.core.v1.Volume[] =
      args.type === "postgres"
        ? [
            tmp,
            { name: "run", emptyDir: { sizeLimit: "16Mi" } },
            { name: "scripts", configMap: { name: scripts!.metadata.name, defaultMode: 0o555 } },
          ]
        : [tmp, { name: "acl", secret: { secretName: serverSecret.metadata.name, defaultMode: 0o400 } }];

    new k8s.apps.v1.StatefulSet(
      `${name}-server`,
      {
        metadata: meta(objectName),
        spec: {
          serviceName: objectName,
          replicas: 1,
          selector: { matchLabels: selector },
          persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
          template: {
            metadata: { labels: podLabels },
            spec: {
              automountServiceAccountToken: false,
              enableServiceLinks: false,
              priorityClassName: args.priorityClassName,
              terminationGracePeriodSeconds: 60,
              securityContext: {
                runAsNonRoot: true,
                runAsUser: d.uid,
                runAsGroup: d.uid,
                fsGroup: d.uid,
                fsGroupChangePolicy: "OnRootMismatch",
                seccompProfile: { type: "RuntimeDefault" },
              },
              containers: [
                {
                  ...container,
                  image: args.image,
                  imagePullPolicy: "IfNotPresent",
                  ports: [{ name: args.type, containerPort: port, protocol: "TCP" }],
                  resources: containerResources(this.footprint),
                  securityContext: restrictedContainerSecurityContext(),
                },
              ],
              volumes,
            },
          },
          volumeClaimTemplates: [
            {
              metadata: { name: "data", labels },
              spec: {
                accessModes: ["ReadWriteOnce"],
                storageClassName: args.storageClassName,
                resources: { requests: { storage: this.footprint.storage } },
              },
            },
          ],
        },
      },
      parent,
    );

    const connection: pulumi.Output<Connection> = pulumi
      .all([this.host, passwords.current])
      .apply(([host, password]) => ({
        type: args.type,
        host,
        port,
        username: args.type === "postgres" ? userOf(args.service, args.generation) : "default",
        password,
        database: args.type === "postgres" ? databaseName(args.service) : "0",
        tls: false,
      }));
    // The previous generation's credential stays valid (the other Postgres user, the second Valkey password).
    const previousConnection = passwords.previous
      ? pulumi.all([this.host, passwords.previous]).apply(([host, password]): Connection => ({
          type: args.type,
          host,
          port,
          username: args.type === "postgres" ? userOf(args.service, args.generation - 1) : "default",
          password,
          database: args.type === "postgres" ? databaseName(args.service) : "0",
          tls: false,
        }))
      : undefined;
    const binding = new BindingSecret(
      `${name}-binding`,
      {
        service: args.service,
        generation: args.generation,
        namespace: args.namespace,
        connection,
        labels,
        previous: previousConnection ? { connection: previousConnection } : undefined,
      },
      parent,
    );
    this.secretName = binding.secretName;
    this.registerOutputs({ secretName: this.secretName, host: this.host });
  }

  /**
   * The Docker Official Image's entrypoint initialises the data directory (a subdirectory of the
   * volume, since a volume's root holds lost+found) and starts the server with the platform's
   * client authentication; a postStart hook then creates or updates the binding's users.
   */
  private postgresContainer(port: number, serverSecret: k8s.core.v1.Secret): k8s.types.input.core.v1.Container {
    return {
      name: "postgres",
      args: [
        "postgres",
        "-c",
        "hba_file=/etc/postgresql/scripts/pg_hba.conf",
        "-c",
        "password_encryption=scram-sha-256",
        "-c",
        `port=${port}`,
        "-c",
        "unix_socket_directories=/var/run/postgresql",
      ],
      env: [
        { name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" },
        // No superuser password exists: the entrypoint needs this to initialise without one, and
        // the hba_file above replaces the trust rule it writes.
        { name: "POSTGRES_HOST_AUTH_METHOD", value: "trust" },
        { name: "PGHOST", value: "/var/run/postgresql" },
        { name: "PGUSER", value: "postgres" },
      ],
      envFrom: [{ secretRef: { name: serverSecret.metadata.name } }],
      lifecycle: { postStart: { exec: { command: ["/bin/sh", "/etc/postgresql/scripts/ensure-users.sh"] } } },
      readinessProbe: { exec: { command: ["pg_isready", "-q"] }, periodSeconds: 10, timeoutSeconds: 5 },
      livenessProbe: { tcpSocket: { port }, initialDelaySeconds: 30, periodSeconds: 20, timeoutSeconds: 5 },
      volumeMounts: [
        { name: "data", mountPath: "/var/lib/postgresql/data" },
        { name: "run", mountPath: "/var/run/postgresql" },
        { name: "tmp", mountPath: "/tmp" },
        { name: "scripts", mountPath: "/etc/postgresql/scripts", readOnly: true },
      ],
    };
  }

  /** Valkey with ACL users from the Secret, append-only persistence on the volume, and a memory bound. */
  private valkeyContainer(port: number, memoryLimit: string): k8s.types.input.core.v1.Container {
    const maxMemory = Math.floor(
      (parseQuantity(memoryLimit) ?? 512 * 2 ** 20) * inClusterDefaults.valkeyMaxMemoryShare,
    );
    return {
      name: "valkey",
      command: ["valkey-server"],
      args: [
        "--port",
        String(port),
        "--aclfile",
        "/etc/valkey/users.acl",
        "--dir",
        "/data",
        "--appendonly",
        "yes",
        "--maxmemory",
        String(maxMemory),
        "--maxmemory-policy",
        "allkeys-lru",
      ],
      readinessProbe: { tcpSocket: { port }, periodSeconds: 10, timeoutSeconds: 5 },
      livenessProbe: { tcpSocket: { port }, initialDelaySeconds: 15, periodSeconds: 20, timeoutSeconds: 5 },
      volumeMounts: [
        { name: "data", mountPath: "/data" },
        { name: "tmp", mountPath: "/tmp" },
        { name: "acl", mountPath: "/etc/valkey", readOnly: true },
      ],
    };
  }
}
