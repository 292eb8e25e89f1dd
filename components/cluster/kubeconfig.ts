/** A credential plugin the kubeconfig runs for every connection (no token is stored). */
export interface ExecCredential {
  readonly command: string;
  readonly args: readonly string[];
  /** Printed by kubectl when the command is missing. */
  readonly installHint: string;
  /** Pass the cluster's endpoint and CA to the plugin (the GKE plugin wants them). */
  readonly provideClusterInfo?: boolean;
}

/** The stable facts a kubeconfig is built from: none of them changes while the cluster exists. */
export interface KubeconfigFields {
  readonly name: string;
  /** API server URL, `https://...`. */
  readonly server: string;
  /** Base64 PEM of the cluster CA. */
  readonly certificateAuthorityData: string;
  readonly exec: ExecCredential;
}

/**
 * A kubeconfig with exec authentication. Built only from stable fields, so its text does not
 * change between updates (a changed kubeconfig makes the Kubernetes provider replace every
 * resource), and it holds no token. Serialized as JSON, which is valid YAML, with a fixed key order.
 */
export function execKubeconfig(f: KubeconfigFields): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name: f.name, cluster: { server: f.server, "certificate-authority-data": f.certificateAuthorityData } },
    ],
    contexts: [{ name: f.name, context: { cluster: f.name, user: f.name } }],
    "current-context": f.name,
    users: [
      {
        name: f.name,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: f.exec.command,
            args: [...f.exec.args],
            interactiveMode: "Never",
            provideClusterInfo: f.exec.provideClusterInfo ?? false,
            installHint: f.exec.installHint,
          },
        },
      },
    ],
  });
}

/** `aws eks get-token` for one cluster and region. */
export function awsExec(clusterName: string, region: string): ExecCredential {
  return {
    command: "aws",
    args: ["eks", "get-token", "--cluster-name", clusterName, "--region", region, "--output", "json"],
    installHint:
      "Install the AWS CLI v2 (https://docs.aws.amazon.com/cli/) and sign in (aws sso login or AWS_PROFILE).",
  };
}

/** `gke-gcloud-auth-plugin`, which reads the ambient gcloud credentials. */
export function gkeExec(): ExecCredential {
  return {
    command: "gke-gcloud-auth-plugin",
    args: [],
    installHint:
      "Install it with `gcloud components install gke-gcloud-auth-plugin` and sign in with `gcloud auth login`.",
    provideClusterInfo: true,
  };
}
