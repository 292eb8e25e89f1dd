import type { Candidate, LaneView, PromotionView, StageView } from "./model";
import { CANDIDATE, candidateFacts, RUNNING_GATE, shortId, VERIFICATION, when, who, type StateLabel } from "./words";

/** Text as HTML text or attribute value: everything a team writes is data, never markup. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}
const h = escapeHtml;

/**
 * The page's policy: nothing may be loaded (no script, font, image or frame from anywhere, the page
 * itself included), only its own inline style. A browser then refuses any request the page could
 * make, so it opens the same offline, from a CI artifact or from a mail attachment.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

const STYLE = `
:root { --ok: #1a7f37; --bad: #cf222e; --wait: #9a6700; --none: #6e7781; --line: #d0d7de; --soft: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; padding: 16px; max-width: 1200px; color: #1f2328; }
h1 { font-size: 1.4em; margin: 0 0 4px; } h2 { font-size: 1.15em; margin: 24px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 1em; margin: 16px 0 6px; }
.meta { color: var(--none); margin: 0 0 12px; }
code { font: 0.9em ui-monospace, SFMono-Regular, Menlo, monospace; overflow-wrap: anywhere; }
table.timeline code, code.release, .waiting code { white-space: nowrap; overflow-wrap: normal; }
.verdict { padding: 8px 12px; border: 2px solid; border-radius: 6px; margin: 12px 0; }
.verdict.ok { border-color: var(--ok); } .verdict.bad { border-color: var(--bad); }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid var(--line); padding: 6px 8px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
.facts, .waiting, p, .verdict { overflow-wrap: anywhere; }
thead th { background: var(--soft); }
.state { display: inline-block; font-weight: 600; }
.state .sym { display: inline-block; min-width: 1.1em; }
.tone-ok { color: var(--ok); } .tone-bad { color: var(--bad); } .tone-wait { color: var(--wait); } .tone-none { color: var(--none); }
td.cell { min-width: 9em; }
table { table-layout: fixed; }
table.matrix thead th:first-child { width: 7.5em; }
table.timeline td:nth-child(6) { width: 40%; }
td.cell .release { display: block; }
ul { margin: 4px 0; padding-left: 1.2em; } li { margin: 2px 0; overflow-wrap: anywhere; }
.blockers li { list-style: none; margin-left: -1.2em; }
.rule { font-weight: 600; }
.facts { color: var(--none); font-size: 0.9em; display: block; }
.stage-label { display: none; }
.legend { color: var(--none); font-size: 0.9em; margin: 6px 0 0; }
.legend span { margin-right: 1em; white-space: nowrap; }
.timeline td:nth-child(1) { white-space: nowrap; }
@media (max-width: 700px) {
  body { padding: 10px; font-size: 14px; }
  table.matrix, table.matrix tbody, table.matrix tr, table.matrix th, table.matrix td { display: block; width: auto; border: 0; }
  table.matrix thead { display: none; }
  table.matrix tr { border: 1px solid var(--line); border-radius: 6px; margin: 0 0 10px; padding: 6px 8px; }
  table.matrix th[scope=row] { font-size: 1.1em; padding: 0 0 4px; }
  table.matrix td { padding: 4px 0; border-top: 1px solid var(--line); }
  table.matrix .stage-label { display: block; font-size: 0.85em; color: var(--none); }
  table.timeline, table.timeline tbody, table.timeline tr { display: block; width: auto; border: 0; }
  table.timeline thead { display: none; }
  table.timeline tr { border-bottom: 1px solid var(--line); padding: 6px 0; }
  table.timeline td { display: inline; width: auto; border: 0; padding: 0 0.5em 0 0; white-space: normal; }
  table.timeline td:nth-child(6) { display: block; width: auto; color: var(--none); }
}
@page { size: A4; margin: 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 9pt; }
  td.cell { min-width: 0; }
  .verdict, tr, li { break-inside: avoid; }
  h2 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
`;

/**
 * The promotion view as one self-contained static HTML page: the chain verdict, the lanes x stages
 * matrix (release, verification, scan gate, and per waiting release its soak left, approvals and
 * every blocker in words), releases whose running digest now fails its gate, and per lane a
 * timeline with actor, time and reason. No script, no external resource; it prints on A4 and
 * reads on a phone.
 */
