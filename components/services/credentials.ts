import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { bindingSecretData, bindingSecretName, CA_KEY, PASSWORD_RULES, type Connection } from "../../lib/services";

/** The passwords of one service at a credential generation: the current one and the one before it. */
export interface GenerationPasswords {
  /** Generated for this generation (a Pulumi secret). */
  readonly current: pulumi.Output<string>;
  /** The previous generation's, still valid until the next rotation; undefined at generation 0. */
  readonly previous?: pulumi.Output<string>;
}

/**
 * A password per credential generation, each its own `RandomPassword` named after the generation:
 * raising the generation adds a new one and keeps the previous one (the one before it is deleted),
 * so the old credential works until every pod has moved to the new Secret.
 */
export function generationPasswords(
  name: string,
  generation: number,
  opts: pulumi.CustomResourceOptions,
): GenerationPasswords {
  const make = (g: number) => new random.RandomPassword(`${name}-g${g}`, { ...PASSWORD_RULES }, opts).result;
  return { current: make(generation), previous: generation > 0 ? make(generation - 1) : undefined };
}

/** Arguments of a {@link BindingSecret}. */
export interface BindingSecretArgs {
  /** The service's name (the Secret is `svc-<service>-g<generation>`). */
  readonly service: string;
  readonly generation: number;
  readonly namespace: pulumi.Input<string>;
  /** What to connect to, with the binding user's (never an admin's) credentials. */
  readonly connection: pulumi.Input<Connection>;
  /** The server's CA certificate (PEM), where the system roots do not verify it. */
  readonly ca?: pulumi.Input<string>;
  readonly labels: Readonly<Record<string, string>>;
  /**
   * The previous generation's connection, whose credential stays valid until the next rotation:
   * its Secret `svc-<service>-g<generation - 1>` is kept beside the new one, so a pod of a
   * ReplicaSet that has not rolled yet can still start. Absent at generation 0, and where the old
   * credential is gone (an external URL, a retired Memorystore instance).
   */
  readonly previous?: { readonly connection: pulumi.Input<Connection>; readonly ca?: pulumi.Input<string> };
}

/**
 * The Secret a bound app reads: url, host, port, username, password, database (and ca.crt). Its
 * name carries the generation, so a rotation gives Deployments a new name to roll to; replaced
 * (delete first) when the instance moves, since the name is fixed. Each generation's Secret is
 * its own resource (`<name>-g<generation>`), so the previous one is kept, unchanged, until the
 * next rotation deletes it.
 */
export class BindingSecret extends pulumi.ComponentResource {
  public readonly secretName: pulumi.Output<string>;

  constructor(name: string, args: BindingSecretArgs, opts?: pulumi.ComponentResourceOptions) {
    super("blueprint:services:BindingSecret", name, {}, opts);
    const secret = (generation: number, connection: pulumi.Input<Connection>, ca: pulumi.Input<string> | undefined) => {
      const data = pulumi
        .all([pulumi.output(connection), pulumi.output(ca)])
        .apply(([c, pem]) => ({ ...bindingSecretData(c), ...(pem ? { [CA_KEY]: pem } : {}) }));
      return new k8s.core.v1.Secret(
        `${name}-g${generation}`,
        {
          metadata: {
            name: bindingSecretName(args.service, generation),
            namespace: args.namespace,
            labels: { ...args.labels },
          },
          type: "Opaque",
          immutable: true,
          stringData: pulumi.secret(data),
        },
        // Stacks from before generations had their own resources knew the current Secret as `name`.
        { parent: this, deleteBeforeReplace: true, aliases: generation === args.generation ? [{ name }] : [] },
      );
    };
    this.secretName = secret(args.generation, args.connection, args.ca).metadata.name;
    if (args.previous && args.generation > 0) secret(args.generation - 1, args.previous.connection, args.previous.ca);
    this.registerOutputs({ secretName: this.secretName });
  }
}
