import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { isPinned, parsePinnedImage } from "../lib/images";
import { recommendedLabels, type AppIdentity } from "../lib/labels";
import { adminJobDefaults } from "../lib/defaults";

export { adminJobDefaults };
import {
  containerResources,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
  tmpVolume,
  type Quantities,
} from "./pod-security";
import { secretFileVolumes, type SecretFile } from "./workload";

/** A one-off admin process (12-factor XII), such as a database migration. */
export interface AdminJobArgs {
  /** Labels of the app the job belongs to; the component becomes `<component>-admin`. */
  readonly identity: AppIdentity;
  readonly namespace: pulumi.Input<string>;
  /** The release's image, `repo@sha256:<64 hex>`: the same digest the app runs. */
  readonly image: string;
  readonly command: readonly string[];
  readonly args?: readonly string[];
  readonly resources: { readonly requests: Quantities; readonly limits: Quantities };
  readonly envFrom?: pulumi.Input<pulumi.Input<k8s.types.input.core.v1.EnvFromSource>[]>;
  /** Variables from elsewhere, e.g. the app's backing-service bindings: a migration sees what the app sees. */
  readonly env?: readonly k8s.types.input.core.v1.EnvVar[];
  /** Labels on the job's pods only, e.g. the binding labels a backing service's NetworkPolicy admits. */
  readonly podLabels?: Readonly<Record<string, string>>;
  /** Single keys of Secrets mounted read-only as files (a backing service's CA certificate). */
  readonly secretFiles?: readonly SecretFile[];
  readonly priorityClassName: pulumi.Input<string>;
  /** Retries before the job counts as failed. @default 2 */
  readonly backoffLimit?: number;
  /** Hard time limit of the whole job. @default 600 */
  readonly activeDeadlineSeconds?: number;
  readonly runAsUser?: number;
  readonly tmpSize?: string;
  /** Annotations for the job's ServiceAccount (cloud workload identity). */
  readonly serviceAccountAnnotations?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** How long Pulumi waits for the Job. @default the deadline plus two minutes */
  readonly customTimeouts?: pulumi.CustomTimeouts;
}

/**
 * A Job that runs once per release with the release's image, under the same restrictions as the
 * app. It is auto-named from its content, so a new image or command gives a new Job; a Deployment
 * that depends on it rolls only after the Job completed.
 */
export class AdminJob extends pulumi.ComponentResource {
  public readonly jobName: pulumi.Output<string>;

  constructor(name: string, args: AdminJobArgs, opts?: pulumi.ComponentResourceOptions) {
    const pinned = parsePinnedImage(args.image);
    if (!isPinned(pinned)) throw new Error(`AdminJob ${name}: image ${pinned.error}`);
    if (args.command.length === 0) throw new Error(`AdminJob ${name}: command must not be empty`);
    super("blueprint:k8s:AdminJob", name, {}, opts);
    const d = adminJobDefaults;
    const deadline = args.activeDeadlineSeconds ?? d.activeDeadlineSeconds;
    // Its own instance label keeps the Job's pods out of the app's Deployment, Service and PDB selectors.
    const saName = `${args.identity.instance}-admin`;
    const labels = recommendedLabels({
      ...args.identity,
      instance: saName,
      component: `${args.identity.component}-admin`,
    });
    const tmp = tmpVolume(args.tmpSize ?? d.tmpSize);
    const files = secretFileVolumes(args.secretFiles ?? []);

    const sa = new k8s.core.v1.ServiceAccount(
      `${name}-admin`,
      {
        metadata: { name: saName, namespace: args.namespace, labels, annotations: args.serviceAccountAnnotations },
        automountServiceAccountToken: false,
      },
      { parent: this },
    );

    const job = new k8s.batch.v1.Job(
      `${name}-admin`,
      {
        metadata: { namespace: args.namespace, labels },
        spec: {
          backoffLimit: args.backoffLimit ?? d.backoffLimit,
          activeDeadlineSeconds: deadline,
          template: {
            metadata: {
              labels: { ...args.podLabels, ...labels },
              annotations: { "blueprint.dev/stack": pulumi.getStack() },
            },
            spec: {
              restartPolicy: "Never",
              serviceAccountName: sa.metadata.name,
              automountServiceAccountToken: false,
              enableServiceLinks: false,
              priorityClassName: args.priorityClassName,
              securityContext: restrictedPodSecurityContext(args.runAsUser ?? d.runAsUser),
              containers: [
                {
                  name: "admin",
                  image: args.image,
                  imagePullPolicy: "IfNotPresent",
                  command: [...args.command],
                  args: args.args ? [...args.args] : undefined,
                  envFrom: args.envFrom,
                  env: args.env ? [...args.env] : undefined,
                  resources: containerResources(args.resources),
                  securityContext: restrictedContainerSecurityContext(),
                  volumeMounts: [tmp.mount, ...files.mounts],
                },
              ],
              volumes: [tmp.volume, ...files.volumes],
            },
          },
        },
      },
      {
        parent: this,
        customTimeouts: args.customTimeouts ?? {
          create: `${deadline + d.awaitMarginSeconds}s`,
          update: `${deadline + d.awaitMarginSeconds}s`,
        },
      },
    );
    this.jobName = job.metadata.name;
    this.registerOutputs({ jobName: this.jobName });
  }
}
