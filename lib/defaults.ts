/**
 * Every default of the components, in one visible place. Plain data with no SDK import, so the
 * config schema and the benchmark's references can use the same values without loading Pulumi.
 */

/** ResourceQuota `spec.hard`, keyed as Kubernetes names the resources (`requests.cpu`, `pods`, ...). */
export type QuotaSpec = Readonly<Record<string, string | number>>;

/** Container and PVC bounds applied by a LimitRange. */
export interface LimitRangeSpec {
  /** Limits given to containers that set none. */
  readonly default: Readonly<Record<string, string | number | undefined>>;
  /** Requests given to containers that set none. */
  readonly defaultRequest: Readonly<Record<string, string | number | undefined>>;
  /** Largest limit a container may set. */
  readonly max: Readonly<Record<string, string | number | undefined>>;
  /** Largest limit/request ratio per resource. */
  readonly maxLimitRequestRatio: Readonly<Record<string, string | number | undefined>>;
  /** Smallest and largest PersistentVolumeClaim. */
  readonly pvcMin: string | number;
  readonly pvcMax: string | number;
}

/** Defaults for a small team, used when `TeamNamespaceArgs` leaves a part out. */
export const teamNamespaceDefaults = {
  podSecurity: "restricted",
  podSecurityVersion: "latest",
  quota: {
    "requests.cpu": "4",
    "requests.memory": "8Gi",
    "limits.cpu": "8",
    "limits.memory": "16Gi",
    "requests.ephemeral-storage": "20Gi",
    "limits.ephemeral-storage": "40Gi",
    pods: 40,
    services: 20,
    "services.loadbalancers": 0,
    "services.nodeports": 0,
    persistentvolumeclaims: 10,
    "requests.storage": "100Gi",
  } as QuotaSpec,
  limits: {
    default: { cpu: "500m", memory: "512Mi", "ephemeral-storage": "1Gi" },
    defaultRequest: { cpu: "100m", memory: "128Mi", "ephemeral-storage": "256Mi" },
    max: { cpu: "4", memory: "8Gi", "ephemeral-storage": "8Gi" },
    maxLimitRequestRatio: { cpu: "10", memory: "4" },
    pvcMin: "1Gi",
    pvcMax: "100Gi",
  } as LimitRangeSpec,
} as const;

/** Defaults of a `Workload`. */
export const workloadDefaults = {
  preStopSeconds: 5,
  terminationGracePeriodSeconds: 30,
  /** Never drop below the desired count during a rollout. */
  rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } as { maxSurge: number | string; maxUnavailable: number | string },
  runAsUser: 10001,
  tmpSize: "64Mi",
  /** Probe timings; a liveness failure needs 3 misses 10 s apart before a restart. */
  probe: { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
  targetCPUUtilizationPercentage: 70,
  servicePort: 80,
  revisionHistoryLimit: 5,
  progressDeadlineSeconds: 600,
  /** Seconds an HPA waits before scaling down, to ride out short dips. */
  scaleDownStabilizationSeconds: 300,
} as const;

/** Defaults of an `AdminJob`. */
export const adminJobDefaults = {
  backoffLimit: 2,
  activeDeadlineSeconds: 600,
  /** Pulumi waits this much longer than the deadline, so the Job's own failure is what gets reported. */
  awaitMarginSeconds: 120,
  runAsUser: workloadDefaults.runAsUser,
  tmpSize: workloadDefaults.tmpSize,
} as const;
