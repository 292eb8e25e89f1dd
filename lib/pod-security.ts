/**
 * Pod Security `restricted` as Kubernetes' own Pod Security admission decides it, for a pinned
 * minor: the facts (allowed values and the version each rule starts at) and a plain evaluator of
 * a pod spec. The admission policy (components/admission-rules.ts) builds its CEL from the same
 * facts, and the policy pack runs the evaluator, so both decide as the namespace's
 * `pod-security.kubernetes.io/enforce-version: v<minor>` label does.
 *
 * Source: kubernetes/pod-security-admission, policy/check_*.go (the checks of the baseline and
 * restricted levels and their `MinimumVersion`s; a restricted check that overrides a baseline one
 * replaces it). The facts are restated here, not the code. Objects are judged as admission sees
 * them, after the API server's defaulting: an empty string is the same as an unset field.
 */

/** The oldest minor this project pins (native preStop `sleep`); every rule below 1.30 already applies. */
export const OLDEST_MINOR = 30;

/** AppArmor profile types allowed on the pod and its containers (`appArmorProfile.type`). */
export const APPARMOR_TYPES = ["RuntimeDefault", "Localhost"] as const;
/** Prefix of the deprecated per-container AppArmor annotations; allowed values: "", `runtime/default`, `localhost/*`. */
export const APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/";
/** Seccomp profile types restricted requires (on the pod, or on every container). */
export const SECCOMP_TYPES = ["RuntimeDefault", "Localhost"] as const;
/** Inline volume sources restricted allows (check_restrictedVolumes.go; `image` included). */
export const RESTRICTED_VOLUME_TYPES = [
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "image",
  "persistentVolumeClaim",
  "projected",
  "secret",
] as const;

/** The minor number of `"1.34"` or `"v1.34"`. */
export function minorOf(version: string): number {
  const m = /^v?1\.(\d+)$/.exec(version);
  if (!m) throw new RangeError(`a Pod Security version must be a Kubernetes minor such as "1.34", got "${version}"`);
  return Number(m[1]);
}

/** Sysctls baseline allows at a minor (check_sysctls.go: 1.0, 1.27, 1.29, 1.32, 1.37 sets). */
export function allowedSysctls(minor: number): string[] {
  const out = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
  ];
  if (minor >= 27) out.push("net.ipv4.ip_local_reserved_ports");
  if (minor >= 29)
    out.push(
      "net.ipv4.tcp_keepalive_time",
      "net.ipv4.tcp_fin_timeout",
      "net.ipv4.tcp_keepalive_intvl",
      "net.ipv4.tcp_keepalive_probes",
    );
  if (minor >= 32) out.push("net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem");
  if (minor >= 37) out.push("net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat");
  return out;
}

/** SELinux types baseline allows (check_seLinuxOptions.go; `container_engine_t` from 1.31). "" is unset. */
export function allowedSeLinuxTypes(minor: number): string[] {
  return ["", "container_t", "container_init_t", "container_kvm_t", ...(minor >= 31 ? ["container_engine_t"] : [])];
}

/** From 1.34, probes and lifecycle handlers may not name a `host` (check_hostProbesAndhostLifecycle.go). */
export function forbidsProbeHost(minor: number): boolean {
  return minor >= 34;
}

/** From 1.35, runAsNonRoot and runAsUser are not required of a pod in a user namespace (`hostUsers: false`). */
export function relaxesUserNamespacePods(minor: number): boolean {
  return minor >= 35;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj) : []);
const set = (v: unknown): boolean => v !== undefined && v !== null && v !== "";

/** Every container of a pod spec: init, regular and ephemeral (visitContainers). */
function containers(spec: Obj): Obj[] {
  return [...list(spec.initContainers), ...list(spec.containers), ...list(spec.ephemeralContainers)];
}

/**
 * Why a pod breaks Pod Security `restricted` at `version` (a minor such as "1.34"), one reason per
 * check that fails; empty when Pod Security admission admits it. `annotations` are the pod's (or
 * the pod template's).
 */
