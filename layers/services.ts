import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ConfigError } from "../lib/errors";
import type { ClusterHandle } from "../components/cluster/handle";
import { InClusterService } from "../components/services/in-cluster";
import { BindingSecret } from "../components/services/credentials";
import type { ServiceBinding } from "../config/contract";
import type { PlatformConfig } from "../config/load";
import type { ServiceConfig } from "../config/services";
import { MANAGED_BY } from "../lib/labels";
import {
  caPath,
  databaseName as databaseNameOf,
  DEFAULT_PORTS,
  IN_CLUSTER_IMAGES,
  MANAGED_USERS_IMAGE,
  parseGiB,
  userOf,
  type Connection,
  type ServiceType,
} from "../lib/services";
// Type-only: each cloud's module (and its SDK) is loaded only on that cloud (`servicesShared`).
import type { PrivateServicesAccess } from "../components/services/gcp";
import { BoundEgressPolicy, dataAdminNamespace, ManagedPostgresUsers } from "../components/services/managed-users";
import { generationPasswords } from "../components/services/credentials";
import type { VolumeBackupPlan } from "../components/services/backups";
import { clusterName } from "./cluster";
import { dataProtection } from "../components/protection";

/** What the services of one team need from the platform layer. */
export interface TeamServiceParts {
  readonly team: string;
  readonly namespace: pulumi.Output<string>;
  readonly storageClass: pulumi.Output<string>;
  readonly priorityClass: pulumi.Output<string>;
  /** Kubernetes objects go through the cluster's provider and wait for the team namespace. */
  readonly k8sOpts: pulumi.ComponentResourceOptions;
  /** What the services of every team share, made on first use. */
  readonly shared: ServicesShared;
}

/**
 * Per environment, made once on first use: the `random` provider, the data key, private services
 * access, the data admin namespace; and the managed-data module of the cluster's cloud, if any.
 */
export interface ServicesShared {
  readonly aws?: typeof import("../components/services/aws");
  readonly gcp?: typeof import("../components/services/gcp");
  random(): pulumi.ProviderResource;
  awsKey(): pulumi.Output<string>;
  gcpAccess(): PrivateServicesAccess;
  adminNamespace(): pulumi.Output<string>;
}

/** The resources the services of all teams share, each made the first time a service needs it. */
export async function servicesShared(env: PlatformConfig, cluster: ClusterHandle): Promise<ServicesShared> {
  const once = <T>(make: () => T): (() => T) => {
    let made: T | undefined;
    return () => (made ??= make());
  };
  const parent = new pulumi.ComponentResource("blueprint:services:Shared", "services", {}, {});
  const net = cluster.dataNetwork;
  // Loaded lazily, like the cluster's own module: a stack on one cloud never loads the other's SDK.
  const awsModule = net?.cloud === "aws" ? await import("../components/services/aws") : undefined;
  const gcpModule = net?.cloud === "gcp" ? await import("../components/services/gcp") : undefined;
  return {
    aws: awsModule,
    gcp: gcpModule,
    // Default providers are disabled: generated passwords need an explicit one.
    random: once(() => new random.Provider("random", {}, { parent })),
    awsKey: once(() => {
      if (net?.cloud !== "aws" || !awsModule) throw new Error("services: no AWS network on this cluster");
      return awsModule.awsDataKey(clusterName(env), net, env.production, parent).arn;
    }),
    gcpAccess: once(() => {
      if (net?.cloud !== "gcp" || !gcpModule) throw new Error("services: no GCP network on this cluster");
      return new gcpModule.PrivateServicesAccess(
        clusterName(env),
        { network: net, cidr: env.platform.privateServicesCidr, production: env.production },
        { parent },
      );
    }),
    adminNamespace: once(
      () => dataAdminNamespace({ parent, provider: cluster.provider, ...dataProtection(env.production) }).metadata.name,
    ),
  };
}

/**
 * Provisions the services granted to one team in this environment's flavour and returns, per
 * service, the binding the contract carries (never a credential).
 */
