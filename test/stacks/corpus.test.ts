import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml, stringify } from "yaml";
import { ConfigError } from "../../lib/errors";
import { parsePlatform, parseTeam, stackLayer } from "../../config/load";
import { fillSecretPlaceholders } from "../../tools/offline/placeholders";
import { ProjectError, readProject, readStackConfig, type StackConfig } from "../../lib/project";
import { contractLookup, PROJECT_DIR, runStack, shippedStacks, type K8sObject } from "../helpers/program";
import { schemaErrors } from "../helpers/schema";

/**
 * Bad stack files, made by mutating the shipped ones (a key deleted, misspelt, of the wrong type,
 * huge, or renamed to a nasty name) plus hand-written cases. Each must be refused with the stack
 * file and the key named, or render objects that the Kubernetes schema accepts: never a
 * TypeError, never a silent drop.
 */

/** A small deterministic generator, so a failure can be reproduced from its description. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = (string | number)[];

const NASTY_NAMES = [
  "constructor",
  "__proto__",
  "toString",
  "hasOwnProperty",
  "../etc",
  "A B",
  "",
  "x".repeat(300),
  "Shop",
  "dév",
  "-",
];

function leaves(v: Json, at: Path, out: Path[]): Path[] {
  if (at.length > 0) out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => leaves(x, [...at, i], out));
  else if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) leaves(x, [...at, k], out);
  return out;
}

function parentOf(root: Json, p: Path): { parent: Json[] | Record<string, Json>; key: string | number } {
  let cur = root as Json[] | Record<string, Json>;
  for (const k of p.slice(0, -1)) cur = (cur as Record<string, Json>)[k as string] as Json[] | Record<string, Json>;
  return { parent: cur, key: p[p.length - 1] };
}

/** One mutation of `config` at a random path; returns its description. */
function mutate(config: Record<string, Json>, rand: () => number): string {
  const paths = leaves(config, [], []);
  const p = paths[Math.floor(rand() * paths.length)];
  const { parent, key } = parentOf(config, p);
  const obj = parent as Record<string, Json>;
  const old = obj[key as string];
  const where = p.join(".");
  const op = Math.floor(rand() * 7);
  const set = (v: Json) =>
    Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
  switch (op) {
    case 0:
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete obj[key as string];
      return `delete ${where}`;
    case 1: {
      if (Array.isArray(parent) || typeof key !== "string" || key.length < 2) return mutate(config, rand);
      const typo = key.slice(0, -2) + key.slice(-1);
      delete obj[key];
      Object.defineProperty(obj, typo, { value: old, enumerable: true, writable: true, configurable: true });
      return `misspell ${where} as ${typo}`;
    }
    case 2: {
      const wrong: Json =
        typeof old === "number"
          ? "seven"
          : typeof old === "string"
            ? 7
            : typeof old === "boolean"
              ? "yes"
              : Array.isArray(old)
                ? { a: 1 }
                : ["x"];
      set(wrong);
      return `${where} = ${JSON.stringify(wrong)}`;
    }
    case 3: {
      const huge: Json =
        typeof old === "number"
          ? 2 ** 40
          : typeof old === "string"
            ? "x".repeat(70_000)
            : Array.isArray(old)
              ? Array(500).fill(old[0] ?? "x")
              : old;
      set(huge);
      return `${where} made huge`;
    }
    case 4:
      set(typeof old === "number" ? -1 : null);
      return `${where} = ${typeof old === "number" ? -1 : null}`;
    case 5: {
      if (Array.isArray(parent) || typeof key !== "string") return mutate(config, rand);
      const name = NASTY_NAMES[Math.floor(rand() * NASTY_NAMES.length)];
      delete obj[key];
      Object.defineProperty(obj, name, { value: old, enumerable: true, writable: true, configurable: true });
      return `rename ${where} to ${JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}...` : name)}`;
    }
    default: {
      const fraction: Json = typeof old === "number" ? old + 0.5 : typeof old === "string" ? `${old}\n  ` : old;
      set(fraction);
      return `${where} nudged`;
    }
  }
}

/** A project folder holding one stack file. */
function projectWith(stack: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "corpus-"));
  fs.writeFileSync(
    path.join(dir, "Pulumi.yaml"),
    `name: blueprint\nruntime: nodejs\nmain: ${path.join(PROJECT_DIR, "index.ts")}\nstackConfigDir: stacks\n`,
  );
  fs.mkdirSync(path.join(dir, "stacks"));
  fs.writeFileSync(path.join(dir, "stacks", `Pulumi.${stack}.yaml`), text);
  return dir;
}

type Outcome = { kind: "refused"; message: string } | { kind: "accepted"; cfg: StackConfig };

/**
 * What the render does with a stack file up to the program run: refuse it, or hand its config on.
 * A team stack is checked against its shipped platform's contract.
 */
async function judge(stack: string, text: string): Promise<Outcome> {
  const dir = projectWith(stack, text);
  const lookup = stack.endsWith(".platform") ? undefined : await contractLookup(stack);
  try {
    const cfg = readStackConfig(readProject(dir), stack);
    fillSecretPlaceholders(cfg, "blueprint");
    if (stackLayer(cfg.config, stack) === "platform")
      parsePlatform(cfg.config, stack, "blueprint", new Set(cfg.secretKeys));
    else parseTeam(cfg.config, stack, "blueprint", new Set(cfg.secretKeys), lookup ?? { found: false });
    return { kind: "accepted", cfg };
  } catch (e) {
    if (e instanceof ConfigError) return { kind: "refused", message: e.message };
    if (e instanceof ProjectError && e.exitCode === 1) return { kind: "refused", message: e.message };
    throw e;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Problems of the file as a whole, which no key can name. */
const FILE_LEVEL = /^(not valid YAML: |"config:" must be a mapping|must be a mapping with a "config:" section)/;

/** A refusal names the stack file and, on every line, a namespaced key (or a file-level problem); it carries no stack trace. */
function expectWellFormedRefusal(stack: string, message: string, what: string): void {
  const file = `stacks/Pulumi.${stack}.yaml`;
  const lines = message.split("\n");
  const problems = lines[0].endsWith(":") ? lines.slice(1) : lines;
  for (const line of problems) {
    const rest = line.slice(file.length + 2);
    if (!line.startsWith(`${file}: `) || !(/^[^\s:]+:/.test(rest) || FILE_LEVEL.test(rest))) {
      throw new Error(`${what}: refusal line does not name the file and a key: ${JSON.stringify(line)}`);
    }
  }
  expect(message).not.toMatch(/\n\s+at \S/);
}

const MUTATIONS_PER_STACK = 60;
/** Accepted mutations whose render is run and schema-checked, per stack (each run costs about a second). */
const RENDERS_PER_STACK = 2;

describe("a corpus of bad stack files", () => {
  it.each(shippedStacks())(
    "mutations of %s are refused with the key named, or render schema-valid objects",
    async (stack) => {
      const text = fs.readFileSync(path.join(PROJECT_DIR, "stacks", `Pulumi.${stack}.yaml`), "utf8");
      const rand = prng([...stack].reduce((h, c) => h * 31 + c.charCodeAt(0), 7));
      const accepted: [string, StackConfig][] = [];
      let refused = 0;
      for (let i = 0; i < MUTATIONS_PER_STACK; i++) {
        const doc = parseYaml(text) as { config: Record<string, Json> };
        const what = `${stack} #${i}: ${mutate(doc.config, rand)}`;
        let outcome: Outcome;
        try {
          outcome = await judge(stack, stringify(doc));
        } catch (e) {
          throw new Error(`${what}: failed with ${(e as Error).stack}`);
        }
        if (outcome.kind === "refused") {
          refused++;
          expectWellFormedRefusal(stack, outcome.message, what);
        } else accepted.push([what, outcome.cfg]);
      }
      expect(refused).toBeGreaterThan(MUTATIONS_PER_STACK / 2);
      // Accepted mutations are rendered until RENDERS_PER_STACK of them rendered: one the program
      // refuses (a rule that needs more than the file) counts as a well-formed refusal, not as a render.
      let rendered = 0;
      for (const [what, cfg] of accepted) {
        if (rendered === RENDERS_PER_STACK) break;
        let objects: K8sObject[];
        try {
          objects = (await runStack(stack, cfg)).objects as K8sObject[];
        } catch (e) {
          if (e instanceof Error && e.name === "ConfigError") {
            expectWellFormedRefusal(stack, e.message, what);
            continue;
          }
          throw new Error(`${what}: the program failed with ${(e as Error).stack}`);
        }
        rendered++;
        expect({ what, errors: objects.map(schemaErrors).filter(Boolean) }).toEqual({ what, errors: [] });
      }
      expect({ stack, rendered }).toEqual({ stack, rendered: RENDERS_PER_STACK });
    },
  );

  const dev = fs.readFileSync(path.join(PROJECT_DIR, "stacks/Pulumi.dev.shop.yaml"), "utf8");
  const platform = fs.readFileSync(path.join(PROJECT_DIR, "stacks/Pulumi.dev.platform.yaml"), "utf8");
  const handWritten: [string, string, string, RegExp][] = [
    [
      "a misspelt namespace that would drop every app",
      "dev.shop",
      dev.replace("blueprint:apps:", "blueprnt:apps:"),
      /blueprnt:apps is in namespace "blueprnt".*did you mean blueprint:apps\?/,
    ],
    [
      "a deleted production line",
      "dev.shop",
      dev.replace("  blueprint:production: false\n", ""),
      /blueprint:production is required/,
    ],
    [
      "a deleted production line in the platform",
      "dev.platform",
      platform.replace("  blueprint:production: false\n", ""),
      /blueprint:production is required/,
    ],
    [
      "the same key with and without namespace",
      "dev.shop",
      dev.replace("  blueprint:production: false\n", "  blueprint:production: false\n  production: true\n"),
      /blueprint:production is given twice/,
    ],
    ["an empty file", "dev.shop", "", /blueprint:layer is required/],
    [
      "a team stack that says it is the platform",
      "dev.shop",
      dev.replace("blueprint:layer: team", "blueprint:layer: platform"),
      /blueprint:layer is "platform", but the stack "dev\.shop" is named as a team stack/,
    ],
    ["a config list", "dev.shop", "config: [1, 2]\n", /"config:" must be a mapping/],
    [
      "duplicate YAML keys",
      "dev.shop",
      dev.replace("  blueprint:production: false\n", "  blueprint:production: false\n  blueprint:production: true\n"),
      /not valid YAML: Map keys must be unique/,
    ],
    [
      "an alias bomb",
      "dev.shop",
      `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n${dev}`,
      /not valid YAML/,
    ],
    [
      "an app named __proto__",
      "dev.shop",
      dev.replace("    backend:\n      image: podinfo", "    __proto__:\n      image: podinfo"),
      /blueprint:apps\.__proto__ cannot be used as a name/,
    ],
  ];
  it.each(handWritten)("refuses %s", async (what, stack, text, message) => {
    const outcome = await judge(stack, text);
    if (outcome.kind === "accepted") throw new Error(`${what} was accepted`);
    expectWellFormedRefusal(stack, outcome.message, what);
    expect(outcome.message).toMatch(message);
  });

  it("accepts a team named constructor, an ordinary name", async () => {
    expect(
      (
        await judge(
          "dev.platform",
          platform.replace("  blueprint:teams:\n", "  blueprint:teams:\n    constructor: {}\n"),
        )
      ).kind,
    ).toBe("accepted");
  });
});
