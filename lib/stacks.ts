/**
 * Stack naming, in one place: every environment is a platform stack `<env>.platform` plus one team
 * stack `<env>.<team>` per team; a team stack reads `<env>.platform` unless
 * `blueprint:platformStack` names another (optionally qualified as `<organization>/<project>/<stack>`).
 * The program, render, audit, `npm run team`, the bench and promotion all name stacks through here,
 * so they agree on what belongs to which environment.
 */

/** The second half of a platform stack's name. */
export const PLATFORM = "platform";
/** The config key that overrides the platform stack a team stack reads. */
export const PLATFORM_STACK_KEY = "blueprint:platformStack";

/** `dev` of `dev.shop` and of `dev.platform`; the whole name when it has no dot. */
export function environmentOf(stack: string): string {
  const dot = stack.indexOf(".");
  return dot < 0 ? stack : stack.slice(0, dot);
}

/** `shop` of `dev.shop`; undefined when the name has no dot. */
export function teamOf(stack: string): string | undefined {
  const dot = stack.indexOf(".");
  return dot < 0 ? undefined : stack.slice(dot + 1);
}

/** `<env>.platform`. */
export function platformStackName(environment: string): string {
  return `${environment}.${PLATFORM}`;
}

/** The platform stack a team stack reads by default: `<env>.platform`. */
export function defaultPlatformStack(stack: string): string {
  return platformStackName(environmentOf(stack));
}

/** A stack name, bare (`dev.platform`) or qualified (`acme/blueprint/dev.platform`), taken apart. */
export interface StackRef {
  readonly organization?: string;
  readonly project?: string;
  readonly stack: string;
}

/** Takes `[<organization>/[<project>/]]<stack>` apart (Pulumi's fully qualified stack names). */
export function parseStackRef(name: string): StackRef {
  const parts = name.split("/");
  if (parts.length === 3) return { organization: parts[0], project: parts[1], stack: parts[2] };
  if (parts.length === 2) return { organization: parts[0], stack: parts[1] };
  return { stack: name };
}

/** `<organization>/<project>/<stack>`, filling what `name` leaves out from the running stack's. */
export function qualifiedStackName(name: string, organization: string, project: string): string {
  const ref = parseStackRef(name);
  return `${ref.organization ?? organization}/${ref.project ?? project}/${ref.stack}`;
}

/**
 * The stack of this project that `name` names, for tools that read stack files: the bare name,
 * or the stack part of a qualified name of this project; undefined for another project's stack.
 */
export function localStackName(name: string, project: string): string | undefined {
  const ref = parseStackRef(name);
  return ref.project === undefined || ref.project === project ? ref.stack : undefined;
}

/** The platform stack a team stack reads: `blueprint:platformStack` when set, else `<env>.platform`. */
export function platformStackOf(raw: Readonly<Record<string, unknown>>, stack: string): string {
  const given = raw[PLATFORM_STACK_KEY];
  return typeof given === "string" && given.length > 0 ? given : defaultPlatformStack(stack);
}

/**
 * Why a team stack may not read `platformStack`, or undefined when it may: a team stack belongs
 * to one environment, so its platform must be that environment's `<env>.platform`. Otherwise a
 * dev stack, promoted with dev's rules (no soak, scan or approval), would deploy to another
 * environment's cluster.
 */
export function platformStackProblem(teamStack: string, platformStack: string): string | undefined {
  const target = parseStackRef(platformStack).stack;
  const env = environmentOf(teamStack);
  if (environmentOf(target) === env && teamOf(target) === PLATFORM) return undefined;
  return `the team stack "${teamStack}" belongs to environment "${env}", but reads the platform stack "${platformStack}"${teamOf(target) === PLATFORM ? ` of environment "${environmentOf(target)}"` : ", which is not a platform stack (<env>.platform)"}: a team stack reads its own environment's ${platformStackName(env)}`;
}

/** The environments among `stacks`: each has a `<env>.platform` stack. */
export function environments(stacks: readonly string[]): string[] {
  return stacks
    .filter((s) => teamOf(s) === PLATFORM)
    .map(environmentOf)
    .sort();
}

/** The team stacks of an environment: `<env>.<team>`, every stack of it but the platform's. */
export function teamStacks(stacks: readonly string[], env: string): string[] {
  return stacks.filter(
    (s) => environmentOf(s) === env && s.includes(".") && teamOf(s) !== PLATFORM && !teamOf(s)!.includes("."),
  );
}
