/* eslint-disable @typescript-eslint/no-require-imports -- a plain node process, forked by the test environment */
// A warm process that runs the program under the mock engine for the test files of one jest
// worker (test/helpers/environment.cjs starts it): the SDK and the program are loaded once per
// worker, from the tools compiled from the current sources (tools/launch.cjs), instead of once per
// test file into jest's module registry. Runs follow one another in this process as the render's
// workers' do (test/tools/run-isolation.test.ts proves they see nothing of each other).
const path = require("node:path");

const ROOT = path.resolve(__dirname, "../..");
const launcher = require(path.join(ROOT, "tools", "launch.cjs"));
// The code cache the command lines use: the SDK and the program compile once per change, not per worker.
launcher.useCompileCache();
const tree = launcher.ensureCompiled();
const { runProgram } = require(path.join(tree, "tools", "offline", "run.js"));

let queue = Promise.resolve();
process.on("message", (job) => {
  queue = queue.then(async () => {
    // The test file's evaluation day, or none (assigning undefined would set the text "undefined").
    if (job.evaluationDate === undefined) delete process.env.BLUEPRINT_EVALUATION_DATE;
    else process.env.BLUEPRINT_EVALUATION_DATE = job.evaluationDate;
    try {
      const result = await runProgram({
        projectDir: job.projectDir,
        stack: job.stack,
        config: job.config,
        stacks: job.stacks,
      });
      const json = JSON.stringify({ ...result, protectedResources: [...result.protectedResources] });
      process.send({ id: job.id, ok: true, json });
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      process.send({ id: job.id, ok: false, name: error.name, message: error.message });
    }
  });
});
process.on("disconnect", () => process.exit(0));
