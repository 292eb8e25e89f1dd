import { celFunc, celMethod, CelScalar, isCelError, run, type CelInput } from "@bufbuild/cel";

type CelEnvOptions = NonNullable<Parameters<typeof run>[2]>;
import type { K8sObject } from "./program";

/** What a ValidatingAdmissionPolicy's spec holds that the tests evaluate. */
export interface AdmissionSpec {
  readonly matchConditions?: readonly { readonly name: string; readonly expression: string }[];
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

/** What an admission request carries besides `object`. */
export interface AdmissionRequest {
  /** @default "CREATE" */
  readonly operation?: "CREATE" | "UPDATE" | "DELETE";
  /** The object before an UPDATE or DELETE. */
  readonly oldObject?: unknown;
  /** `request.namespace`. @default the object's namespace */
  readonly namespace?: string;
  /** `request.userInfo.username`. @default "team-member" */
  readonly username?: string;
  /** What the requester's RBAC allows: the authorizer's answer. @default nothing */
  readonly allowed?: (group: string, resource: string, namespace: string, verb: string) => boolean;
}

/**
 * Evaluates a policy against one admission request as the API server does: the match conditions
 * (a false one skips the policy), then the variables in order (each may use the ones before), then
 * every validation. Returns the messages of the validations that did not evaluate to `true` (an
 * evaluation error refuses too, as with `failurePolicy: Fail`).
 */
export function admissionFailures(spec: AdmissionSpec, object: unknown, request: AdmissionRequest = {}): string[] {
  const variables = new Map<string, CelInput>();
  const namespace =
    request.namespace ??
    ((object ?? request.oldObject) as { metadata?: { namespace?: string } } | null)?.metadata?.namespace ??
    "";
  const req = {
    operation: request.operation ?? "CREATE",
    namespace,
    userInfo: { username: request.username ?? "team-member" },
  };
  const bindings = () => ({
    object: toCel(object ?? null),
    oldObject: toCel(request.oldObject ?? null),
    request: toCel(req),
    variables,
  });
  const env = kubernetesLibraries(request.allowed ?? (() => false));
  const evaluate = (expression: string) => run(rewriteAuthorizer(expression), bindings(), env);
  for (const m of spec.matchConditions ?? []) {
    const matched = evaluate(m.expression);
    if (isCelError(matched)) return [`matchCondition ${m.name}: ${matched.message}`];
    if (matched === false) return [];
  }
  for (const v of spec.variables ?? []) {
    const value = evaluate(v.expression);
    if (isCelError(value)) return [`variable ${v.name}: ${value.message}`];
    variables.set(v.name, value as CelInput);
  }
  return spec.validations.flatMap((val) => {
    const result = evaluate(val.expression);
    return result === true
      ? []
      : [
          isCelError(result)
            ? `${val.message ?? val.expression} (error: ${result.message})`
            : (val.message ?? val.expression),
        ];
  });
}

/**
 * Kubernetes' authorizer library (`authorizer.group(g).resource(r).namespace(n).check(v).allowed()`,
 * k8s.io/apiserver/pkg/cel/library/authz.go) as one function of the test environment: the
 * expression's call chain is rewritten to `authz(g, r, n, v)`.
 */
function rewriteAuthorizer(expression: string): string {
  return expression.replace(
    /authorizer\.group\(('[^']*')\)\.resource\(('[^']*')\)\.namespace\(([^()]*)\)\.check\(('[^']*')\)\.allowed\(\)/g,
    "authz($1, $2, $3, $4)",
  );
}

/** An IP block as a family, a masked address and a prefix length. */
function parseCidr(text: string): { v6: boolean; base: bigint; bits: number } {
  const [addr, len] = text.includes("/") ? text.split("/") : [text, undefined];
  const v6 = addr.includes(":");
  const width = v6 ? 128 : 32;
  let value = 0n;
  if (v6) {
    const [head, tail] = addr.includes("::") ? addr.split("::") : [addr, undefined];
    const h = head ? head.split(":") : [];
    const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
    const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
    if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g)))
      throw new Error(`not an IPv6 address: ${addr}`);
    for (const g of groups) value = (value << 16n) | BigInt(parseInt(g, 16));
  } else {
    const octets = addr.split(".");
    if (octets.length !== 4 || octets.some((o) => !/^\d{1,3}$/.test(o) || Number(o) > 255))
      throw new Error(`not an IPv4 address: ${addr}`);
    for (const o of octets) value = (value << 8n) | BigInt(Number(o));
  }
  const bits = len === undefined ? width : Number(len);
  if (!Number.isInteger(bits) || bits < 0 || bits > width) throw new Error(`not a prefix length: ${text}`);
  const mask = ((1n << BigInt(width)) - 1n) ^ ((1n << BigInt(width - bits)) - 1n);
  return { v6, base: value & mask, bits };
}

function containsCidr(outer: string, inner: string): boolean {
  const a = parseCidr(outer);
  const b = parseCidr(inner);
  if (a.v6 !== b.v6 || a.bits > b.bits) return false;
  return parseCidr(`${inner.split("/")[0]}/${a.bits}`).base === a.base;
}

/**
 * Kubernetes' CIDR and IP libraries (k8s.io/apiserver/pkg/cel/library/cidr.go, ip.go), the parts
 * the policies use: `cidr(s)` and `ip(s)` (values kept as their text here), `containsCIDR` and
 * `containsIP`; a malformed block is an evaluation error, as there.
 */
function kubernetesLibraries(allowed: NonNullable<AdmissionRequest["allowed"]>): CelEnvOptions {
  const S = CelScalar.STRING;
  return {
    funcs: [
      celFunc("cidr", [S], S, (s) => {
        parseCidr(s);
        return s;
      }),
      celFunc("ip", [S], S, (s) => {
        parseCidr(s);
        return s;
      }),
      celMethod("containsCIDR", S, [S], CelScalar.BOOL, function (this: string, inner: string) {
        return containsCidr(this, inner);
      }),
      celMethod("containsIP", S, [S], CelScalar.BOOL, function (this: string, addr: string) {
        return containsCidr(this, addr);
      }),
      celFunc("authz", [S, S, S, S], CelScalar.BOOL, (g, r, n, v) => allowed(g, r, n, v)),
    ],
  };
}

/** A pod as the ReplicaSet or Job controller would create it from a workload's template. */
export function podFromTemplate(workload: K8sObject): K8sObject {
  const spec = workload.spec as {
    template?: { metadata?: Record<string, unknown>; spec: unknown };
    jobTemplate?: { spec: { template: { metadata?: Record<string, unknown>; spec: unknown } } };
  };
  const template = spec.template ?? spec.jobTemplate!.spec.template;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `${workload.metadata.name}-pod`,
      namespace: workload.metadata.namespace,
      ...(template.metadata ?? {}),
    },
    spec: template.spec,
  };
}
