import type { AddOn } from "../../addon";
import type { EksAddOnContext } from "../context";
import { eksManagedAddon } from "./managed";

/** kube-proxy: Service routing on every node. Nodes and the Kubernetes provider wait for it. */
export const kubeProxy: AddOn<EksAddOnContext> = {
  name: "kube-proxy",
  deploy(ctx, parent) {
    const addon = eksManagedAddon(ctx, parent, "kube-proxy");
    return { nodesWaitFor: [addon], kubernetesWaitsFor: [addon] };
  },
};
