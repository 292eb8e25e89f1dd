import { RULES, type Rule, type RuleConfig } from "./rules";

/**
 * The policy pack's config for one environment, in the format of `pulumi up --policy-pack-config`
 * (https://www.pulumi.com/docs/using-pulumi/crossguard/configuration/): per policy, an
 * enforcement level and the policy's own properties. One file per stack, `policy/config/<stack>.json`;
 * `npm run audit -- <stack> --write-pack-config` writes it and `npm run audit` refuses a stale one.
 */

/** Enforcement levels this pack uses (CrossGuard also knows `remediate`). */
export type EnforcementLevel = "advisory" | "mandatory" | "disabled";

/** One policy's entry in a pack config. */
export type PolicySettings = { readonly enforcementLevel: EnforcementLevel } & RuleConfig;

/** A whole pack config: policy name -> settings. */
export type PackConfig = Readonly<Record<string, PolicySettings>>;

/** What the pack must know about an environment. */
export interface PolicyEnvironment {
  /** Production: every policy is mandatory and the production policies apply. */
  readonly production: boolean;
  /** Registry prefixes images may come from (the admission policy's list). */
  readonly allowedRegistries: readonly string[];
  /** Images the platform runs in its own namespaces, allowed as written (pinned by digest). @default [] */
  readonly platformImages?: readonly string[];
  /** Namespaces run by the platform, where LoadBalancer and NodePort Services are allowed. */
  readonly platformNamespaces: readonly string[];
  /** The cluster's Kubernetes minor, which Pod Security is pinned to. */
  readonly podSecurityVersion?: string;
}

/**
 * Enforcement by environment: mandatory in production; advisory elsewhere, so a dev or staging
 * update still shows every violation without blocking; production-only policies disabled outside
 * production. Without any config file the pack is mandatory everywhere (it fails closed).
 */
export function packConfig(env: PolicyEnvironment, rules: readonly Rule[] = RULES): PackConfig {
  const entries = rules.map((rule) => {
    const enforcementLevel: EnforcementLevel = env.production
      ? "mandatory"
      : rule.productionOnly
        ? "disabled"
        : "advisory";
    const props: RuleConfig = {
      ...(rule.configProperties?.allowedRegistries ? { allowedRegistries: [...env.allowedRegistries] } : {}),
      ...(rule.configProperties?.platformImages && env.platformImages?.length
        ? { platformImages: [...env.platformImages] }
        : {}),
      ...(rule.configProperties?.platformNamespaces ? { platformNamespaces: [...env.platformNamespaces] } : {}),
      ...(rule.configProperties?.podSecurityVersion && env.podSecurityVersion
        ? { podSecurityVersion: env.podSecurityVersion }
        : {}),
    };
    return [rule.name, { enforcementLevel, ...props }] as const;
  });
  return Object.fromEntries(entries);
}

/** A pack config as the file holds it: stable formatting, one trailing newline. */
export function formatPackConfig(config: PackConfig): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** A rule's level and properties in a config; a rule the config does not name is mandatory, as the pack's default. */
export function settingsOf(config: PackConfig, rule: Rule): PolicySettings {
  return config[rule.name] ?? { enforcementLevel: "mandatory" };
}
