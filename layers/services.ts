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
import { DEFAULT_PORTS, IN_CLUSTER_IMAGES, type Connection, type ServiceType } from "../lib/services";

/** What the services of one team need from the platform layer. */
export interface TeamServiceParts {
  readonly team: string;
  readonly namespace: pulumi.Output<string>;
  readonly storageClass: pulumi.Output<string>;
  readonly priorityClass: pulumi.Output<string>;
  /** Kubernetes objects go through the cluster's provider and wait for the team namespace. */
  readonly k8sOpts: pulumi.ComponentResourceOptions;
  /** The stack's explicit `random` provider (default providers are disabled), made on first use. */
  readonly randomProvider: () => pulumi.ProviderResource;
}

/** The explicit provider of generated passwords. */
export function randomProvider(): pulumi.ProviderResource {
  return new random.Provider("random");
}

/**
 * Provisions the services granted to one team in this environment's flavour and returns, per
 * service, the binding the contract carries (never a credential).
 */
export function teamServices(env: PlatformConfig, cluster: ClusterHandle, services: Readonly<Record<string, ServiceConfig>>, parts: TeamServiceParts): Record<string, pulumi.Output<ServiceBinding>> {
  const out: Record<string, pulumi.Output<ServiceBinding>> = {};
  for (const [name, svc] of Object.entries(services)) {
    const id = `${parts.team}-${name}`;
    switch (svc.flavour) {
      case "in-cluster": {
        const instance = new InClusterService(id, {
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
          randomProvider: parts.randomProvider(),
        }, parts.k8sOpts);
        const f = instance.footprint;
        out[name] = pulumi.all([instance.secretName, instance.host]).apply(([secretName, host]) => ({
          type: svc.type,
          flavour: svc.flavour,
          secretName,
          host,
          port: instance.port,
          tls: false,
          caFile: null,
          footprint: { requests: { ...f.requests } as Record<string, string>, limits: { ...f.limits } as Record<string, string>, storage: f.storage, pods: 1, services: 1, persistentvolumeclaims: 1 },
        }));
        break;
      }
      case "external": {
        const connection = externalConnection(env, parts.team, name, svc.type);
        const secret = new BindingSecret(id, {
          service: name,
          generation: svc.rotation,
          namespace: parts.namespace,
          connection: pulumi.secret(connection),
          labels: { "app.kubernetes.io/part-of": parts.team, "app.kubernetes.io/managed-by": MANAGED_BY, "app.kubernetes.io/component": "backing-service" },
        }, parts.k8sOpts);
        out[name] = secret.secretName.apply((secretName) => ({
          type: svc.type, flavour: svc.flavour, secretName, host: connection.host, port: connection.port, tls: connection.tls, caFile: null, footprint: null,
        }));
        break;
      }
      case "managed":
        throw new ConfigError(env.file, [{ key: `blueprint:teams.${parts.team}.services.${name}.flavour`, message: `is "managed", which this cluster (${cluster.cloud}) does not provide` }]);
    }
  }
  return out;
}

/**
 * The connection of an `external` service, from its URL in the secret config
 * `blueprint:serviceUrls.<team>.<service>`. Only the host, port and TLS reach the contract.
 */
export function externalConnection(env: Pick<PlatformConfig, "serviceUrls" | "file">, team: string, service: string, type: ServiceType): Connection {
  const key = `blueprint:serviceUrls.${team}.${service}`;
  const fail = (message: string): never => { throw new ConfigError(env.file, [{ key, message }]); };
  const text = env.serviceUrls[team]?.[service] ?? fail("has no value");
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // The value is a secret: it is never shown.
    return fail("is not a URL (value not shown)");
  }
  const schemes = type === "postgres" ? ["postgres:", "postgresql:"] : ["redis:", "rediss:"];
  if (!schemes.includes(url.protocol)) fail(`must use ${schemes.map((s) => `${s}//`).join(" or ")} for a ${type} service, got ${url.protocol}//`);
  if (!url.hostname || !url.username || !url.password) fail("must name a host, a user and a password (value not shown)");
  const sslmode = url.searchParams.get("sslmode");
  const tls = type === "postgres" ? sslmode !== null && sslmode !== "disable" && sslmode !== "allow" && sslmode !== "prefer" : url.protocol === "rediss:";
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
