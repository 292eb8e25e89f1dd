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
}

/**
 * The Secret a bound app reads: url, host, port, username, password, database (and ca.crt). Its
 * name carries the generation, so a rotation gives Deployments a new name to roll to; replaced
 * (delete first) when the instance moves, since the name is fixed.
 */
export class BindingSecret extends pulumi.ComponentResource {
  public readonly secretName: pulumi.Output<string>;

  constructor(name: string, args: BindingSecretArgs, opts?: pulumi.ComponentResourceOptions) {
    super("blueprint:services:BindingSecret", name, {}, opts);
    const data = pulumi
      .all([pulumi.output(args.connection), pulumi.output(args.ca)])
      .apply(([c, ca]) => ({ ...bindingSecretData(c), ...(ca ? { [CA_KEY]: ca } : {}) }));
    const secret = new k8s.core.v1.Secret(
      name,
      {
        metadata: {
          name: bindingSecretName(args.service, args.generation),
          namespace: args.namespace,
          labels: { ...args.labels },
        },
        type: "Opaque",
        immutable: true,
        stringData: pulumi.secret(data),
      },
      { parent: this, deleteBeforeReplace: true },
    );
    this.secretName = secret.metadata.name;
    this.registerOutputs({ secretName: this.secretName });
  }
}