export function teamServices(
  env: PlatformConfig,
  cluster: ClusterHandle,
  services: Readonly<Record<string, ServiceConfig>>,
  parts: TeamServiceParts,
): Record<string, pulumi.Output<ServiceBinding>> {
  const out: Record<string, pulumi.Output<ServiceBinding>> = {};
  for (const [name, svc] of Object.entries(services)) {
    const id = `${parts.team}-${name}`;
    switch (svc.flavour) {
      case "in-cluster": {
        const instance = new InClusterService(
          id,
          {
            type: svc.type,
            service: name,
            namespace: parts.namespace,
            team: parts.team,
            image: cluster.pullReference(IN_CLUSTER_IMAGES[svc.type]),
            generation: svc.rotation,
            resources: { cpu: String(svc.resources.cpu), memory: String(svc.resources.memory) },
            storage: svc.storage !== undefined ? String(svc.storage) : svc.type === "valkey" ? "1Gi" : undefined,
            storageClassName: parts.storageClass,
            priorityClassName: parts.priorityClass,
            randomProvider: parts.shared.random(),
          },
          parts.k8sOpts,
        );
        const f = instance.footprint;
        out[name] = pulumi.all([instance.secretName, instance.host]).apply(([secretName, host]) => ({
          type: svc.type,
          flavour: svc.flavour,
          secretName,
          host,
          port: instance.port,
          tls: false,
          caFile: null,
          footprint: {
            requests: { ...f.requests } as Record<string, string>,
            limits: { ...f.limits } as Record<string, string>,
            storage: f.storage,
            pods: 1,
            services: 1,
            persistentvolumeclaims: 1,
          },
        }));
        break;
      }
      case "external": {
        const connection = externalConnection(env, parts.team, name, svc.type);
        const secret = new BindingSecret(
          id,
          {
            service: name,
            generation: svc.rotation,
            namespace: parts.namespace,
            connection: pulumi.secret(connection),
            labels: {
              "app.kubernetes.io/part-of": parts.team,
              "app.kubernetes.io/managed-by": MANAGED_BY,
              "app.kubernetes.io/component": "backing-service",
            },
          },
          parts.k8sOpts,
        );
        out[name] = secret.secretName.apply((secretName) => ({
          type: svc.type,
          flavour: svc.flavour,
          secretName,
          host: connection.host,
          port: connection.port,
          tls: connection.tls,
          caFile: null,
          footprint: null,
        }));
        break;
      }
      case "managed":
        out[name] = managedService(env, cluster, name, svc, parts);
        break;
    }
  }
  return out;
}

/**
 * The connection of an `external` service, from its URL in the secret config
 * `blueprint:serviceUrls.<team>.<service>`. Only the host, port and TLS reach the contract.
 */
