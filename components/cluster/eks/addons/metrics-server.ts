import type { AddOn } from "../../addon";
import type { EksNodesContext } from "../context";
import { eksManagedAddon } from "./managed";

/** metrics-server: the resource metrics HorizontalPodAutoscalers scale on. Optional for the Kubernetes provider. */
export const metricsServer: AddOn<EksNodesContext> = {
  name: "metrics-server",
  deploy(ctx, parent) {
    eksManagedAddon(ctx, parent, "metrics-server", {}, ctx.nodeGroups);
    return {};
  },
};
