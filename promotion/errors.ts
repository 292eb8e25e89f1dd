/**
 * The two ways a promotion command says no. The CLI maps them to exit codes: a {@link UsageError}
 * (bad flags, unknown stage or command) exits 2, a {@link Refusal} (a promotion rule said no, or
 * evidence did not match) exits 1.
 */

/** The command line was wrong: a flag, an argument or a name the user typed. Exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** A rule refused the operation. Exit code 1. */
export class Refusal extends Error {
  override readonly name = "Refusal";
  constructor(
    /** The stage the rule applies to, when there is one. */
    readonly stage: string | undefined,
    /** Short name of the rule, as in docs/promotion.md (e.g. `order`, `soak`, `approval`). */
    readonly rule: string,
    message: string,
  ) {
    super(stage ? `stage ${stage}: ${message}` : message);
  }
}
