import * as path from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";

/** A command line the command refuses: printed with its usage, exit 2. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parses a command line strictly: unknown flags are refused (node's `parseArgs`), and so is a
 * single-valued flag given twice (`--out a --out b`), which `parseArgs` would silently resolve to
 * the last one. Throws {@link UsageError} naming the flag.
 */
export function parseCommandLine<O extends Options>(argv: readonly string[], options: O, allowPositionals = true) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals, strict: true, tokens: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const seen = new Set<string>();
  for (const t of parsed.tokens ?? []) {
    if (t.kind !== "option") continue;
    if (options[t.name]?.multiple) continue;
    if (seen.has(t.name)) throw new UsageError(`--${t.name} was given more than once; give it once`);
    seen.add(t.name);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

/**
 * The folder a relative path on the command line means: the one the user ran the command in.
 * Under `npm run <script>`, npm starts the script in the project folder and passes the user's
 * folder as `INIT_CWD`; it is used only when npm started this very command (`npm_lifecycle_event`
 * is one of `scripts`), not when an outer npm script (`npm test`) left it in the environment.
 */
export function userDirectory(scripts: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  const event = env.npm_lifecycle_event;
  if (env.INIT_CWD && event !== undefined && scripts.includes(event)) return env.INIT_CWD;
  return process.cwd();
}

/** A path from the command line, resolved against {@link userDirectory}. */
export function userPath(p: string, scripts: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(userDirectory(scripts, env), p);
}
