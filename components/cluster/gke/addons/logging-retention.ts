import * as gcp from "@pulumi/gcp";
import type { AddOn } from "../../addon";
import { gcpOpts, type GkeAddOnContext } from "../context";

/**
 * Retention of the project's `_Default` Cloud Logging bucket, where GKE's system and workload
 * logs land: set from the environment's `blueprint:observability.retention.logsDays` instead of
 * the bucket's 30 days. `_Default` cannot be created or deleted, only configured
 * (https://cloud.google.com/logging/docs/routing/overview#buckets); removing it from the stack
 * leaves the retention as it was. Retention beyond 30 days is billed per GiB-month.
 */
export const loggingRetention: AddOn<GkeAddOnContext> = {
  name: "logging-retention",
  deploy(ctx, parent) {
    const days = ctx.args.logsRetentionDays;
    if (days === undefined) return {};
    new gcp.logging.ProjectBucketConfig(
      `${ctx.name}-logs-default`,
      {
        project: ctx.args.gcp.project,
        location: "global",
        bucketId: "_Default",
        retentionDays: days,
      },
      gcpOpts(ctx, parent),
    );
    return {};
  },
};
