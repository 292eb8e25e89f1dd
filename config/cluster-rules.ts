import type { ConfigProblem } from "../lib/errors";
import type { ClusterConfig } from "../lib/cluster-config";
import { overlaps, parseCidr } from "../lib/cidr";
import {
  evaluationDate,
  gkeChannelMinors,
  gkeChannelOffers,
  kubernetesVersionTable,
  newestStandardMinor,
  offeredMinors,
  supportStatus,
  utcDay,
} from "../lib/kubernetes-versions";

/** What the cluster rules need to know about the rest of the environment. */
export interface ClusterRuleContext {
  /** `blueprint:production`: demands more zones, per-zone NAT and no API open to the internet. */
  readonly production: boolean;
  /** Team groups become cluster identities (EKS access entries, Google Groups for RBAC). */
  readonly teams?: Readonly<
    Record<
      string,
      { readonly groups: { readonly maintainers: readonly string[]; readonly viewers: readonly string[] } }
    >
  >;
  /** Cloud identities teams may bind, each with its config key: they must be of the cluster's cloud. */
  readonly identities?: readonly (readonly [key: string, cloudIdentity: string])[];
  /** Ingress hosts teams may serve, each with its config key. */
  readonly hosts?: readonly (readonly [key: string, host: string])[];
  /** The day the version rules are evaluated on. @default `evaluationDate()`: BLUEPRINT_EVALUATION_DATE, else now */
  readonly now?: Date;
}

/** Minimum availability zones per cluster: two everywhere, three in production. */
export const clusterZoneMinimum = { default: 2, production: 3 } as const;

/** Registries whose ECR pull-through cache needs upstream credentials. */
const CREDENTIALED_UPSTREAMS = new Set(["ghcr.io", "registry-1.docker.io", "docker.io", "registry.gitlab.com"]);
const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const GOOGLE_SA_EMAIL = /^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[a-z]{2,}$/i;

/**
 * Cross-field rules of `blueprint:cluster`. The environment's validation passes the context
 * (production, teams, apps); without it the production-only and team/app rules are skipped.
 * `createCluster` (layers/cluster.ts) runs them too, before any cloud resource.
 */
