import * as pulumi from "@pulumi/pulumi";

/**
 * Resource options for data that must outlive `pulumi destroy` and refactors: `protect` makes the
 * engine refuse to delete it, `retainOnDelete` leaves it in the cluster if it is ever removed.
 */
export function dataProtection(enabled: boolean): Pick<pulumi.CustomResourceOptions, "protect" | "retainOnDelete"> {
  return enabled ? { protect: true, retainOnDelete: true } : {};
}
