import type { AddOn } from "../../addon";
import type { EksNodesContext } from "../context";
import { eksManagedAddon } from "./managed";

/** CoreDNS: cluster DNS. Its pods need nodes; the Kubernetes provider waits for it, as nothing resolves without it. */
export const coreDns: AddOn<EksNodesContext> = {
  name: "coredns",
  deploy(ctx, parent) {
    const addon = eksManagedAddon(ctx, parent, "coredns", {}, ctx.nodeGroups);
    return { kubernetesWaitsFor: [addon] };
  },
};
