import type { AppConfigSpec, ResourceSet, TeamScope } from "./schema";

/** Values computed from an app's config that the validation and the program both need. */

/** Container requests and limits after filling gaps from the team's LimitRange defaults. */
export interface EffectiveResources {
  readonly requests: Required<ResourceSet>;
  readonly limits: Required<ResourceSet>;
}

const KEYS = ["cpu", "memory", "ephemeral-storage"] as const;

export function effectiveResources(app: AppConfigSpec, team: Pick<TeamScope, "limits">): EffectiveResources {
  const pick = (own: ResourceSet, fallback: ResourceSet, other: ResourceSet) =>
    Object.fromEntries(KEYS.map((k) => [k, own[k] ?? fallback[k] ?? other[k] ?? "0"])) as Required<ResourceSet>;
  return {
    requests: pick(app.resources.requests, team.limits.defaultRequest, team.limits.default),
    limits: pick(app.resources.limits, team.limits.default, team.limits.defaultRequest),
  };
}

/** Replica bounds: fixed replicas give min = max; neither set means one replica. */
export function replicaRange(app: AppConfigSpec): { readonly min: number; readonly max: number } {
  if (app.autoscaling) return { min: app.autoscaling.minReplicas, max: app.autoscaling.maxReplicas };
  const n = app.replicas ?? 1;
  return { min: n, max: n };
}

/** Resolves an int-or-percent rollout bound against a replica count, as the Deployment controller does. */
export function resolveIntOrPercent(v: number | string, replicas: number, roundUp: boolean): number {
  if (typeof v === "number") return v;
  const exact = (Number(v.slice(0, -1)) * replicas) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/**
 * The Deployment strategy an app needs. A single replica mounting a ReadWriteOnce (or
 * ReadWriteOncePod) volume cannot roll with a surge: the new pod may land on another node, where
 * the volume cannot attach while the old pod holds it, and the rollout hangs
 * (https://kubernetes.io/docs/concepts/storage/persistent-volumes/#access-modes). `Recreate`
 * stops the old pod first. Apps with more replicas and such a volume are refused by validation.
 */
export function rolloutStrategy(
  app: AppConfigSpec,
  team: Pick<TeamScope, "volumes"> | undefined,
): "RollingUpdate" | "Recreate" {
  const { max } = replicaRange(app);
  if (max !== 1 || resolveIntOrPercent(app.rollingUpdate.maxSurge, max, true) === 0) return "RollingUpdate";
  const singleNode = Object.keys(app.volumeMounts).some((v) => {
    const mode = team?.volumes[v]?.accessMode;
    return mode === "ReadWriteOnce" || mode === "ReadWriteOncePod";
  });
  return singleNode ? "Recreate" : "RollingUpdate";
}

/** Most pods the app can run at once: its maximum scale, the rolling-update surge (none under Recreate) and its release Job. */
export function peakPods(app: AppConfigSpec, team?: Pick<TeamScope, "volumes">): number {
  const { max } = replicaRange(app);
  const surge =
    rolloutStrategy(app, team) === "Recreate" ? 0 : resolveIntOrPercent(app.rollingUpdate.maxSurge, max, true);
  return max + surge + (app.releaseJob ? 1 : 0);
}
