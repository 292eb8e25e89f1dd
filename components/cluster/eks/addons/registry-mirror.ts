import * as aws from "@pulumi/aws";
import type { AddOn } from "../../addon";
import { mirrorName } from "../../registry";
import { awsOpts, type EksAddOnContext } from "../context";

/**
 * An ECR pull-through cache of `aws.registryMirror.upstream`, when configured: nodes pull mirrored
 * images by the same digest from ECR, and may create the cache's repositories on first pull (only
 * under its prefix). With `scanning: ENHANCED`, Amazon Inspector scans every image the cache pulls.
 * Nodes wait for their pull permission.
 */
export const registryMirror: AddOn<EksAddOnContext> = {
  name: "registry-mirror",
  deploy(ctx, parent) {
    const mirror = ctx.args.aws.registryMirror;
    if (!mirror) return {};
    const o = awsOpts(ctx, parent);
    const { partition, accountId, dnsSuffix } = ctx.facts;
    const region = ctx.args.aws.region;
    const prefix = mirror.prefix ?? mirrorName(mirror.upstream);
    new aws.ecr.PullThroughCacheRule(
      `${ctx.name}-mirror`,
      {
        ecrRepositoryPrefix: prefix,
        upstreamRegistryUrl: mirror.upstream,
        credentialArn: mirror.credentialArn,
      },
      o,
    );
    // The first pull of an image through the cache creates its repository: nodes may do that, only under the prefix.
    const nodePull = new aws.iam.RolePolicy(
      `${ctx.name}-node-mirror`,
      {
        role: ctx.nodeRole.id,
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
              Resource: `arn:${partition}:ecr:${region}:${accountId}:repository/${prefix}/*`,
            },
          ],
        }),
      },
      o,
    );
    // Every image the cache pulls is scanned by Amazon Inspector, continuously, as new CVEs are
    // published (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning-enhanced-enabling.html).
    // The cache creates its repositories on first pull, so the filter is on the prefix, at registry
    // level. This is the registry's one scanning configuration per account and region; turning it
    // on creates Inspector's service-linked role, which the deploying principal must be allowed to
    // (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning-enhanced-iam.html).
    if (mirror.scanning === "ENHANCED") {
      new aws.ecr.RegistryScanningConfiguration(
        `${ctx.name}-mirror-scanning`,
        {
          scanType: "ENHANCED",
          rules: [
            {
              scanFrequency: "CONTINUOUS_SCAN",
              repositoryFilters: [{ filter: `${prefix}/*`, filterType: "WILDCARD" }],
            },
          ],
        },
        o,
      );
    }
    return {
      nodesWaitFor: [nodePull],
      mirror: { upstream: mirror.upstream, registry: `${accountId}.dkr.ecr.${region}.${dnsSuffix}/${prefix}` },
    };
  },
};
