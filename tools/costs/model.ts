import type { PlatformConfig } from "../../config/load";
import { awsDataDefaults, gcpDataDefaults } from "../../components/services/defaults";
import { memorystoreGenerations, parseGiB } from "../../lib/services";
import { priceOf, type PriceSheet } from "./sheet";

/**
 * What one platform stack runs that is billed by the month, read from its parsed config with the
 * same defaults the components apply, and priced from a price sheet. Quantities are exact (instance
 * classes, node counts, GB); usage (backup storage beyond the free allowance, snapshots, I/O, data
 * transfer) is named but not estimated, since no config says how much data there will be.
 */

/** The table's columns, in order. */
export const COLUMNS = ["postgres", "cache", "platform"] as const;
export type Column = (typeof COLUMNS)[number];

/** One billed thing: a price item times a monthly quantity, or a usage-based charge left unestimated. */
export interface Charge {
  readonly column: Column;
  /** What a reader sees, e.g. "shop/db: RDS db.m7g.large Multi-AZ (2 × 730 h)". */
  readonly text: string;
  /** The sheet's item and the quantity per month in its unit; absent for usage-based charges. */
  readonly item?: string;
  readonly quantity?: number;
  /** Paid for as part of something this table does not price (an existing cluster's own nodes and volumes). */
  readonly included?: boolean;
}

/** A charge with its monthly price: a number, "not found" (the sheet's value is null), usage-based, or included elsewhere. */
export interface PricedCharge extends Charge {
  readonly monthly: number | "not found" | "usage" | "included";
  /** Set when the stack's region had no figure and the sheet's reference region for the cloud priced it. */
  readonly referenceRegion?: string;
}

/** The region the environment's managed data lives in, or undefined for an existing cluster. */
function regionOf(env: PlatformConfig): string | undefined {
  if (env.cluster.cloud === "aws") return env.cluster.aws?.region;
  if (env.cluster.cloud === "gcp") return env.cluster.gcp?.region;
  return undefined;
}

/** `db-custom-2-7680` -> 2 vCPUs and 7.5 GB; shared-core tiers have no split. */
function cloudSqlShape(tier: string): { vcpus: number; memoryGb: number } | undefined {
  const m = /^db-custom-(\d+)-(\d+)$/.exec(tier);
  return m ? { vcpus: Number(m[1]), memoryGb: Number(m[2]) / 1024 } : undefined;
}

/**
 * Memorystore for Redis prices each GB by the instance's capacity tier, M1 (smallest) to M5
 * (https://cloud.google.com/memorystore/docs/redis/pricing). The bounds used here (M1 1-4 GB, M2
 * 5-10, M3 11-35, M4 36-100, M5 over 100) could not be read from a stored copy of that page; they
 * only choose which sheet entry prices a size, so a wrong bound shows as a missing entry.
 */
export function memorystoreCapacityTier(gb: number): string {
  if (gb <= 4) return "M1";
  if (gb <= 10) return "M2";
  if (gb <= 35) return "M3";
  if (gb <= 100) return "M4";
  return "M5";
}

