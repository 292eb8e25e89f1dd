import { PolicyPack } from "@pulumi/policy";
import { crossGuardPolicies } from "./crossguard";

// `pulumi up --policy-pack policy --policy-pack-config policy/config/<stack>.json`. Mandatory
// unless the config says otherwise, so running the pack without its config fails closed.
new PolicyPack("blueprint", {
  description:
    "Kubernetes guardrails of the blueprint: pinned images from allowed registries, Pod Security restricted, resources, no host access, production availability and data protection.",
  enforcementLevel: "mandatory",
  policies: crossGuardPolicies(),
});
