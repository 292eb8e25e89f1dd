import type * as k8s from "@pulumi/kubernetes";

/** Requests or limits for the three resources every container sets. */
export type Quantities = Readonly<{
  cpu: string | number;
  memory: string | number;
  "ephemeral-storage": string | number;
}>;

/** Pod-level security context meeting Pod Security `restricted`, running as `uid`. */
export function restrictedPodSecurityContext(uid: number): k8s.types.input.core.v1.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    fsGroupChangePolicy: "OnRootMismatch",
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Container-level security context meeting Pod Security `restricted`, with a read-only root filesystem. */
export function restrictedContainerSecurityContext(): k8s.types.input.core.v1.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    privileged: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Container `resources` with all three resources in both requests and limits. */
export function containerResources(r: {
  readonly requests: Quantities;
  readonly limits: Quantities;
}): k8s.types.input.core.v1.ResourceRequirements {
  const q = (x: Quantities) => ({
    cpu: String(x.cpu),
    memory: String(x.memory),
    "ephemeral-storage": String(x["ephemeral-storage"]),
  });
  return { requests: q(r.requests), limits: q(r.limits) };
}

/** The writable `/tmp` of a pod whose root filesystem is read-only. */
export function tmpVolume(sizeLimit: string): {
  volume: k8s.types.input.core.v1.Volume;
  mount: k8s.types.input.core.v1.VolumeMount;
} {
  return { volume: { name: "tmp", emptyDir: { sizeLimit } }, mount: { name: "tmp", mountPath: "/tmp" } };
}
