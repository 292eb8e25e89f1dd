import * as aws from "@pulumi/aws";
import type { AddOn } from "../../addon";
import { awsOpts, irsaRole, type EksNodesContext } from "../context";
import { eksDefaults } from "../defaults";
import { eksManagedAddon } from "./managed";

/**
 * The add-on's configuration, explicit: container logs on (Fluent Bit ships every container's
 * stdout), Container Insights metrics on, and Application Signals off. Newer add-on versions turn
 * Application Signals on by default and can inject an instrumentation SDK into app pods
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/eks-observability-addon-application-signals.html);
 * nothing is added to an app's pod here.
 */
export function cloudWatchObservabilityConfiguration(): Record<string, unknown> {
  return {
    containerLogs: { enabled: true },
    agent: { config: { logs: { metrics_collected: { kubernetes: { enhanced_container_insights: true } } } } },
    manager: { applicationSignals: { autoMonitor: { monitorAllServices: false } } },
  };
}

/** The names of the add-on's log groups for a cluster. */
export function containerInsightsLogGroups(cluster: string): string[] {
  return eksDefaults.observability.logGroups.map((g) => `/aws/containerinsights/${cluster}/${g}`);
}

/**
 * Amazon CloudWatch Observability: Fluent Bit ships every container's stdout, and Container
 * Insights collects metrics; apps add nothing to their pods. Its log groups are created first,
 * with retention and the cluster's KMS key. Optional for the Kubernetes provider.
 */
export const cloudWatchObservability: AddOn<EksNodesContext> = {
  name: "cloudwatch-observability",
  deploy(ctx, parent) {
    const o = eksDefaults.observability;
    const role = irsaRole(ctx, parent, {
      id: "cloudwatch-observability",
      namespace: o.namespace,
      serviceAccount: o.serviceAccount,
      policies: [o.policy],
    });
    const cfg = ctx.args.aws;
    const retentionInDays =
      ctx.args.containerLogRetentionDays ??
      cfg.logRetentionDays ??
      (ctx.args.production ? eksDefaults.logRetentionDays.production : eksDefaults.logRetentionDays.other);
    const groups = containerInsightsLogGroups(ctx.args.name).map(
      (name, i) =>
        new aws.cloudwatch.LogGroup(
          `${ctx.name}-containerinsights-${o.logGroups[i]}`,
          {
            name,
            retentionInDays,
            kmsKeyId: ctx.secretsKey.arn,
          },
          awsOpts(ctx, parent),
        ),
    );
    eksManagedAddon(
      ctx,
      parent,
      "amazon-cloudwatch-observability",
      {
        serviceAccountRoleArn: role.arn,
        addonVersion: cfg.addonVersions["amazon-cloudwatch-observability"] ?? o.addonVersion,
        configurationValues: JSON.stringify(cloudWatchObservabilityConfiguration()),
      },
      [...ctx.nodeGroups, ...groups],
    );
    return {};
  },
};
