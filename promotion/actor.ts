import { execFileSync } from "node:child_process";
import { UsageError } from "./errors";

/** The environment variable that names who runs a command (CI sets it, e.g. to the pipeline's identity). */
export const ACTOR_ENV = "BLUEPRINT_ACTOR";

/** Who runs the command: `$BLUEPRINT_ACTOR`, else git's `user.name <user.email>` in `dir`; normalised. */
export function currentActor(dir: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[ACTOR_ENV]?.trim();
  if (fromEnv) return normaliseActor(fromEnv);
  const git = (key: string): string => {
    try {
      return execFileSync("git", ["config", key], {
        cwd: dir,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim();
    } catch {
      return "";
    }
  };
  const name = git("user.name");
  const email = git("user.email");
  if (!name && !email)
    throw new UsageError(
      `cannot tell who runs this command: set ${ACTOR_ENV} or \`git config user.name\` and \`git config user.email\``,
    );
  return normaliseActor(email ? `${name || email} <${email}>` : name);
}

const WITH_EMAIL = /^(.*?)\s*<\s*([^<>\s]+@[^<>\s]+)\s*>$/;

/**
 * An actor as it is recorded: whitespace collapsed, the email (in `Name <email>` or alone) in lower
 * case. Email addresses are compared without case in practice (RFC 5321 allows case-sensitive local
 * parts, but no mail provider in use treats them so), and a person is one person however git spells them.
 */
export function normaliseActor(actor: string): string {
  const text = actor.replace(/\s+/g, " ").trim();
  const m = WITH_EMAIL.exec(text);
  if (m) return `${m[1] || m[2].toLowerCase()} <${m[2].toLowerCase()}>`;
  return /^[^\s@]+@[^\s@]+$/.test(text) ? text.toLowerCase() : text;
}

/**
 * What makes two actors the same person for four eyes and approval counts: the email when there
 * is one, else the name, without case. `CI <ci@example.com>` and `ci <CI@example.com>` are one person.
 */
export function actorKey(actor: string): string {
  const text = normaliseActor(actor);
  const m = WITH_EMAIL.exec(text);
  return (m ? m[2] : text).toLowerCase();
}