/** Every monthly charge of one platform stack's services and shared data resources. */
export function charges(env: PlatformConfig, hoursPerMonth: number): Charge[] {
  const out: Charge[] = [];
  const h = hoursPerMonth;
  const prod = env.production;
  const cloud = env.cluster.cloud;
  for (const [team, t] of Object.entries(env.teams)) {
    for (const [name, svc] of Object.entries(t.services ?? {})) {
      const who = `${team}/${name}`;
      const column: Column = svc.type === "postgres" ? "postgres" : "cache";
      const ha = svc.highAvailability ?? prod;
      if (svc.flavour === "external") continue;
      if (svc.flavour === "in-cluster") {
        const gib = parseGiB(svc.storage) ?? (svc.type === "valkey" ? 1 : 5);
        if (cloud === "aws")
          out.push({
            column,
            text: `${who}: in the cluster, ${gib} GiB gp3 volume`,
            item: "aws.ebs.gp3",
            quantity: gib,
          });
        else if (cloud === "gcp")
          out.push({
            column,
            text: `${who}: in the cluster, ${gib} GiB volume`,
            item: "gcp.pd.balanced",
            quantity: gib,
          });
        else out.push({ column, text: `${who}: in the cluster, on its own nodes and volumes`, included: true });
        continue;
      }
      if (cloud === "aws" && svc.type === "postgres") {
        const d = awsDataDefaults;
        if ((svc.engine ?? "rds") === "aurora") {
          const cls = svc.instanceClass ?? (prod ? d.auroraInstanceClass.production : d.auroraInstanceClass.other);
          const n = ha ? 2 : 1;
          out.push({
            column,
            text: `${who}: Aurora ${cls} × ${n}`,
            item: `aws.aurora.postgres.instance:${cls}`,
            quantity: n * h,
          });
          out.push({ column, text: `${who}: Aurora storage and I/O` });
        } else {
          const cls = svc.instanceClass ?? (prod ? d.instanceClass.production : d.instanceClass.other);
          // Multi-AZ bills the standby's instance hours and storage too
          // (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_OnDemandDBInstances.html).
          const copies = ha ? 2 : 1;
          const gib = parseGiB(svc.storage) ?? d.allocatedStorageGiB;
          out.push({
            column,
            text: `${who}: RDS ${cls} ${ha ? "Multi-AZ (2 instances)" : "Single-AZ"}`,
            item: `aws.rds.postgres.instance:${cls}`,
            quantity: copies * h,
          });
          out.push({
            column,
            text: `${who}: ${gib} GiB gp3${ha ? " × 2" : ""}`,
            item: "aws.rds.storage:gp3",
            quantity: copies * gib,
          });
        }
        out.push({ column, text: `${who}: backups beyond the free allowance` });
      } else if (cloud === "aws") {
        const d = awsDataDefaults;
        const type = svc.type === "valkey" ? (svc.nodeType ?? (prod ? d.nodeType.production : d.nodeType.other)) : "";
        const n = ha ? 2 : 1;
        out.push({
          column,
          text: `${who}: ElastiCache ${type} × ${n}`,
          item: `aws.elasticache.valkey.node:${type}`,
          quantity: n * h,
        });
      } else if (cloud === "gcp" && svc.type === "postgres") {
        const d = gcpDataDefaults;
        const tier = svc.tier ?? (prod ? d.tier.production : d.tier.other);
        const where = ha ? "regional" : "zonal";
        const gb = parseGiB(svc.storage) ?? d.diskSizeGb;
        const shape = cloudSqlShape(tier);
        if (shape) {
          out.push({
            column,
            text: `${who}: Cloud SQL ${tier} ${where} (${shape.vcpus} vCPU)`,
            item: `gcp.cloudsql.enterprise.vcpu:${where}`,
            quantity: shape.vcpus * h,
          });
          out.push({
            column,
            text: `${who}: Cloud SQL ${tier} ${where} (${shape.memoryGb} GB memory)`,
            item: `gcp.cloudsql.enterprise.memory:${where}`,
            quantity: shape.memoryGb * h,
          });
        } else {
          out.push({
            column,
            text: `${who}: Cloud SQL ${tier} ${where}`,
            item: `gcp.cloudsql.shared:${tier}-${where}`,
            quantity: h,
          });
        }
        out.push({ column, text: `${who}: ${gb} GB SSD ${where}`, item: `gcp.cloudsql.ssd:${where}`, quantity: gb });
        out.push({ column, text: `${who}: backups beyond the free allowance` });
      } else if (cloud === "gcp" && svc.type === "valkey") {
        const d = gcpDataDefaults;
        const gb = svc.memorySizeGb ?? (prod ? d.memorySizeGb.production : d.memorySizeGb.other);
        const tier = `${ha ? "standard" : "basic"}-${memorystoreCapacityTier(gb)}`;
        // A rotation keeps the previous generation's instance until it is retired (docs/backing-services.md).
        const instances = memorystoreGenerations(svc.rotation, svc.retiredRotation).length;
        out.push({
          column,
          text: `${who}: Memorystore ${ha ? "Standard" : "Basic"} ${gb} GB${instances > 1 ? ` × ${instances} (rotation not yet retired)` : ""}`,
          item: `gcp.memorystore.redis:${tier}`,
          quantity: instances * gb * h,
        });
      }
    }
  }
  const teams = Object.keys(env.teams).length;
  if (cloud === "aws" && teams > 0) {
    out.push({ column: "platform", text: "KMS key", item: "aws.kms.key", quantity: 1 });
    out.push({ column: "platform", text: "AWS Backup snapshots" });
  } else if (cloud === "gcp" && teams > 0) {
    out.push({ column: "platform", text: "Cloud KMS key (one version)", item: "gcp.kms.key-version", quantity: 1 });
    out.push({ column: "platform", text: "Backup for GKE" });
  }
  return out;
}

/**
 * Prices each charge from the sheet, in the environment's region, or in the sheet's reference
 * region for the cloud when the environment's region has no figure (the charge then says which);
 * throws if the sheet has an item in neither.
 */
export function price(env: PlatformConfig, sheet: PriceSheet): PricedCharge[] {
  const region = regionOf(env) ?? "global";
  return charges(env, sheet.hoursPerMonth).map((c) => {
    if (c.included) return { ...c, monthly: "included" as const };
    if (c.item === undefined || c.quantity === undefined) return { ...c, monthly: "usage" as const };
    const { entry, referenceRegion } = priceOf(sheet, c.item, region);
    if (entry.value === null) return { ...c, monthly: "not found" as const };
    return referenceRegion
      ? { ...c, monthly: entry.value * c.quantity, referenceRegion }
      : { ...c, monthly: entry.value * c.quantity };
  });
}

/** The priced charges' sum, how many had no price, and how many were priced at a reference region's figure. */
export function total(priced: readonly PricedCharge[]): {
  readonly usd: number;
  readonly unpriced: number;
  readonly atReference: number;
} {
  let usd = 0;
  let unpriced = 0;
  let atReference = 0;
  for (const c of priced) {
    if (typeof c.monthly === "number") usd += c.monthly;
    else if (c.monthly === "not found") unpriced += 1;
    if (c.referenceRegion !== undefined) atReference += 1;
  }
  return { usd, unpriced, atReference };
}