export function validateCluster(cluster: ClusterConfig, context?: ClusterRuleContext): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (key: string, message: string) =>
    problems.push({ key: `blueprint:cluster${key ? `.${key}` : ""}`, message });
  const production = context?.production ?? false;

  for (const section of ["existing", "aws", "gcp"] as const) {
    if (cluster[section] !== undefined && section !== cluster.cloud) {
      add(
        section,
        `is only used when cloud is "${section}", but cloud is "${cluster.cloud}"; remove it or set cloud: ${section}`,
      );
    }
  }
  if (!cluster[cluster.cloud]) {
    const hint = {
      existing: "give a context, or {} to use the secret blueprint:kubeconfig",
      aws: "at least region and nodeGroups",
      gcp: "at least project, region, zones and nodePools",
    }[cluster.cloud];
    add(cluster.cloud, `is required when cloud is "${cluster.cloud}" (${hint})`);
  }

  checkVersion(cluster, context?.now ?? evaluationDate(), add);

  const groups = teamGroups(context);
  if (cluster.cloud === "aws" && cluster.aws) {
    const aws = cluster.aws;
    if (!aws.region) add("aws.region", 'is required when cloud is "aws" (an AWS region such as eu-west-1)');
    const minZones = production ? clusterZoneMinimum.production : clusterZoneMinimum.default;
    if (aws.zones < minZones) {
      add(
        "aws.zones",
        `must be at least ${minZones}${production ? " in a production environment (blueprint:production is true)" : ""} so the cluster survives a zone outage, got ${aws.zones}`,
      );
    }
    checkPools(aws.nodeGroups, "aws.nodeGroups", add);
    const vpc = parseCidr(aws.vpcCidr);
    if (vpc && (vpc.prefix < 16 || vpc.prefix > 20))
      add(
        "aws.vpcCidr",
        `must be a /16 to /20 block (subnets for ${aws.zones} zones are carved from it), got ${aws.vpcCidr}`,
      );
    const svc = parseCidr(aws.serviceCidr);
    if (svc && (svc.prefix < 12 || svc.prefix > 24))
      add("aws.serviceCidr", `must be a /12 to /24 block, got ${aws.serviceCidr}`);
    if (vpc && svc && overlaps(vpc, svc))
      add(
        "aws.serviceCidr",
        `overlaps aws.vpcCidr (${aws.vpcCidr}); Service addresses must be outside the VPC, got ${aws.serviceCidr}`,
      );
    checkPublicAccess(aws.publicAccessCidrs, "aws.publicAccessCidrs", production, add);
    if (production && aws.natGateways === "single")
      add(
        "aws.natGateways",
        'must be "perZone" in a production environment: one NAT gateway is a single point of failure for every zone',
      );
    // IAM Identity Center permission-set roles live under aws-reserved/sso.amazonaws.com/, with a
    // region segment only when Identity Center is enabled outside us-east-1
    // (https://docs.aws.amazon.com/singlesignon/latest/userguide/referencingpermissionsets.html).
    // A pattern that demands the segment matches nobody in a us-east-1 Identity Center.
    for (const [g, patterns] of Object.entries(aws.groupPrincipals)) {
      for (const p of patterns) {
        if (/sso\.amazonaws\.com\/\*\/AWSReservedSSO_/.test(p)) {
          add(
            `aws.groupPrincipals.${g}`,
            `"${p}" requires a region segment after sso.amazonaws.com/, which IAM Identity Center roles of an instance in us-east-1 do not have: write .../sso.amazonaws.com/*AWSReservedSSO_<PermissionSet>_* to match both forms`,
          );
        }
      }
    }
    // "system:" groups are refused for every cloud by the platform rules (config/validate.ts).
    checkAccessEntryPrincipals(aws, add);
    for (const key of ["groupRoles", "groupPrincipals"] as const) {
      for (const g of Object.keys(aws[key])) {
        if (!groups.has(g) && context?.teams)
          add(`aws.${key}.${g}`, `names a group no team uses (team groups: ${[...groups].join(", ") || "none"})`);
      }
    }
    if (production) {
      // A role that trusts the whole account lets anyone whose own policy allows sts:AssumeRole into the team.
      const open = [...groups].filter((g) => !aws.groupRoles[g] && !aws.groupPrincipals[g]);
      if (open.length > 0) {
        add(
          "aws.groupPrincipals",
          `must name who may act as ${open.map((g) => `"${g}"`).join(", ")} in a production environment: map each group to an existing role in aws.groupRoles (e.g. an IAM Identity Center permission-set role) or list its principals' role ARNs in aws.groupPrincipals`,
        );
      }
      for (const [pool, g] of Object.entries(aws.nodeGroups)) {
        if (g.perZone === false)
          add(
            `aws.nodeGroups.${pool}.perZone`,
            "must not be false in a production environment: workloads spread strictly across zones, and only a node group per zone lets the autoscaler add a node in the zone a Pending pod needs",
          );
      }
    }
    const mirror = aws.registryMirror;
    if (mirror && CREDENTIALED_UPSTREAMS.has(mirror.upstream) && !mirror.credentialArn) {
      add(
        "aws.registryMirror.credentialArn",
        `is required for ${mirror.upstream}: an ECR pull-through cache of that registry needs a Secrets Manager secret named ecr-pullthroughcache/<name>`,
      );
    }
    for (const [key, id] of context?.identities ?? []) {
      if (!IAM_ROLE_ARN.test(id))
        problems.push({
          key,
          message: `must be an IAM role ARN (arn:aws:iam::<account>:role/<name>) on an EKS cluster, got "${id}"`,
        });
    }
  }

  if (cluster.cloud === "gcp" && cluster.gcp) {
    const gcp = cluster.gcp;
    if (!gcp.project) add("gcp.project", 'is required when cloud is "gcp" (a Google Cloud project id)');
    if (!gcp.region) add("gcp.region", 'is required when cloud is "gcp" (a region such as europe-west1)');
    const foreign = gcp.region ? gcp.zones.filter((z) => !z.startsWith(`${gcp.region}-`)) : [];
    if (foreign.length) add("gcp.zones", `must all be in region ${gcp.region}, got ${foreign.join(", ")}`);
    if (new Set(gcp.zones).size !== gcp.zones.length)
      add("gcp.zones", `must not repeat a zone, got ${gcp.zones.join(", ")}`);
    if (production) {
      if (!gcp.regional)
        add(
          "gcp.regional",
          "must be true in a production environment (blueprint:production is true): a zonal control plane is down during upgrades and zone outages",
        );
      if (gcp.zones.length < clusterZoneMinimum.production) {
        add(
          "gcp.zones",
          `must list at least ${clusterZoneMinimum.production} zones in a production environment (blueprint:production is true), got ${gcp.zones.length}`,
        );
      }
    } else if (gcp.regional && gcp.zones.length < clusterZoneMinimum.default) {
      add(
        "gcp.zones",
        `must list at least ${clusterZoneMinimum.default} zones for a regional cluster (or set regional: false for a zonal one), got ${gcp.zones.length}`,
      );
    }
    checkPools(gcp.nodePools, "gcp.nodePools", add);
    const ranges = [
      ["gcp.subnetCidr", gcp.subnetCidr],
      ["gcp.podsCidr", gcp.podsCidr],
      ["gcp.servicesCidr", gcp.servicesCidr],
    ] as const;
    for (let i = 0; i < ranges.length; i++) {
      for (let j = i + 1; j < ranges.length; j++) {
        const a = parseCidr(ranges[i][1]);
        const b = parseCidr(ranges[j][1]);
        if (a && b && overlaps(a, b))
          add(
            ranges[j][0],
            `overlaps ${ranges[i][0]} (${ranges[i][1]}); node, pod and Service ranges must be disjoint, got ${ranges[j][1]}`,
          );
      }
    }
    const pods = parseCidr(gcp.podsCidr);
    if (pods && pods.prefix > 21)
      add("gcp.podsCidr", `must be /21 or larger (each node takes a /24 of pod addresses), got ${gcp.podsCidr}`);
    checkPublicAccess(gcp.publicAccessCidrs, "gcp.publicAccessCidrs", production, add);
    if (groups.size > 0) {
      if (!gcp.rbacSecurityGroup) {
        add(
          "gcp.rbacSecurityGroup",
          `is required when teams name groups (${[...groups].join(", ")}): GKE resolves Google Groups for RBAC only through the gke-security-groups@<domain> group`,
        );
      }
      for (const [key, g] of groupKeys(context)) {
        if (!EMAIL.test(g))
          problems.push({
            key,
            message: `"${g}" must be a Google Group email address on a GKE cluster (Google Groups for RBAC), e.g. ${g}@example.com`,
          });
      }
    }
    for (const [key, id] of context?.identities ?? []) {
      if (!GOOGLE_SA_EMAIL.test(id))
        problems.push({
          key,
          message: `must be a Google service account email (<name>@<project>.iam.gserviceaccount.com) on a GKE cluster, got "${id}"`,
        });
    }
  }
  return problems;
}

