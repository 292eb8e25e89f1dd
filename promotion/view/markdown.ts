import type { PromotionView, StageView } from "./model";
import { CANDIDATE, candidateFacts, cellLabels, RUNNING_GATE, shortId, VERIFICATION, when, who } from "./words";

/**
 * Text from files a team controls (reasons, names, messages) as Markdown that renders as that text:
 * no HTML, no links or emphasis it did not mean, and no table cell broken by `|` or a line break.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\r\n]+/g, " ")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/([\\`*_[\]|#~!])/g, "\\$1");
}

const e = escapeMarkdown;

/**
 * The promotion view as GitHub-flavoured Markdown, for a pull request comment or a run summary: the
 * chain verdict, the lanes x stages matrix, what waits and every blocker, releases whose running
 * digest now fails its gate, and each lane's timeline (folded).
 */
export function renderMarkdown(view: PromotionView, opts: { readonly timelineLimit?: number } = {}): string {
  const limit = opts.timelineLimit ?? 30;
  const out: string[] = [];
  out.push(`## Promotion status of ${e(view.project)}`, "", `Generated ${when(view.generatedAt)}.`, "");
  out.push(
    view.chain.intact
      ? "**History chains: ✓ intact** (every record in place, none edited)"
      : "**History chains: ✗ BROKEN**: promote, rollback, approve and verify refuse until repaired:",
  );
  for (const p of view.chain.problems) out.push(`- ${e(p)}`);
  out.push("");
  const stages = view.stages.map((s) => s.name);
  out.push(`| lane | ${stages.map(e).join(" | ")} |`, `|---|${stages.map(() => "---").join("|")}|`);
  for (const lane of view.lanes) {
    const cells = stages.map((name) => {
      if (lane.error) return "unusable";
      const s = lane.stages.find((x) => x.name === name);
      return s ? cell(s) : "";
    });
    out.push(`| **${e(lane.name)}** | ${cells.join(" | ")} |`);
  }
  out.push(
    "",
    `${[VERIFICATION.verified, VERIFICATION.failed, VERIFICATION.unverified, VERIFICATION.none, RUNNING_GATE.fails, CANDIDATE.ready, CANDIDATE.blocked].map((l) => `${l.symbol} ${l.word}`).join(" · ")}`,
    "",
  );

  const failing = view.lanes.flatMap((l) =>
    l.stages.filter((s) => s.running.gate === "fails").map((s) => ({ lane: l.name, s })),
  );
  if (failing.length) {
    out.push("### ⚠ Running, now fails the gate", "");
    for (const { lane, s } of failing) {
      out.push(`- **${e(lane)} / ${e(s.name)}** runs \`${s.release}\`:`);
      for (const p of s.running.problems) out.push(`  - ${e(p)}`);
    }
    out.push("", "A rebuild (same source, patched base image) becomes a new release that walks the stages again.", "");
  }

  out.push("### Waiting", "");
  let waiting = 0;
  for (const lane of view.lanes) {
    if (lane.error) {
      out.push(`- **${e(lane.name)}**: ${e(lane.error)}`);
      continue;
    }
    for (const s of lane.stages) {
      for (const c of s.waiting) {
        waiting++;
        const state = c.ready ? CANDIDATE.ready : CANDIDATE.blocked;
        const facts = candidateFacts(c);
        out.push(
          `- **${e(lane.name)} → ${e(s.name)}**: \`${c.release}\` ${state.symbol} ${state.word}${c.ready ? "" : ` by ${[...new Set(c.blockers.map((b) => b.rule))].map(e).join(", ")}`}${facts.length ? ` (${facts.map(e).join("; ")})` : ""}`,
        );
        for (const b of c.blockers) out.push(`  - [${e(b.rule)}] ${e(b.message)}`);
      }
      for (const n of s.notes) out.push(`- **${e(lane.name)} / ${e(s.name)}**: note: ${e(n)}`);
    }
  }
  if (waiting === 0) out.push("Nothing waits: no upstream stage runs a release its downstream stage does not.");
  out.push("");

  for (const lane of view.lanes) {
    if (lane.error) continue;
    const shown = lane.timeline.slice(0, limit);
    out.push(`<details><summary>Timeline of lane ${e(lane.name)} (${lane.timeline.length} record(s))</summary>`, "");
    if (shown.length === 0) out.push("No record yet.");
    else {
      out.push("| time | stage | event | release | by | detail |", "|---|---|---|---|---|---|");
      for (const t of shown)
        out.push(`| ${when(t.at)} | ${e(t.stage)} | ${t.kind} | \`${t.release}\` | ${e(who(t.by))} | ${e(t.detail)} |`);
      if (lane.timeline.length > shown.length)
        out.push(
          "",
          `${lane.timeline.length - shown.length} older record(s) not shown: npm run status -- --lane ${e(lane.name)} --html FILE`,
        );
    }
    out.push("", "</details>", "");
  }
  return `${out.join("\n").trimEnd()}\n`;
}

function cell(s: StageView): string {
  if (!s.release) return `${VERIFICATION.none.symbol} ${VERIFICATION.none.word}`;
  return `\`${shortId(s.release)}\` ${cellLabels(s)
    .map((l) => `${l.symbol} ${l.word}`)
    .join(", ")}`;
}
