import { createHash } from "node:crypto";
import type * as pulumiType from "@pulumi/pulumi";
import { canonicalJson as stableJson } from "../../lib/json";

/** The SDK's marker for a serialized secret value (`{ [SECRET_SIG]: SECRET_VALUE, value }`). */
export const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";
/** What a secret looks like in rendered output. */
export const REDACTED = "[secret]";

/** One resource the program registered, as the engine saw it. */
export interface RegisteredResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  /** The state the mock returned (inputs plus engine-computed fields such as auto-names). */
  readonly state: Record<string, unknown>;
  /** Provider reference (`urn::id`), empty when the default provider would be used. */
  readonly provider?: string;
  readonly custom: boolean;
}

/** Extra state a cloud mock adds for resources whose outputs a real provider computes. */
export type ComputedState = (
  type: string,
  name: string,
  inputs: Record<string, unknown>,
) => Record<string, unknown> | undefined;
/** Answers function calls (`aws.getAvailabilityZones`, ...). */
export type CallAnswer = (token: string, inputs: Record<string, unknown>) => Record<string, unknown> | undefined;

/** What a stack exports, as a StackReference reads it: its outputs and which of them are secret. */
export interface StackOutputs {
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly secretOutputNames: readonly string[];
}

/**
 * Other stacks' outputs, for the StackReferences a program makes: by `<org>/<project>/<stack>` or
 * by stack name alone. A stack not listed reads as one without outputs (never deployed).
 */
export type StackOutputsByName = Readonly<Record<string, StackOutputs>>;

/** The type token of a StackReference (a read of another stack's outputs, not a resource of any cloud). */
export const STACK_REFERENCE = "pulumi:pulumi:StackReference";

/** Is this a Kubernetes object (not the Kubernetes provider itself)? */
export function isKubernetesObject(type: string): boolean {
  return type.startsWith("kubernetes:") && !type.startsWith("kubernetes:helm.sh");
}

/** Pulumi's auto-name for a Kubernetes object: the logical name and a suffix, here derived from the inputs. */
export function autoName(logicalName: string, inputs: unknown): string {
  const hash = createHash("sha256").update(stableJson(inputs)).digest("hex").slice(0, 8);
  return `${logicalName}-${hash}`;
}

/**
 * A mock engine that behaves like the real one where the program can tell: Kubernetes objects
 * without `metadata.name` get a deterministic auto-name that changes when their content does,
 * cloud resources get their computed outputs, and every registration is recorded.
 */
export class RecordingMocks implements pulumiType.runtime.Mocks {
  public readonly resources: RegisteredResource[] = [];

  constructor(
    private readonly computed: ComputedState = () => undefined,
    private readonly calls: CallAnswer = () => undefined,
    private readonly stacks: StackOutputsByName = {},
  ) {}

  newResource(args: pulumiType.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
    const inputs = (args.inputs ?? {}) as Record<string, unknown>;
    if (args.type === STACK_REFERENCE) {
      // Answered as the engine reads another stack: its outputs and which are secret
      // (StackReference.getOutputDetails returns `secretValue` for those).
      const name = String(inputs.name);
      const found = Object.hasOwn(this.stacks, name)
        ? this.stacks[name]
        : Object.hasOwn(this.stacks, name.split("/").pop()!)
          ? this.stacks[name.split("/").pop()!]
          : undefined;
      const state = {
        name,
        outputs: { ...(found?.outputs ?? {}) },
        secretOutputNames: [...(found?.secretOutputNames ?? [])],
      };
      this.resources.push({
        type: args.type,
        name: args.name,
        inputs,
        state,
        provider: args.provider,
        custom: args.custom ?? true,
      });
      return { id: name, state };
    }
    let state: Record<string, unknown> = { ...inputs };
    let id = `${args.name}-id`;
    if (isKubernetesObject(args.type)) {
      const metadata = { ...((inputs.metadata as Record<string, unknown> | undefined) ?? {}) };
      if (metadata.name === undefined) metadata.name = autoName(args.name, inputs);
      state = { ...inputs, metadata };
      id = metadata.namespace ? `${String(metadata.namespace)}/${String(metadata.name)}` : String(metadata.name);
    } else {
      state = { ...inputs, ...this.computed(args.type, args.name, inputs) };
    }
    this.resources.push({
      type: args.type,
      name: args.name,
      inputs,
      state,
      provider: args.provider,
      custom: args.custom ?? true,
    });
    return { id, state };
  }

  call(args: pulumiType.runtime.MockCallArgs): Record<string, unknown> {
    return this.calls(args.token, (args.inputs ?? {}) as Record<string, unknown>) ?? {};
  }
}

/** JSON with sorted keys, so equal content always hashes the same (one implementation, in lib/). */
export { stableJson };

/** Replaces every SDK secret wrapper with {@link REDACTED}; returns a new value. */
export function redactSecrets(v: unknown): unknown {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(redactSecrets);
  const o = v as Record<string, unknown>;
  if (o[SECRET_SIG] === SECRET_VALUE) return REDACTED;
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, redactSecrets(x)]));
}

/** Replaces every SDK secret wrapper with the value it holds; returns a new value. */
export function revealSecrets(v: unknown): unknown {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(revealSecrets);
  const o = v as Record<string, unknown>;
  if (o[SECRET_SIG] === SECRET_VALUE) return revealSecrets(o.value);
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, revealSecrets(x)]));
}

/** A Kubernetes object ready to write: secrets redacted, Secret data replaced by placeholders. */
export function toManifest(state: Record<string, unknown>): Record<string, unknown> {
  const obj = redactSecrets(state) as Record<string, unknown>;
  if (state.kind === "Secret") {
    for (const field of ["data", "stringData"]) {
      const data = unwrapSecret(state[field]) as Record<string, unknown> | undefined;
      if (data) obj[field] = Object.fromEntries(Object.keys(data).map((k) => [k, REDACTED]));
    }
  }
  return obj;
}

/** The value inside an SDK secret wrapper, or the value itself. */
function unwrapSecret(v: unknown): unknown {
  const o = v as Record<string, unknown> | undefined;
  return o && typeof o === "object" && o[SECRET_SIG] === SECRET_VALUE ? o.value : v;
}
