import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MANAGED_BY } from "../lib/labels";

/** A StorageClass for app volumes. */
export interface StorageClassArgs {
  /** Object name. */
  readonly name: string;
  /** CSI driver, e.g. `ebs.csi.aws.com`, `pd.csi.storage.gke.io`. */
  readonly provisioner: string;
  /** Driver parameters (disk type, encryption). */
  readonly parameters?: Readonly<Record<string, string>>;
  /** `Retain` keeps the disk when its claim is deleted (use in production). @default "Delete" */
  readonly reclaimPolicy?: "Delete" | "Retain";
  /** Allow growing claims in place. @default true */
  readonly allowVolumeExpansion?: boolean;
  /** Mark it the cluster's default StorageClass (claims without a class get it). @default false */
  readonly isDefault?: boolean;
  /** Annotations the provisioner reads (e.g. local-path's `defaultVolumeType`). */
  readonly annotations?: Readonly<Record<string, string>>;
}

/**
 * A StorageClass that binds volumes only when a pod is scheduled (`WaitForFirstConsumer`), so
 * zonal disks are created in the zone of the pod that uses them.
 */
export class StorageClass extends pulumi.ComponentResource {
  public readonly name: pulumi.Output<string>;

  constructor(name: string, args: StorageClassArgs, opts?: pulumi.ComponentResourceOptions) {
    super("blueprint:k8s:StorageClass", name, {}, opts);
    const sc = new k8s.storage.v1.StorageClass(
      name,
      {
        metadata: {
          name: args.name,
          labels: { "app.kubernetes.io/managed-by": MANAGED_BY },
          annotations:
            args.isDefault || args.annotations
              ? {
                  ...args.annotations,
                  ...(args.isDefault ? { "storageclass.kubernetes.io/is-default-class": "true" } : {}),
                }
              : undefined,
        },
        provisioner: args.provisioner,
        parameters: { ...args.parameters },
        reclaimPolicy: args.reclaimPolicy ?? "Delete",
        volumeBindingMode: "WaitForFirstConsumer",
        allowVolumeExpansion: args.allowVolumeExpansion ?? true,
      },
      { parent: this },
    );
    this.name = sc.metadata.name;
    this.registerOutputs({ name: this.name });
  }
}
