import type {
  Policies,
  PolicyResource,
  ReportViolation,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import { isStackRule, RULES, type PolicyResourceView, type Rule, type RuleConfig } from "./rules";

/**
 * The rules as CrossGuard policies. Each policy's config (from `--policy-pack-config`) is handed to
 * its rule; the enforcement level comes from the same config, the engine applies it.
 */
export function crossGuardPolicies(rules: readonly Rule[] = RULES): Policies {
  return rules.map((rule) => {
    const base = {
      name: rule.name,
      description: rule.description,
      ...(rule.configProperties ? { configSchema: { properties: { ...rule.configProperties } } } : {}),
    };
    if (isStackRule(rule)) {
      const policy: StackValidationPolicy = {
        ...base,
        validateStack: (args, reportViolation: ReportViolation) => {
          const urns = new Map<PolicyResourceView, string>();
          const views = args.resources.map((r: PolicyResource) => {
            const view = { type: r.type, name: r.name, props: r.props, protect: r.opts.protect };
            urns.set(view, r.urn);
            return view;
          });
          rule.validateStack(views, args.getConfig<RuleConfig>(), (message, resource) =>
            reportViolation(message, resource && urns.get(resource)),
          );
        },
      };
      return policy;
    }
    const policy: ResourceValidationPolicy = {
      ...base,
      validateResource: (args, reportViolation: ReportViolation) => {
        rule.validateResource(
          { type: args.type, name: args.name, props: args.props, protect: args.opts.protect },
          args.getConfig<RuleConfig>(),
          (message) => reportViolation(message),
        );
      },
    };
    return policy;
  });
}