/**
 * EKS keeps one access entry per IAM principal: creating a second for the same ARN fails with
 * ResourceInUseException ("Create access entries", Amazon EKS User Guide,
 * https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html; CreateAccessEntry,
 * https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateAccessEntry.html). The cluster makes
 * one for each admin role and each `groupRoles` role (the cluster creator is granted through
 * `bootstrapClusterCreatorAdminPermissions`, an entry of its own), so one ARN in two of these
 * places is refused here rather than half-way through `pulumi up`. IAM compares role ARNs without
 * case for the role name, so the comparison does too.
 */
function checkAccessEntryPrincipals(aws: NonNullable<ClusterConfig["aws"]>, add: (k: string, m: string) => void): void {
  const seen = new Map<string, string>();
  const claim = (arn: string, key: string) => {
    const norm = arn.toLowerCase();
    const first = seen.get(norm);
    if (first === undefined) seen.set(norm, key);
    else
      add(
        key,
        `names ${arn}, which already has an access entry as ${first}: EKS allows one access entry per principal (a second fails with ResourceInUseException); keep it in one place`,
      );
  };
  aws.adminRoleArns.forEach((arn) => claim(arn, "aws.adminRoleArns"));
  // Groups mapped to one role share its single entry (the entry lists every group), so a role is claimed once.
  const roles = new Map<string, string>();
  for (const [g, arn] of Object.entries(aws.groupRoles))
    if (!roles.has(arn.toLowerCase())) roles.set(arn.toLowerCase(), g);
  for (const [arnLower, g] of roles) claim(aws.groupRoles[g] ?? arnLower, `aws.groupRoles.${g}`);
}

const CLOUD_NAMES = { aws: "EKS", gcp: "GKE", existing: "upstream Kubernetes" } as const;

/**
 * The version must exist on the cloud, and be in standard support on the day of evaluation unless
 * extended support is chosen explicitly (it costs extra: six times the EKS control-plane fee).
 */