export function externalConnection(
  env: Pick<PlatformConfig, "serviceUrls" | "file">,
  team: string,
  service: string,
  type: ServiceType,
): Connection {
  const key = `blueprint:serviceUrls.${team}.${service}`;
  const fail = (message: string): never => {
    throw new ConfigError(env.file, [{ key, message }]);
  };
  const text = env.serviceUrls[team]?.[service] ?? fail("has no value");
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // The value is a secret: it is never shown.
    return fail("is not a URL (value not shown)");
  }
  const schemes = type === "postgres" ? ["postgres:", "postgresql:"] : ["redis:", "rediss:"];
  if (!schemes.includes(url.protocol))
    fail(`must use ${schemes.map((s) => `${s}//`).join(" or ")} for a ${type} service, got ${url.protocol}//`);
  if (!url.hostname || !url.username || !url.password)
    fail("must name a host, a user and a password (value not shown)");
  const sslmode = url.searchParams.get("sslmode");
  const tls =
    type === "postgres"
      ? sslmode !== null && sslmode !== "disable" && sslmode !== "allow" && sslmode !== "prefer"
      : url.protocol === "rediss:";
  return {
    type,
    host: url.hostname,
    port: url.port ? Number(url.port) : DEFAULT_PORTS[type],
    username: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.replace(/^\//, "")) || (type === "postgres" ? "postgres" : "0"),
    tls,
  };
}

/**
 * A managed instance on this cluster's cloud (RDS or Aurora and ElastiCache on EKS, Cloud SQL and
 * Memorystore on GKE), its users, the egress its bound pods need, and the binding Secret.
 */
function managedService(
  env: PlatformConfig,
  cluster: ClusterHandle,
  name: string,
  svc: ServiceConfig,
  parts: TeamServiceParts,
): pulumi.Output<ServiceBinding> {
  const net = cluster.dataNetwork;
  const key = `blueprint:teams.${parts.team}.services.${name}.flavour`;
  if (!net)
    throw new ConfigError(env.file, [
      { key, message: `is "managed", but this cluster (${cluster.cloud}) has no managed offering` },
    ]);
  const id = `${parts.team}-${name}`;
  const shared = parts.shared;
  const randomProvider = shared.random();
  const passwords = generationPasswords(`${id}-password`, svc.rotation, { provider: randomProvider });
  const common = {
    service: name,
    team: parts.team,
    production: env.production,
    highAvailability: svc.highAvailability ?? env.production,
    backupRetentionDays: svc.backupRetentionDays,
    skipFinalSnapshot: svc.skipFinalSnapshot,
    publicAccess: svc.publicAccess,
    randomProvider,
  };
  let host: pulumi.Output<string>;
  let port: number;
  let cidrs: readonly string[];
  let ca: pulumi.Output<string> | undefined;
  // What a Postgres client verifies of the server with the CA (lib/services.ts, Connection.verify).
  let verify: "full" | "ca" = "full";
  let password: pulumi.Output<string> = passwords.current;
  let username: string;
  // The previous generation's credential while it stays valid, for its kept Secret.
  let previous:
    | { host: pulumi.Output<string>; username: string; password: pulumi.Output<string>; ca?: pulumi.Output<string> }
    | undefined;
  if (svc.type === "postgres") {
    const instance =
      net.cloud === "aws"
        ? new shared.aws!.RdsPostgres(id, {
            ...common,
            network: net,
            kmsKeyArn: shared.awsKey(),
            engine: svc.engine ?? "rds",
            version: svc.version,
            instanceClass: svc.instanceClass,
            allocatedStorageGiB: parseGiB(svc.storage),
          })
        : new shared.gcp!.CloudSqlPostgres(id, {
            ...common,
            network: net,
            access: shared.gcpAccess(),
            version: svc.version,
            tier: svc.tier,
            diskSizeGb: parseGiB(svc.storage),
          });
    host = instance.host;
    port = instance.port;
    cidrs = instance.cidrs;
    // Neither RDS's regional roots nor Cloud SQL's server CA are in the system roots: the app gets them.
    ca = instance.ca;
    // Cloud SQL's default per-instance CA (serverCaMode GOOGLE_MANAGED_INTERNAL_CA) signs only this
    // instance's server certificate, whose subject is `<project>:<instance>`, not the private IP
    // clients dial: verify-full would fail the host name check, and verify-ca already proves the
    // server is this instance (https://cloud.google.com/sql/docs/postgres/authorize-ssl, "CA
    // hierarchies": per-instance CA). RDS certificates name the endpoint: verify-full.
    if (net.cloud === "gcp") verify = "ca";
    username = userOf(name, svc.rotation);
    if (passwords.previous)
      previous = { host, username: userOf(name, svc.rotation - 1), password: passwords.previous, ca };
    const currentIsA = svc.rotation % 2 === 0;
    const previousPassword = passwords.previous ?? pulumi.output("");
    new ManagedPostgresUsers(
      id,
      {
        service: name,
        team: parts.team,
        namespace: shared.adminNamespace(),
        image: cluster.pullReference(MANAGED_USERS_IMAGE),
        host,
        port,
        adminUser: instance.adminUser,
        adminPassword: instance.adminPassword,
        ca: net.cloud === "aws" ? instance.ca : undefined,
        passwordA: currentIsA ? passwords.current : previousPassword,
        passwordB: currentIsA ? previousPassword : passwords.current,
        dependsOn: [instance],
      },
      { provider: cluster.provider },
    );
    // The users Job reaches the instance from the data namespace, whose default deny holds otherwise.
    new BoundEgressPolicy(
      `${id}-admin`,
      {
        service: name,
        team: parts.team,
        namespace: shared.adminNamespace(),
        cidrs: instance.cidrs,
        port: instance.port,
      },
      { provider: cluster.provider },
    );
  } else if (net.cloud === "aws") {
    const instance = new shared.aws!.ElastiCacheValkey(id, {
      ...common,
      network: net,
      kmsKeyArn: shared.awsKey(),
      nodeType: svc.nodeType,
      authToken: passwords.current,
      rotating: svc.rotation > 0,
    });
    host = instance.host;
    port = instance.port;
    cidrs = instance.cidrs;
    username = "default";
    // ROTATE keeps the previous token valid until the next rotation.
    if (passwords.previous) previous = { host, username, password: passwords.previous };
  } else {
    const instance = new shared.gcp!.MemorystoreRedis(id, {
      ...common,
      network: net,
      access: shared.gcpAccess(),
      memorySizeGb: svc.memorySizeGb,
      generation: svc.rotation,
      retiredGeneration: svc.retiredRotation,
    });
    host = instance.host;
    port = instance.port;
    cidrs = instance.cidrs;
    ca = instance.ca;
    // Memorystore generates the AUTH string itself (the `default` user's password).
    password = instance.authString;
    username = "default";
    // The previous generation's instance, while retiredRotation has not retired it.
    if (instance.previous)
      previous = {
        host: instance.previous.host,
        username,
        password: instance.previous.authString,
        ca: instance.previous.ca,
      };
  }
  new BoundEgressPolicy(
    id,
    { service: name, team: parts.team, namespace: parts.namespace, cidrs, port },
    parts.k8sOpts,
  );
  const caFile = ca ? caPath(name) : undefined;
  const connectionOf = (hostOf: pulumi.Output<string>, user: string, secret: pulumi.Output<string>) =>
    pulumi.all([hostOf, secret]).apply(([h, p]): Connection => ({
      type: svc.type,
      host: h,
      port,
      username: user,
      password: p,
      database: svc.type === "postgres" ? databaseNameOf(name) : "0",
      tls: true,
      caFile,
      verify,
    }));
  const connection = connectionOf(host, username, password);
  const binding = new BindingSecret(
    id,
    {
      service: name,
      generation: svc.rotation,
      namespace: parts.namespace,
      connection: pulumi.secret(connection),
      ca,
      previous: previous
        ? {
            connection: pulumi.secret(connectionOf(previous.host, previous.username, previous.password)),
            ca: previous.ca,
          }
        : undefined,
      labels: {
        "app.kubernetes.io/part-of": parts.team,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "app.kubernetes.io/component": "backing-service",
      },
    },
    parts.k8sOpts,
  );
  return pulumi.all([binding.secretName, host]).apply(([secretName, h]) => ({
    type: svc.type,
    flavour: svc.flavour,
    secretName,
    host: h,
    port,
    tls: true,
    caFile: caFile ?? null,
    footprint: null,
  }));
}

/**
 * Daily backups of the team volumes where the cloud has a service for it: AWS Backup on EKS,
 * Backup for GKE on GKE. Returns what each plan backs up when, for the stack output
 * `volumeBackups` (alerting watches it). On an existing cluster the Velero add-on backs them up
 * (components/cluster/existing/addons/velero.ts): its plan comes from the cluster handle.
 */
export function volumeBackups(
  env: PlatformConfig,
  cluster: ClusterHandle,
  shared: ServicesShared,
  namespaces: readonly string[],
): VolumeBackupPlan[] {
  if (cluster.volumeBackups) {
    const { metrics: _metrics, ...plan } = cluster.volumeBackups;
    return [{ ...plan, namespaces: [...plan.namespaces] }];
  }
  const net = cluster.dataNetwork;
  if (!net || namespaces.length === 0) return [];
  const settings = {
    ...env.platform.volumeBackups,
    clusterName: clusterName(env),
    namespaces,
    production: env.production,
  };
  if (net.cloud === "aws")
    return [
      new shared.aws!.AwsVolumeBackups(`${clusterName(env)}-volumes`, {
        ...settings,
        network: net,
        kmsKeyArn: shared.awsKey(),
      }).plan,
    ];
  return [
    new shared.gcp!.GkeVolumeBackups(`${clusterName(env)}-volumes`, {
      ...settings,
      network: net,
      kmsKeyId: shared.gcpAccess().keyId,
    }).plan,
  ];
}
