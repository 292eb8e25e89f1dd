import { execFileSync } from "node:child_process";
import { UsageError } from "./errors";

/** The environment variable that names who runs a command (CI sets it, e.g. to the pipeline's identity). */
export const ACTOR_ENV = "BLUEPRINT_ACTOR";

/** Who runs the command: `$BLUEPRINT_ACTOR`, else git's `user.name <user.email>` in `dir`. */
export function currentActor(dir: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[ACTOR_ENV]?.trim();
  if (fromEnv) return fromEnv;
  const git = (key: string): string => {
    try {
      return execFileSync("git", ["config", key], { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      return "";
    }
  };
  const name = git("user.name");
  const email = git("user.email");
  if (!name && !email) throw new UsageError(`cannot tell who runs this command: set ${ACTOR_ENV} or \`git config user.name\` and \`git config user.email\``);
  return email ? `${name || email} <${email}>` : name;
}
