import type { AddOn } from "../../addon";
import type { ExistingKubernetesContext } from "../context";
import { velero } from "./velero";

/**
 * Every add-on the platform installs on an existing cluster, one file each, in the order they are
 * installed. The cluster's own controllers (CNI, ingress, storage) are its owner's; only what the
 * platform adds is here. Velero brings its object store (./minio.ts) when the cluster has none.
 */
export const existingAddOns: readonly AddOn<ExistingKubernetesContext>[] = [velero];
