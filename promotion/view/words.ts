import { formatDuration } from "../stages";
import type { Candidate, RunningGate, StageView, Verification } from "./model";

/**
 * The words and symbols of every state the views show. Colour is never the only signal: each state
 * has a word and a symbol, in HTML and in Markdown alike, and the symbols are the text status's.
 */
export interface StateLabel {
  readonly symbol: string;
  readonly word: string;
  /** A CSS class suffix (the colour), for the HTML page. */
  readonly tone: "ok" | "bad" | "wait" | "none";
}

export const VERIFICATION: Readonly<Record<Verification, StateLabel>> = {
  verified: { symbol: "✓", word: "verified", tone: "ok" },
  failed: { symbol: "✗", word: "verification failed", tone: "bad" },
  unverified: { symbol: "?", word: "not verified", tone: "wait" },
  none: { symbol: "-", word: "no release", tone: "none" },
};

export const RUNNING_GATE: Readonly<Record<RunningGate, StateLabel>> = {
  passes: { symbol: "✓", word: "passes the gate", tone: "ok" },
  fails: { symbol: "⚠", word: "running, now fails the gate", tone: "bad" },
  "no-gate": { symbol: "", word: "no gate", tone: "none" },
  "no-release": { symbol: "", word: "", tone: "none" },
};

export const CANDIDATE: Readonly<Record<"ready" | "blocked", StateLabel>> = {
  ready: { symbol: "→", word: "ready to promote", tone: "ok" },
  blocked: { symbol: "⊘", word: "blocked", tone: "wait" },
};

/** `r-` and 8 hex, as the text status shows a release in its matrix. */
export const shortId = (id: string): string => id.slice(0, 10);

/** `2026-12-01 09:00 UTC`. */
export const when = (iso: string): string => `${iso.slice(0, 16).replace("T", " ")} UTC`;

/** A person without the email: `CI <ci@example.com>` -> `CI`. */
export const who = (by: string): string => by.replace(/\s*<[^>]*>$/, "");

/** Facts about a waiting release beyond its blockers: soak left, approvals, gate. */
export function candidateFacts(c: Candidate): string[] {
  return [
    c.soakRemainingMs === null
      ? `soak ${c.soak} not started: not verified upstream`
      : c.soakRemainingMs > 0
        ? `soak ${formatDuration(c.soakRemainingMs)} left`
        : "",
    c.approvals.needed > 0
      ? `approvals ${c.approvals.given} of ${c.approvals.needed}${c.approvals.by.length ? ` (${c.approvals.by.map(who).join(", ")})` : ""}`
      : "",
    c.gate === "no-gate" ? "" : c.gate === "passes" ? "scan gate passes" : "scan gate fails",
  ].filter(Boolean);
}

/** The one-line state of a stage cell: release, verification, and the running gate when it fails. */
export function cellLabels(s: StageView): StateLabel[] {
  return [VERIFICATION[s.verification], ...(s.running.gate === "fails" ? [RUNNING_GATE.fails] : [])];
}
