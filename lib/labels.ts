/** The recommended `app.kubernetes.io/*` labels, built in one place. */

export const MANAGED_BY = "pulumi";

/** Inputs for {@link recommendedLabels}. */
export interface AppIdentity {
  /** `app.kubernetes.io/name`: the application. */
  readonly name: string;
  /** `app.kubernetes.io/instance`: this installation; equals the Deployment's name. */
  readonly instance: string;
  /** `app.kubernetes.io/component`, e.g. `server`, `worker`, `migration`. */
  readonly component: string;
  /** `app.kubernetes.io/part-of`: the team or product. */
  readonly partOf: string;
  /** `app.kubernetes.io/version`: the release id. Not part of selectors. */
  readonly version?: string;
}

/** All recommended labels for objects of one app. */
export function recommendedLabels(id: AppIdentity): Record<string, string> {
  return {
    "app.kubernetes.io/name": id.name,
    "app.kubernetes.io/instance": id.instance,
    "app.kubernetes.io/component": id.component,
    "app.kubernetes.io/part-of": id.partOf,
    "app.kubernetes.io/managed-by": MANAGED_BY,
    ...(id.version ? { "app.kubernetes.io/version": id.version } : {}),
  };
}

/** The stable subset used in selectors (never changes over the life of a Deployment). */
export function selectorLabels(id: Pick<AppIdentity, "name" | "instance">): Record<string, string> {
  return { "app.kubernetes.io/name": id.name, "app.kubernetes.io/instance": id.instance };
}
