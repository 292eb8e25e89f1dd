import { secretPlaceholder, type StackConfig } from "../../lib/project";

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
  const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
  const apps = parse("apps");
  const given = parse("secrets") ?? {};
  // Malformed secrets are left for validation to report; names are looked up as own keys only.
  if (!isMap(given)) return filled;
  const secrets = given;
  let changed = false;
  if (isMap(apps)) {
    for (const [app, spec] of Object.entries(apps)) {
      if (!isMap(spec) || !Array.isArray(spec.secrets)) continue;
      const own = Object.hasOwn(secrets, app) ? secrets[app] : undefined;
      if (own !== undefined && !isMap(own)) continue;
      for (const name of spec.secrets) {
        if (typeof name !== "string" || (own && Object.hasOwn(own, name))) continue;
        const key = `${namespace}:secrets.${app}.${name}`;
        if (!Object.hasOwn(secrets, app))
          Object.defineProperty(secrets, app, { value: {}, enumerable: true, writable: true, configurable: true });
        Object.defineProperty(secrets[app] as object, name, {
          value: secretPlaceholder(key),
          enumerable: true,
          writable: true,
          configurable: true,
        });
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
  if (
    cluster?.cloud === "existing" &&
    cluster.existing &&
    !cluster.existing.context &&
    stack.config[`${namespace}:kubeconfig`] === undefined
  ) {
    const key = `${namespace}:kubeconfig`;
    stack.config[key] = secretPlaceholder(key);
    stack.secretKeys.push(key);
    filled.push(key);
  }
  return filled;
}