function checkVersion(cluster: ClusterConfig, now: Date, add: (k: string, m: string) => void): void {
  const cloud = cluster.cloud;
  const version = cluster.kubernetesVersion;
  const where = CLOUD_NAMES[cloud];
  const newest = newestStandardMinor(cloud, now);
  const use = newest ? `; use "${newest}"` : "";
  const entry = kubernetesVersionTable[cloud][version];
  const status = supportStatus(cloud, version, now);
  const extended = cluster.extendedSupport;
  if (cluster.gcp?.releaseChannel === "EXTENDED" && !extended) {
    add(
      "gcp.releaseChannel",
      "EXTENDED costs extra after the end of standard support: set blueprint:cluster.extendedSupport: true to choose it explicitly, or use REGULAR or STABLE",
    );
  }
  if (cloud === "gcp" && extended && cluster.gcp && cluster.gcp.releaseChannel !== "EXTENDED") {
    add(
      "gcp.releaseChannel",
      `must be EXTENDED when extendedSupport is true (GKE offers extended support only in the Extended channel), got ${cluster.gcp.releaseChannel}`,
    );
  }
  if (cloud === "gcp" && cluster.gcp) {
    // A GKE cluster runs what its release channel offers: a minor the channel does not offer cannot be created.
    const channel = cluster.gcp.releaseChannel;
    // Past standard support, the messages below say more (extended support is its own choice).
    if (!gkeChannelOffers(channel, version, now) && status !== "extended" && status !== "ended") {
      const offered = gkeChannelMinors(channel, now);
      add(
        "kubernetesVersion",
        `"${version}" is not offered in the GKE ${channel} release channel on ${utcDay(now)} (it offers ${offered.join(", ") || "none"}; see the GKE release schedule or \`gcloud container get-server-config\`): choose one of those, or another channel in blueprint:cluster.gcp.releaseChannel`,
      );
      return;
    }
    // Rapid offers minors before they reach Regular, where the support dates start.
    if (status === "unknown" || status === "unreleased") return;
  }
  switch (status) {
    case "unknown":
      add(
        "kubernetesVersion",
        `"${version}" does not exist on ${where} (offered on ${now.toISOString().slice(0, 10)}: ${offeredMinors(cloud, now).join(", ") || "none"})`,
      );
      return;
    case "unreleased":
      add("kubernetesVersion", `"${version}" is not available on ${where} before ${entry.released}${use}`);
      return;
    case "ended":
      // An existing cluster's distribution may support a minor longer than upstream does; that is its owner's call.
      if (cloud === "existing" && extended) return;
      add(
        "kubernetesVersion",
        `"${version}" is past its end of ${entry.extendedEnd ? "extended" : "standard"} support on ${where} (${entry.extendedEnd ?? entry.standardEnd})${use}`,
      );
      return;
    case "extended":
      if (!extended) {
        add(
          "kubernetesVersion",
          `"${version}" is past its end of standard support on ${where} (${entry.standardEnd}${entry.estimated ? ", estimated" : ""}): upgrade${newest ? ` to "${newest}"` : ""}, or set blueprint:cluster.extendedSupport: true to pay for extended support until ${entry.extendedEnd}`,
        );
      }
      return;
    case "standard":
      return;
  }
}

/** Link-local addresses: the node's instance metadata (and credentials) on every cloud. */
const LINK_LOCAL = parseCidr("169.254.0.0/16")!;

/** Egress an app asks for must not reach the node's metadata server (and its credentials). */
export function egressProblems(
  apps: Readonly<Record<string, { readonly egress?: readonly { readonly cidrs: readonly string[] }[] }>>,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [app, spec] of Object.entries(apps)) {
    (spec.egress ?? []).forEach((rule, i) => {
      for (const cidr of rule.cidrs) {
        const parsed = parseCidr(cidr);
        // A wider block (such as 0.0.0.0/0) is allowed: the NetworkPolicy carves link-local out of it.
        if (parsed && parsed.prefix >= LINK_LOCAL.prefix && overlaps(parsed, LINK_LOCAL)) {
          problems.push({
            key: `blueprint:apps.${app}.egress.${i}.cidrs`,
            message: `must not be link-local (169.254.0.0/16: the node's metadata server and credentials), got ${cidr}; use an identity for cloud credentials`,
          });
        }
      }
    });
  }
  return problems;
}

function checkPools(
  pools: Readonly<Record<string, { minSize: number; maxSize: number }>>,
  key: string,
  add: (k: string, m: string) => void,
): void {
  const names = Object.keys(pools);
  if (names.length === 0) add(key, "must define at least one node pool");
  for (const [name, pool] of Object.entries(pools)) {
    if (!/^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$/.test(name))
      add(`${key}.${name}`, "node pool name must be a lowercase DNS label of at most 32 characters");
    if (pool.minSize > pool.maxSize)
      add(`${key}.${name}.minSize`, `must not exceed maxSize (${pool.maxSize}), got ${pool.minSize}`);
  }
}