export function restrictedPodProblems(
  spec: Obj,
  annotations: Readonly<Record<string, unknown>> | undefined,
  version: string,
): string[] {
  const minor = minorOf(version);
  const problems: string[] = [];
  const pod = obj(spec.securityContext);
  const all = containers(spec);
  const ctx = (c: Obj) => obj(c.securityContext);
  const names = (cs: Obj[]) => cs.map((c) => `"${String(c.name)}"`).join(", ");
  const windows = obj(spec.os).name === "windows";
  const userNamespace = relaxesUserNamespacePods(minor) && spec.hostUsers === false;

  // Restricted, pod-level.
  if (!userNamespace) {
    if (pod.runAsNonRoot === false) problems.push("sets runAsNonRoot: false on the pod");
    if (pod.runAsUser === 0) problems.push("runs as root (securityContext.runAsUser: 0)");
  }
  const validSeccomp = (p: unknown) => (SECCOMP_TYPES as readonly unknown[]).includes(obj(p).type);
  const podSeccomp = pod.seccompProfile !== undefined;
  if (!windows && podSeccomp && !validSeccomp(pod.seccompProfile))
    problems.push(`seccomp profile ${String(obj(pod.seccompProfile).type)} is not RuntimeDefault or Localhost`);
  // Restricted, per container (Windows pods are exempt from escalation, capabilities and seccomp).
  for (const c of all) {
    const sc = ctx(c);
    const who = `container "${String(c.name)}"`;
    if (!userNamespace) {
      if (sc.runAsNonRoot === false) problems.push(`${who} sets runAsNonRoot: false`);
      else if (sc.runAsNonRoot === undefined && pod.runAsNonRoot !== true)
        problems.push(`${who} does not set runAsNonRoot: true (on the container or the pod)`);
      if (sc.runAsUser === 0) problems.push(`${who} runs as root (runAsUser: 0)`);
    }
    if (windows) continue;
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${who} does not set allowPrivilegeEscalation: false`);
    const caps = obj(sc.capabilities);
    if (!(Array.isArray(caps.drop) && caps.drop.includes("ALL")))
      problems.push(`${who} does not drop ALL capabilities`);
    const added = Array.isArray(caps.add) ? caps.add.filter((a) => a !== "NET_BIND_SERVICE") : [];
    if (added.length > 0)
      problems.push(`${who} adds capabilities ${added.join(", ")} (only NET_BIND_SERVICE is allowed)`);
    if (sc.seccompProfile !== undefined ? !validSeccomp(sc.seccompProfile) : !podSeccomp)
      problems.push(`${who} has no seccomp profile RuntimeDefault or Localhost (on the container or the pod)`);
  }
  for (const v of list(spec.volumes)) {
    if (
      Object.keys(v).some(
        (k) => k !== "name" && (RESTRICTED_VOLUME_TYPES as readonly string[]).includes(k) && set(v[k]),
      )
    )
      continue;
    problems.push(
      `volume "${String(v.name)}" is of type ${
        Object.keys(v)
          .filter((k) => k !== "name")
          .join(", ") || "unknown"
      }, which restricted does not allow`,
    );
  }

  // Baseline, which restricted includes.
  const hostNs = (["hostNetwork", "hostPID", "hostIPC"] as const).filter((k) => spec[k] === true);
  if (hostNs.length) problems.push(`uses host namespaces: ${hostNs.join(", ")}`);
  const privileged = all.filter((c) => ctx(c).privileged === true);
  if (privileged.length) problems.push(`privileged containers: ${names(privileged)}`);
  const hostPorts = all.filter((c) => list(c.ports).some((p) => set(p.hostPort) && p.hostPort !== 0));
  if (hostPorts.length) problems.push(`host ports in containers ${names(hostPorts)}`);
  const badAppArmor = (p: unknown) => p !== undefined && !(APPARMOR_TYPES as readonly unknown[]).includes(obj(p).type);
  if (badAppArmor(pod.appArmorProfile) || all.some((c) => badAppArmor(ctx(c).appArmorProfile)))
    problems.push("AppArmor profile type other than RuntimeDefault or Localhost");
  const badAnnotations = Object.entries(annotations ?? {}).filter(
    ([k, v]) =>
      k.startsWith(APPARMOR_ANNOTATION_PREFIX) &&
      !(v === "" || v === "runtime/default" || String(v).startsWith("localhost/")),
  );
  if (badAnnotations.length)
    problems.push(`AppArmor annotations ${badAnnotations.map(([k, v]) => `${k}=${String(v)}`).join(", ")}`);
  const seTypes = allowedSeLinuxTypes(minor);
  const badSeLinux = (o: unknown) =>
    o !== undefined && (!seTypes.includes(String(obj(o).type ?? "")) || set(obj(o).user) || set(obj(o).role));
  if (badSeLinux(pod.seLinuxOptions) || all.some((c) => badSeLinux(ctx(c).seLinuxOptions)))
    problems.push("seLinuxOptions with a forbidden type, user or role");
  // Restricted blocks an unmasked /proc at every minor (procMount, then procMount_restricted from 1.35).
  const procMount = all.filter((c) => set(ctx(c).procMount) && ctx(c).procMount !== "Default");
  if (procMount.length) problems.push(`procMount other than Default in containers ${names(procMount)}`);
  const sysctls = allowedSysctls(minor);
  const badSysctls = list(pod.sysctls)
    .map((s) => String(s.name))
    .filter((n) => !sysctls.includes(n));
  if (badSysctls.length) problems.push(`forbidden sysctls: ${badSysctls.join(", ")}`);
  const hostProcess = (o: unknown) => obj(o).hostProcess === true;
  if (hostProcess(pod.windowsOptions) || all.some((c) => hostProcess(ctx(c).windowsOptions)))
    problems.push("Windows hostProcess");
  if (forbidsProbeHost(minor)) {
    const handlerHost = (h: unknown) => set(obj(obj(h).httpGet).host) || set(obj(obj(h).tcpSocket).host);
    const hosts = all.filter((c) =>
      [c.livenessProbe, c.readinessProbe, c.startupProbe, obj(c.lifecycle).postStart, obj(c.lifecycle).preStop].some(
        handlerHost,
      ),
    );
    if (hosts.length) problems.push(`probe or lifecycle host in containers ${names(hosts)}`);
  }
  return problems;
}
