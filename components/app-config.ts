import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { looksLikeCredential } from "../lib/credentials";

/** Configuration for one app, following the 12-factor rule: config lives in the environment. */
export interface AppConfigArgs {
  /** Namespace of the ConfigMap and Secret. */
  readonly namespace: pulumi.Input<string>;
  /** Labels for both objects. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Plain settings, one environment variable each. Keys that look like credentials are refused. */
  readonly data?: Readonly<Record<string, string>>;
  /** Secret settings, one environment variable each; values should be `pulumi.secret(...)` outputs. */
  readonly secretData?: Readonly<Record<string, pulumi.Input<string>>>;
}

/**
 * An auto-named ConfigMap (plain data) and Secret (secret data). Auto-naming gives a changed
 * config a new object name, so the Deployment that refers to it rolls; both are immutable.
 */
export class AppConfig extends pulumi.ComponentResource {
  /** What a container spreads into `envFrom`. */
  public readonly envFrom: pulumi.Output<k8s.types.input.core.v1.EnvFromSource[]>;
  /** Auto-generated ConfigMap name, if there is plain data. */
  public readonly configMapName?: pulumi.Output<string>;
  /** Auto-generated Secret name, if there is secret data. */
  public readonly secretName?: pulumi.Output<string>;

  constructor(name: string, args: AppConfigArgs, opts?: pulumi.ComponentResourceOptions) {
    const data = args.data ?? {};
    const credentialKeys = Object.keys(data).filter(looksLikeCredential);
    if (credentialKeys.length > 0) {
      throw new Error(
        `AppConfig ${name}: plain keys ${credentialKeys.join(", ")} look like credentials; pass them as secretData`,
      );
    }
    super("blueprint:k8s:AppConfig", name, {}, opts);
    const parent = { parent: this };
    const refs: pulumi.Output<k8s.types.input.core.v1.EnvFromSource>[] = [];
    if (Object.keys(data).length > 0) {
      const cm = new k8s.core.v1.ConfigMap(
        `${name}-config`,
        {
          metadata: { namespace: args.namespace, labels: args.labels },
          immutable: true,
          data: { ...data },
        },
        parent,
      );
      this.configMapName = cm.metadata.name;
      refs.push(cm.metadata.name.apply((n) => ({ configMapRef: { name: n } })));
    }
    const secretData = args.secretData ?? {};
    if (Object.keys(secretData).length > 0) {
      const secret = new k8s.core.v1.Secret(
        `${name}-secret`,
        {
          metadata: { namespace: args.namespace, labels: args.labels },
          type: "Opaque",
          immutable: true,
          stringData: { ...secretData },
        },
        parent,
      );
      this.secretName = secret.metadata.name;
      refs.push(secret.metadata.name.apply((n) => ({ secretRef: { name: n } })));
    }
    this.envFrom = pulumi.all(refs);
    this.registerOutputs({ envFrom: this.envFrom, configMapName: this.configMapName, secretName: this.secretName });
  }
}
