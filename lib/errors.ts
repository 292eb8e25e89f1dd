/** One problem found in a stack's configuration. */
export interface ConfigProblem {
  /** Fully qualified key path, e.g. `blueprint:apps.web.image`. */
  readonly key: string;
  /** What is wrong and what is allowed. */
  readonly message: string;
}

/**
 * Every problem of one stack's configuration, reported together.
 *
 * Carries the mark of a Pulumi `RunError` (`RunError.isInstance` tests the `__pulumiRunError`
 * property, @pulumi/pulumi errors.js) so that `pulumi up` prints the message without a stack
 * trace, while this module stays free of any SDK import.
 */
export class ConfigError extends Error {
  /** What `pulumi.RunError.isInstance` looks for. */
  public readonly __pulumiRunError = true;

  constructor(
    /** The stack file the problems were found in, e.g. `stacks/Pulumi.prod.yaml`. */
    public readonly file: string,
    public readonly problems: readonly ConfigProblem[],
  ) {
    super(formatProblems(file, problems));
    this.name = "ConfigError";
  }
}

/**
 * One line per problem: `<file>: <key> <message>`. Keys and messages quote config values, so
 * control characters (a newline in a name or value) are escaped: one problem stays one line, and
 * a value cannot forge extra lines in a CI log.
 */
export function formatProblems(file: string, problems: readonly ConfigProblem[]): string {
  const lines = problems.map((p) => `${file}: ${oneLine(p.key)} ${oneLine(p.message)}`);
  const head = `${problems.length} configuration problem${problems.length === 1 ? "" : "s"} in ${file}:`;
  return [head, ...lines].join("\n");
}

function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
}
