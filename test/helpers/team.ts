import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_DIR } from "./program";
import { main } from "../../tools/team";

/** A copy of the project's stack files (releases and history too) in a folder running the real program. */
export function tempProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "team-"));
  fs.writeFileSync(
    path.join(dir, "Pulumi.yaml"),
    `name: blueprint\nruntime: nodejs\nmain: ${path.join(PROJECT_DIR, "index.ts")}\nstackConfigDir: stacks\n`,
  );
  fs.cpSync(path.join(PROJECT_DIR, "stacks"), path.join(dir, "stacks"), { recursive: true });
  return dir;
}

/** Every file under the project's stacks folder, relative to the project, with its text. */
export function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else files.set(path.relative(dir, p), fs.readFileSync(p, "utf8"));
    }
  };
  walk(path.join(dir, "stacks"));
  return files;
}

/** Runs `npm run team -- <argv>` in `dir`, in this process; returns its exit code and output. */
export async function team(dir: string, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    argv,
    { projectDir: dir },
    (l) => out.push(l),
    (l) => err.push(l),
  );
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}
