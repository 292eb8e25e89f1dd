import type { ConfigProblem } from "./errors";
import type { ClusterConfig } from "./cluster";

/** Cross-field rules of `blueprint:cluster`. */
export function validateCluster(cluster: ClusterConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (cluster.cloud === "existing" && !cluster.existing) {
    problems.push({ key: "blueprint:cluster.existing", message: 'is required when cloud is "existing" (give a context, or {} to use the secret blueprint:kubeconfig)' });
  }
  if (cluster.cloud !== "existing") {
    problems.push({ key: "blueprint:cluster.cloud", message: `"${cluster.cloud}" clusters are not available in this version; allowed: existing` });
  }
  return problems;
}
