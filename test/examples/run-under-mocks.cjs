/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS, so it loads the program's own SDK with its own require */
// Runs a compiled Pulumi program under the mock engine of ITS OWN @pulumi/pulumi (resolved from
// the program's folder, not from this repository), answering its StackReferences from the given
// stack outputs, and prints the registrations and outputs as JSON. Usage:
//   node run-under-mocks.cjs <project folder> <program.js> <input.json>
// input.json: { project, stack, config: { "<ns>:<key>": "<value>" }, stacks: { <name>: { outputs, secretOutputNames } } }
"use strict";
const fs = require("node:fs");
const path = require("node:path");

async function main() {
  const [dir, program, inputFile] = process.argv.slice(2);
  const input = JSON.parse(fs.readFileSync(inputFile, "utf8"));
  const own = (id) => require(require.resolve(id, { paths: [dir] }));
  const pulumi = own("@pulumi/pulumi");
  const resources = [];
  const mocks = {
    newResource(args) {
      if (args.type === "pulumi:pulumi:StackReference") {
        const found = input.stacks[args.inputs.name] ?? { outputs: {}, secretOutputNames: [] };
        return {
          id: args.inputs.name,
          state: { name: args.inputs.name, outputs: found.outputs, secretOutputNames: found.secretOutputNames },
        };
      }
      resources.push({ type: args.type, name: args.name, inputs: args.inputs });
      return { id: `${args.name}-id`, state: args.inputs };
    },
    call() {
      return {};
    },
  };
  await pulumi.runtime.setMocks(mocks, input.project, input.stack, false, "organization");
  pulumi.runtime.setAllConfig(input.config, []);
  let exported = {};
  let failure;
  await pulumi.runtime.runInPulumiStack(async () => {
    try {
      const mod = require(path.resolve(dir, program));
      exported = (await (typeof mod === "function" ? mod() : mod)) ?? {};
    } catch (e) {
      failure = e;
    }
    return {};
  });
  await own("@pulumi/pulumi/runtime/settings").waitForRPCs();
  if (failure) {
    process.stdout.write(JSON.stringify({ error: String(failure.message ?? failure) }));
    return;
  }
  const outputs = {};
  for (const [k, v] of Object.entries(exported)) {
    outputs[k] = pulumi.Output.isInstance(v) ? await new Promise((resolve) => v.apply(resolve)) : v;
  }
  process.stdout.write(JSON.stringify({ resources, outputs }));
}

main().catch((e) => {
  process.stderr.write(`${e.stack ?? e}\n`);
  process.exit(1);
});
