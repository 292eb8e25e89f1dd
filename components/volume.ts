import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { dataProtection } from "./protection";

/** A persistent volume for an app. */
export interface VolumeArgs {
  /** Claim name (fixed, so it survives refactors of the program). */
  readonly name: string;
  readonly namespace: pulumi.Input<string>;
  /** Requested size, e.g. `10Gi`. */
  readonly size: string;
  /** @default "ReadWriteOnce" */
  readonly accessMode?: "ReadWriteOnce" | "ReadWriteOncePod" | "ReadWriteMany" | "ReadOnlyMany";
  /** StorageClass to provision from. */
  readonly storageClassName: pulumi.Input<string>;
  readonly labels?: Readonly<Record<string, string>>;
  /** Keep the claim through `pulumi destroy` and removal from the program. @default false */
  readonly protect?: boolean;
  /** Earlier names of this component, so a rename moves state instead of replacing the volume. */
  readonly aliases?: pulumi.Input<pulumi.URN | pulumi.Alias>[];
}

/** A PersistentVolumeClaim that, when protected, outlives `pulumi destroy` and resource renames. */
export class Volume extends pulumi.ComponentResource {
  /** The claim name, for a pod's `persistentVolumeClaim.claimName`. */
  public readonly claimName: pulumi.Output<string>;
  /** Whether the claim was registered with `protect`/`retainOnDelete`. */
  public readonly protected: boolean;

  constructor(name: string, args: VolumeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("blueprint:k8s:Volume", name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), ...(args.aliases ?? [])] });
    this.protected = args.protect ?? false;
    const pvc = new k8s.core.v1.PersistentVolumeClaim(
      name,
      {
        metadata: { name: args.name, namespace: args.namespace, labels: args.labels },
        spec: {
          accessModes: [args.accessMode ?? "ReadWriteOnce"],
          storageClassName: args.storageClassName,
          resources: { requests: { storage: args.size } },
        },
      },
      { parent: this, ...dataProtection(this.protected) },
    );
    this.claimName = pvc.metadata.name;
    this.registerOutputs({ claimName: this.claimName });
  }
}
