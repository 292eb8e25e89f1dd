import { readProject, ProjectError } from "../../lib/project";
import { OutputRefused } from "./write";
import { renderStack, type RenderJob } from "./render";
import { compiledProgram } from "./compiled";

/**
 * A render worker (forked by startWorkers): renders each stack the parent sends, one at a time,
 * and reports its outcome; ends when the parent lets go.
 */
function worker(): void {
  process.on("disconnect", () => process.exit(0));
  // Loaded while the parent renders the platform: the first team stack then starts warm.
  void import("./run")
    .then(() => {
      const main = readProject(process.cwd()).main;
      return import(compiledProgram(main) ?? main);
    })
    .catch(() => undefined);
  process.on("message", (job: RenderJob) => {
    renderStack(job).then(
      (outcome) => process.send!(outcome),
      (e: Error) =>
        process.send!({
          ok: false,
          stack: job.stack,
          message:
            e instanceof ProjectError || e instanceof OutputRefused
              ? `render: ${e.message}`
              : `render: the program failed for stack "${job.stack}": ${e.stack ?? e.message}`,
        }),
    );
  });
}

if (process.send) worker();
