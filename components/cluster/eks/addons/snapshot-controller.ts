import * as k8s from "@pulumi/kubernetes";
import type { AddOn } from "../../addon";
import type { EksKubernetesContext } from "../context";
import { eksManagedAddon } from "./managed";

/** The VolumeSnapshotClass of EBS CSI volumes the snapshot-controller add-on serves. */
export const EBS_SNAPSHOT_CLASS = "ebs-snapshots";

/**
 * The snapshot controller (EKS managed add-on `snapshot-controller`) and a VolumeSnapshotClass for
 * the EBS CSI driver, so a `VolumeSnapshot` of a team volume (a backup tool's or an operator's)
 * becomes an EBS snapshot (https://docs.aws.amazon.com/eks/latest/userguide/csi-snapshot-controller.html).
 * Snapshots are kept when their VolumeSnapshot is deleted (`Retain`): a backup outlives its object.
 * It serves finalizers on VolumeSnapshots in team namespaces, so those wait for it on destroy.
 */
export const snapshotController: AddOn<EksKubernetesContext> = {
  name: "snapshot-controller",
  deploy(ctx, parent) {
    const addon = eksManagedAddon(ctx, parent, "snapshot-controller", {}, ctx.nodeGroups);
    new k8s.apiextensions.CustomResource(
      `${ctx.name}-${EBS_SNAPSHOT_CLASS}`,
      {
        apiVersion: "snapshot.storage.k8s.io/v1",
        kind: "VolumeSnapshotClass",
        metadata: { name: EBS_SNAPSHOT_CLASS, labels: { "app.kubernetes.io/managed-by": "pulumi" } },
        driver: "ebs.csi.aws.com",
        deletionPolicy: "Retain",
      },
      { parent, provider: ctx.provider, dependsOn: [addon] },
    );
    return { finalizerOwners: [addon] };
  },
};
