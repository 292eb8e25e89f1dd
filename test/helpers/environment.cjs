/* eslint-disable @typescript-eslint/no-require-imports -- jest loads its test environment as plain CommonJS */
// The suite's test environment: jest's node environment, plus a warm process per jest worker that
// runs the program for `runStack` (test/helpers/run-server.cjs). This module is loaded once per
// worker, so the process outlives a test file and serves every file the worker runs.
const { fork } = require("node:child_process");
const path = require("node:path");
const { TestEnvironment } = require("jest-environment-node");

let server;
let nextId = 0;
const pending = new Map();

function start() {
  const child = fork(path.join(__dirname, "run-server.cjs"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  child.on("message", (reply) => {
    const p = pending.get(reply.id);
    if (!p) return;
    pending.delete(reply.id);
    if (pending.size === 0) idle(child);
    p.resolve(reply);
  });
  child.on("exit", (code, signal) => {
    server = undefined;
    for (const p of pending.values()) p.reject(new Error(`the run server ended (${signal ?? code})`));
    pending.clear();
  });
  idle(child);
  return child;
}

/** An idle server does not keep the worker alive; one with runs pending does. */
function idle(child) {
  child.unref();
  child.channel?.unref();
}

/**
 * Runs one stack in the warm process. `job` is plain data ({ projectDir, stack, config, stacks,
 * evaluationDate }); resolves with `{ ok: true, json }` or `{ ok: false, name, message }`.
 */
function run(job) {
  server ??= start();
  const child = server;
  child.ref();
  child.channel?.ref();
  return new Promise((resolve, reject) => {
    const id = ++nextId;
    pending.set(id, { resolve, reject });
    child.send({ ...job, id }, (err) => {
      if (err) {
        pending.delete(id);
        reject(err);
      }
    });
  });
}

class BlueprintEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.global.__blueprintRunServer = run;
  }
}

module.exports = BlueprintEnvironment;