export function renderHtml(view: PromotionView): string {
  const stages = view.stages.map((s) => s.name);
  const failing = view.lanes.flatMap((l) =>
    l.stages.filter((s) => s.running.gate === "fails").map((s) => ({ lane: l.name, s })),
  );
  const body = [
    `<h1>Promotion status of ${h(view.project)}</h1>`,
    `<p class="meta">Generated ${h(when(view.generatedAt))} by <code>npm run status -- --html</code>. Lanes: ${view.lanes.length}; stages: ${stages.map(h).join(" → ")}.</p>`,
    verdict(view),
    `<h2 id="matrix">Lanes by stages</h2>`,
    `<table class="matrix"><thead><tr><th scope="col">lane</th>${view.stages.map((s) => `<th scope="col">${h(s.name)}<span class="facts">${h(s.from.length ? `from ${s.from.join(", ")}` : "entry: CI")}</span></th>`).join("")}</tr></thead><tbody>`,
    ...view.lanes.map((l) => matrixRow(l, stages)),
    `</tbody></table>`,
    `<p class="legend">${[VERIFICATION.verified, VERIFICATION.failed, VERIFICATION.unverified, VERIFICATION.none, RUNNING_GATE.fails, CANDIDATE.ready, CANDIDATE.blocked].map((l) => `<span>${label(l)}</span>`).join("")}</p>`,
    failing.length
      ? `<h2 id="now-fails">${label(RUNNING_GATE.fails)}</h2><ul>${failing.map(({ lane, s }) => `<li data-lane="${h(lane)}" data-stage="${h(s.name)}"><strong>${h(lane)} / ${h(s.name)}</strong> runs <code>${h(s.release ?? "")}</code><ul>${s.running.problems.map((p) => `<li>${h(p)}</li>`).join("")}</ul></li>`).join("")}</ul><p>A rebuild (same source, patched base image) becomes a new release that walks the stages again.</p>`
      : "",
    `<h2 id="timelines">Timelines</h2>`,
    ...view.lanes.map(laneTimeline),
  ].join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Promotion status of ${h(view.project)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

function label(l: StateLabel): string {
  return `<span class="state tone-${l.tone}"><span class="sym" aria-hidden="true">${h(l.symbol)}</span> ${h(l.word)}</span>`;
}

function verdict(view: PromotionView): string {
  if (view.chain.intact)
    return `<div class="verdict ok" id="chain" data-intact="true">${label({ symbol: "✓", word: "History chains intact", tone: "ok" })}: every record of every lane is in place and unedited.</div>`;
  return `<div class="verdict bad" id="chain" data-intact="false">${label({ symbol: "✗", word: "History chains BROKEN", tone: "bad" })}: promote, rollback, approve and verify of the lanes below refuse until repaired.<ul>${view.chain.problems.map((p) => `<li>${h(p)}</li>`).join("")}</ul></div>`;
}

function matrixRow(lane: LaneView, stages: readonly string[]): string {
  const cells = stages.map((name) => {
    if (lane.error)
      return `<td class="cell" data-stage="${h(name)}">${label({ symbol: "✗", word: "lane unusable", tone: "bad" })}</td>`;
    const s = lane.stages.find((x) => x.name === name);
    return s ? cell(lane.name, s) : `<td class="cell" data-stage="${h(name)}"></td>`;
  });
  return `<tr data-lane="${h(lane.name)}"><th scope="row">${h(lane.name)}${lane.error ? `<span class="facts">${h(lane.error)}</span>` : ""}</th>${cells.join("")}</tr>`;
}

function cell(lane: string, s: StageView): string {
  // The stage's name in the cell, shown where the header row is not (a phone's stacked layout).
  const parts: string[] = [`<span class="stage-label">${h(s.name)}</span>`];
  if (s.release) {
    parts.push(`<code class="release" title="${h(s.release)}">${h(shortId(s.release))}</code>`);
    parts.push(label(VERIFICATION[s.verification]));
    if (s.verifiedAt)
      parts.push(
        `<span class="facts">${s.verification === "verified" ? "since" : "at"} ${h(when(s.verifiedAt))}${s.verificationProblem ? `: ${h(s.verificationProblem)}` : ""}</span>`,
      );
    if (s.placed)
      parts.push(
        `<span class="facts">${s.placed.how === "rollback" ? "rolled back to" : "promoted"} ${h(when(s.placed.at))} by ${h(who(s.placed.by))}${s.placed.overridden.length ? ` (override: ${h(s.placed.overridden.join(", "))})` : ""}</span>`,
      );
    if (s.running.gate === "fails") parts.push(`<div class="now-fails">${label(RUNNING_GATE.fails)}</div>`);
    else if (s.running.gate === "passes")
      parts.push(`<span class="facts">scan gate: ${label(RUNNING_GATE.passes)}</span>`);
  } else {
    parts.push(label(VERIFICATION.none));
  }
  parts.push(`<span class="facts">${h(s.rules.join("; "))}</span>`);
  for (const c of s.waiting) parts.push(candidate(c));
  for (const n of s.notes) parts.push(`<span class="facts">note: ${h(n)}</span>`);
  return `<td class="cell" data-stage="${h(s.name)}" data-lane="${h(lane)}" data-verification="${s.verification}" data-gate="${s.running.gate}">${parts.join("\n")}</td>`;
}

function candidate(c: Candidate): string {
  const state = c.ready ? CANDIDATE.ready : CANDIDATE.blocked;
  const facts = candidateFacts(c);
  return `<div class="waiting" data-release="${h(c.release)}" data-ready="${c.ready}">waiting <code>${h(shortId(c.release))}</code> ${label(state)}${facts.length ? `<span class="facts">${h(facts.join("; "))}</span>` : ""}${c.blockers.length ? `<ul class="blockers">${c.blockers.map((b) => `<li data-rule="${h(b.rule)}"><span class="rule">[${h(b.rule)}]</span> ${h(b.message)}</li>`).join("")}</ul>` : ""}</div>`;
}

function laneTimeline(lane: LaneView): string {
  if (lane.error) return `<h3>${h(lane.name)}</h3><p>${h(lane.error)}</p>`;
  const chain = lane.chain.intact
    ? label({ symbol: "✓", word: "chain intact", tone: "ok" })
    : label({ symbol: "✗", word: "chain broken", tone: "bad" });
  const rows = lane.timeline.map(
    (t) =>
      `<tr><td>${h(when(t.at))}</td><td>${h(t.stage)}</td><td>${h(t.kind)}</td><td><code title="${h(t.release)}">${h(shortId(t.release))}</code></td><td>${h(who(t.by))}</td><td>${h(t.detail)}</td></tr>`,
  );
  return `<section class="lane-timeline" data-lane="${h(lane.name)}"><h3>${h(lane.name)} ${chain}</h3>${rows.length ? `<table class="timeline"><thead><tr><th scope="col">time</th><th scope="col">stage</th><th scope="col">event</th><th scope="col">release</th><th scope="col">by</th><th scope="col">detail</th></tr></thead><tbody>${rows.join("")}</tbody></table>` : "<p>No record yet.</p>"}</section>`;
}
