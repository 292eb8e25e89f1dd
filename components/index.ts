/**
 * The blueprint's reusable components. Each is a plain-TypeScript `ComponentResource` with typed
 * args and secure defaults; give them an explicit Kubernetes provider through `providers`.
 */
export {
  TeamNamespace,
  teamNamespaceDefaults,
  type TeamNamespaceArgs,
  type QuotaSpec,
  type LimitRangeSpec,
} from "./namespace";
export { AppConfig, type AppConfigArgs } from "./app-config";
export { looksLikeCredential } from "../lib/credentials";
export { StorageClass, type StorageClassArgs } from "./storage-class";
export { Volume, type VolumeArgs } from "./volume";
export {
  Workload,
  workloadDefaults,
  AppEgressPolicy,
  type AppEgressPolicyArgs,
  type WorkloadArgs,
  type HttpProbe,
  type VolumeMount,
  type SecretFile,
} from "./workload";
export { AdminJob, adminJobDefaults, type AdminJobArgs } from "./admin-job";
export { AppMonitoring, ruleObject, type AppMonitoringArgs } from "./monitoring";
export {
  appMonitor,
  sloRuleGroups,
  platformRuleGroups,
  observabilityDefaults,
  type MonitoringFlavour,
  type Rule,
  type RuleGroup,
  type AppSlo,
  type AppMetrics,
  type PlatformRuleOptions,
} from "../lib/observability";
export {
  restrictedPodSecurityContext,
  restrictedContainerSecurityContext,
  containerResources,
  type Quantities,
} from "./pod-security";
export { PriorityClasses, priorityTiers, type PriorityTier } from "./priority-classes";
export { recommendedLabels, selectorLabels, MANAGED_BY, type AppIdentity } from "../lib/labels";
export { dataProtection } from "./protection";
export type { ClusterHandle, Cloud, WorkloadIdentityBinding } from "./cluster";
export { AdmissionPolicy, type AdmissionPolicyArgs } from "./admission-policy";
export {
  teamImagePolicySpec,
  podSecurityPolicySpec,
  teamBindingSpec,
  teamNetworkPolicySpec,
  teamServicePolicySpec,
  teamIngressPolicySpec,
  platformGuardrailPolicySpec,
  IMAGE_POLICY_NAME,
  POD_SECURITY_POLICY_NAME,
  NETWORK_POLICY_NAME,
  SERVICE_POLICY_NAME,
  INGRESS_POLICY_NAME,
  GUARDRAIL_POLICY_NAME,
  PLATFORM_OWNED_LABEL,
  FORBIDDEN_EGRESS,
  ALLOWED_REGISTRIES_ANNOTATION,
  type GrantedEgress,
} from "./admission-rules";
export { pullReferenceFor } from "../lib/mirrors";
export { parsePinnedImage, isPinned, formatPinnedImage, DIGEST, PINNED_FORM, type PinnedImage } from "../lib/images";
