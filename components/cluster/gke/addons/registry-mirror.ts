import * as gcp from "@pulumi/gcp";
import type { AddOn } from "../../addon";
import { mirrorName } from "../../registry";
import { gcpOpts, type GkeAddOnContext } from "../context";

/**
 * An Artifact Registry remote repository caching `gcp.registryMirror.upstream`, when configured:
 * nodes pull mirrored images by the same digest from it, with read access to it alone. The
 * cluster, whose first nodes pull too, waits for that grant.
 */
export const registryMirror: AddOn<GkeAddOnContext> = {
  name: "registry-mirror",
  deploy(ctx, parent) {
    const mirror = ctx.args.gcp.registryMirror;
    if (!mirror) return {};
    const o = gcpOpts(ctx, parent);
    const { project, region } = ctx.args.gcp;
    const repositoryId = mirror.repository ?? mirrorName(mirror.upstream);
    // Artifact Analysis scans images as they enter Artifact Registry (a remote repository's too)
    // and keeps the findings current as CVEs are published
    // (https://cloud.google.com/artifact-analysis/docs/container-scanning-overview,
    // https://cloud.google.com/artifact-analysis/docs/automated-scanning-howto). Enabled before the
    // repository, so no image enters unscanned; left on when the stack goes, as other repositories
    // of the project may rely on it.
    const scanningApi = mirror.scanning
      ? [
          new gcp.projects.Service(
            `${ctx.name}-container-scanning`,
            { project, service: "containerscanning.googleapis.com", disableOnDestroy: false },
            o,
          ),
        ]
      : [];
    const repo = new gcp.artifactregistry.Repository(
      `${ctx.name}-mirror`,
      {
        location: region,
        repositoryId,
        format: "DOCKER",
        mode: "REMOTE_REPOSITORY",
        description: `Pull-through cache of ${mirror.upstream} for ${ctx.args.name}`,
        remoteRepositoryConfig: { dockerRepository: { customRepository: { uri: `https://${mirror.upstream}` } } },
        vulnerabilityScanningConfig: { enablementConfig: mirror.scanning ? "INHERITED" : "DISABLED" },
      },
      { ...o, dependsOn: scanningApi },
    );
    const nodesRead = new gcp.artifactregistry.RepositoryIamMember(
      `${ctx.name}-mirror-nodes`,
      {
        location: region,
        repository: repo.name,
        role: "roles/artifactregistry.reader",
        member: ctx.nodeMember,
      },
      o,
    );
    return {
      nodesWaitFor: [nodesRead],
      mirror: { upstream: mirror.upstream, registry: `${region}-docker.pkg.dev/${project}/${repositoryId}` },
    };
  },
};