function checkPublicAccess(
  cidrs: readonly string[],
  key: string,
  production: boolean,
  add: (k: string, m: string) => void,
): void {
  for (const c of cidrs) {
    const parsed = parseCidr(c);
    if (parsed && parsed.prefix === 0 && production) {
      add(
        key,
        `must not contain ${c} in a production environment: it opens the Kubernetes API to the whole internet; list your office or VPN ranges`,
      );
    }
  }
}

function teamGroups(context: ClusterRuleContext | undefined): Set<string> {
  return new Set(groupKeys(context).map(([, g]) => g));
}

/** Every team group with the config key it was given at. */
function groupKeys(context: ClusterRuleContext | undefined): [string, string][] {
  const out: [string, string][] = [];
  for (const [team, spec] of Object.entries(context?.teams ?? {})) {
    for (const role of ["maintainers", "viewers"] as const) {
      for (const g of spec.groups[role]) out.push([`blueprint:teams.${team}.groups.${role}`, g]);
    }
  }
  return out;
}

/** Address blocks reserved for documentation (RFC 5737): they reach nobody. */
const DOCUMENTATION_RANGES = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"].map((c) => parseCidr(c)!);
/** The example account of the AWS documentation, used in the shipped stacks. */
const EXAMPLE_AWS_ACCOUNT = ":123456789012:";
/** The example project of the shipped GKE stack. */
const EXAMPLE_GCP_PROJECTS = new Set(["acme-blueprint-prod"]);
/** Domains reserved for examples (RFC 2606). */
const EXAMPLE_DOMAIN = /(^|\.)example\.(com|org|net)$/i;

/**
 * Values in the shipped stacks that only stand in for the user's own (documentation networks,
 * the example AWS account and GCP project, example.com hosts and groups). The offline render
 * accepts them; a real `pulumi up` refuses them, naming what to replace.
 */
export function placeholderProblems(cluster: ClusterConfig, context?: ClusterRuleContext): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (key: string, message: string) => problems.push({ key, message });
  const cidrs = cluster.aws?.publicAccessCidrs ?? cluster.gcp?.publicAccessCidrs ?? [];
  const section = cluster.aws ? "aws" : "gcp";
  for (const c of cidrs) {
    const parsed = parseCidr(c);
    if (parsed && DOCUMENTATION_RANGES.some((d) => overlaps(d, parsed))) {
      add(
        `blueprint:cluster.${section}.publicAccessCidrs`,
        `holds the documentation range ${c}, which reaches nobody: replace it with your office or VPN range, or [] for a private endpoint only`,
      );
    }
  }
  const arns: [string, string][] = [];
  for (const [g, arn] of Object.entries(cluster.aws?.groupRoles ?? {}))
    arns.push([`blueprint:cluster.aws.groupRoles.${g}`, arn]);
  for (const [g, list] of Object.entries(cluster.aws?.groupPrincipals ?? {}))
    for (const arn of list) arns.push([`blueprint:cluster.aws.groupPrincipals.${g}`, arn]);
  (cluster.aws?.adminRoleArns ?? []).forEach((arn) => arns.push(["blueprint:cluster.aws.adminRoleArns", arn]));
  for (const [key, arn] of arns) {
    if (arn.includes(EXAMPLE_AWS_ACCOUNT))
      add(key, `names the example AWS account 123456789012 (${arn}): replace it with a role of your account`);
  }
  if (cluster.gcp?.project && EXAMPLE_GCP_PROJECTS.has(cluster.gcp.project)) {
    add(
      "blueprint:cluster.gcp.project",
      `is the example project "${cluster.gcp.project}": replace it with your project id`,
    );
  }
  if (cluster.gcp?.rbacSecurityGroup && EXAMPLE_DOMAIN.test(cluster.gcp.rbacSecurityGroup.split("@")[1] ?? "")) {
    add(
      "blueprint:cluster.gcp.rbacSecurityGroup",
      `is an example address (${cluster.gcp.rbacSecurityGroup}): replace it with gke-security-groups@<your domain>`,
    );
  }
  for (const [key, g] of groupKeys(context)) {
    if (EXAMPLE_DOMAIN.test(g.split("@")[1] ?? ""))
      add(key, `"${g}" is an example group: replace it with your team's group`);
  }
  for (const [key, host] of context?.hosts ?? []) {
    if (EXAMPLE_DOMAIN.test(host)) add(key, `"${host}" is an example host: replace it with your apps' DNS name`);
  }
  return problems;
}
