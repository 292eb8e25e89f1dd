import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MANAGED_BY } from "../lib/labels";

/** The priority tiers apps choose from, highest first. */
export const priorityTiers = {
  critical: {
    name: "blueprint-critical",
    value: 100000,
    description: "User-facing services that must stay up; may preempt lower tiers.",
  },
  standard: { name: "blueprint-standard", value: 10000, description: "Default for apps." },
  low: { name: "blueprint-low", value: 1000, description: "Batch and best-effort work; never preempts others." },
} as const;

/** A priority tier name. */
export type PriorityTier = keyof typeof priorityTiers;

/** The cluster's PriorityClasses, one per tier, so every pod states its priority. */
export class PriorityClasses extends pulumi.ComponentResource {
  /** Tier -> PriorityClass name. */
  public readonly names: Readonly<Record<PriorityTier, pulumi.Output<string>>>;

  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("blueprint:k8s:PriorityClasses", name, {}, opts);
    const names = {} as Record<PriorityTier, pulumi.Output<string>>;
    for (const [tier, spec] of Object.entries(priorityTiers) as [
      PriorityTier,
      (typeof priorityTiers)[PriorityTier],
    ][]) {
      const pc = new k8s.scheduling.v1.PriorityClass(
        `${name}-${tier}`,
        {
          metadata: { name: spec.name, labels: { "app.kubernetes.io/managed-by": MANAGED_BY } },
          value: spec.value,
          globalDefault: false,
          preemptionPolicy: tier === "low" ? "Never" : "PreemptLowerPriority",
          description: spec.description,
        },
        { parent: this },
      );
      names[tier] = pc.metadata.name;
    }
    this.names = names;
    this.registerOutputs({ names });
  }
}
