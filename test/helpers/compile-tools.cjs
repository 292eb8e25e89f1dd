/* eslint-disable @typescript-eslint/no-require-imports -- jest's global setup, plain CommonJS */
// Jest's global setup: compiles the command lines once (tools/launch.cjs), before any test starts
// one, so parallel test files do not each compile the same tree. A no-op when the sources are unchanged.
module.exports = () => {
  require("../../tools/launch.cjs").ensureCompiled();
};
