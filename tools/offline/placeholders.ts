import { secretPlaceholder, type StackConfig } from "./project";

/**
 * Adds placeholder values for secrets the stack needs but whose values live only in encrypted
 * config (which needs the Pulumi CLI): each app's declared `secrets`, and the kubeconfig of an
 * existing cluster without a context. Returns the names filled in.
 */
export function fillSecretPlaceholders(stack: StackConfig, namespace: string): string[] {
  const filled: string[] = [];
  const parse = (key: string): unknown => {
    const text = stack.config[`${namespace}:${key}`];
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  };
  const apps = parse("apps");
  const secrets = (parse("secrets") ?? {}) as Record<string, Record<string, string>>;
  let changed = false;
  if (apps && typeof apps === "object") {
    for (const [app, spec] of Object.entries(apps as Record<string, { secrets?: unknown }>)) {
      if (!Array.isArray(spec?.secrets)) continue;
      for (const name of spec.secrets) {
        if (typeof name !== "string" || secrets[app]?.[name] !== undefined) continue;
        const key = `${namespace}:secrets.${app}.${name}`;
        (secrets[app] ??= {})[name] = secretPlaceholder(key);
        filled.push(key);
        changed = true;
      }
    }
  }
  if (changed) {
    stack.config[`${namespace}:secrets`] = JSON.stringify(secrets);
    if (!stack.secretKeys.includes(`${namespace}:secrets`)) stack.secretKeys.push(`${namespace}:secrets`);
  }
  const cluster = parse("cluster") as { cloud?: string; existing?: { context?: string } } | undefined;
  if (cluster?.cloud === "existing" && cluster.existing && !cluster.existing.context && stack.config[`${namespace}:kubeconfig`] === undefined) {
    const key = `${namespace}:kubeconfig`;
    stack.config[key] = secretPlaceholder(key);
    stack.secretKeys.push(key);
    filled.push(key);
  }
  return filled;
}
