import { isCelError, run, type CelInput } from "@bufbuild/cel";
import type { K8sObject } from "./program";

/** What a ValidatingAdmissionPolicy's spec holds that the tests evaluate. */
export interface AdmissionSpec {
  readonly variables?: readonly { readonly name: string; readonly expression: string }[];
  readonly validations: readonly { readonly expression: string; readonly message?: string }[];
}

/**
 * JSON as the API server hands it to CEL: objects become maps and whole numbers become CEL ints
 * (Kubernetes integer fields are int64, so `runAsUser == 0` compares ints).
 */
export function toCel(v: unknown): CelInput {
  if (Array.isArray(v)) return v.map(toCel);
  if (v !== null && typeof v === "object") return new Map(Object.entries(v).map(([k, x]) => [k, toCel(x)]));
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  return v as CelInput;
}

/**
 * Evaluates a policy against one admission `object` as the API server does: the variables in
 * order (each may use the ones before), then every validation. Returns the messages of the
 * validations that did not evaluate to `true` (an evaluation error refuses too, as with
 * `failurePolicy: Fail`).
 */
export function admissionFailures(spec: AdmissionSpec, object: unknown): string[] {
  const variables = new Map<string, CelInput>();
  const bindings = () => ({ object: toCel(object), variables });
  for (const v of spec.variables ?? []) {
    const value = run(v.expression, bindings());
    if (isCelError(value)) return [`variable ${v.name}: ${value.message}`];
    variables.set(v.name, value as CelInput);
  }
  return spec.validations.flatMap((val) => {
    const result = run(val.expression, bindings());
    return result === true ? [] : [isCelError(result) ? `${val.message ?? val.expression} (error: ${result.message})` : val.message ?? val.expression];
  });
}

/** A pod as the ReplicaSet or Job controller would create it from a workload's template. */
export function podFromTemplate(workload: K8sObject): K8sObject {
  const spec = workload.spec as { template?: { metadata?: Record<string, unknown>; spec: unknown }; jobTemplate?: { spec: { template: { metadata?: Record<string, unknown>; spec: unknown } } } };
  const template = spec.template ?? spec.jobTemplate!.spec.template;
  return { apiVersion: "v1", kind: "Pod", metadata: { name: `${workload.metadata.name}-pod`, namespace: workload.metadata.namespace, ...(template.metadata ?? {}) }, spec: template.spec };
}
