import { startProgress, type Progress } from "./progress";

/**
 * The progress of an environment render (`npm run render -- <env>`): one step per stack, the
 * platform and each team stack. Drawn on stderr only when both stdout and stderr are terminals and
 * `--quiet` is not given, so a render whose output goes to a file or a CI log prints exactly its
 * summary, as before.
 */
export function renderProgress(
  env: string,
  stacks: number,
  quiet: boolean,
  streams: { stdout: { isTTY?: boolean }; stderr: NodeJS.WritableStream & { isTTY?: boolean } } = process,
): Progress {
  return startProgress(stacks, {
    stream: streams.stderr,
    quiet: quiet || streams.stdout.isTTY !== true,
    label: `render ${env}`,
    unit: "stacks",
  });
}

/**
 * What the render reports of a finished stack (its outcome), as the progress takes it; `ms` is how
 * long it took when the caller knows (a team stack: since the team renders began).
 */
export function stackDone(
  progress: Progress,
  outcome: { readonly stack: string; readonly ok: boolean },
  ms?: number,
): void {
  progress.done({ name: outcome.stack, ok: outcome.ok, ms });
}
