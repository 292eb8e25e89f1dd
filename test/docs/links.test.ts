import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Every relative link in README.md and docs/ points at a file of this repository, and every
 * `#anchor` at a heading of the file it names (GitHub's heading slugs). External links are not
 * fetched: there is no network here.
 */
const ROOT = path.join(__dirname, "..", "..");

function markdownFiles(): string[] {
  const docs = path.join(ROOT, "docs");
  const pages = fs.existsSync(docs)
    ? fs
        .readdirSync(docs, { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".md"))
        .map((f) => path.join("docs", f))
    : [];
  return ["README.md", ...pages.sort()];
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to '-', repeats numbered. */
function headingSlugs(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const slugs = new Set<string>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const m = !fenced && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = m[1]
      .toLowerCase()
      .replace(/`/g, "")
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    slugs.add(n === 0 ? base : `${base}-${n}`);
  }
  return slugs;
}

function links(markdown: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    for (const m of line.replace(/`[^`]*`/g, "").matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) out.push(m[1]);
  }
  return out;
}

describe("documentation links", () => {
  it("computes GitHub's heading anchors, numbering repeats and dropping punctuation", () => {
    expect([
      ...headingSlugs(
        "# Two commands\n## Clusters: EKS, GKE or an existing cluster\n## `npm run status`\n## Figures\n## Figures\n```\n# not a heading\n```",
      ),
    ]).toEqual(["two-commands", "clusters-eks-gke-or-an-existing-cluster", "npm-run-status", "figures", "figures-1"]);
  });

  const files = markdownFiles();
  it.each(files)("%s links only to files and headings that exist", (file) => {
    const text = fs.readFileSync(path.join(ROOT, file), "utf8");
    const broken: string[] = [];
    for (const link of links(text)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue;
      const [target, anchor] = link.split("#", 2);
      const resolved =
        target === ""
          ? path.join(ROOT, file)
          : path.resolve(path.dirname(path.join(ROOT, file)), decodeURIComponent(target));
      if (!resolved.startsWith(ROOT + path.sep) || !fs.existsSync(resolved)) {
        broken.push(`${link} (no such file)`);
        continue;
      }
      if (anchor && resolved.endsWith(".md") && !headingSlugs(fs.readFileSync(resolved, "utf8")).has(anchor))
        broken.push(`${link} (no such heading)`);
    }
    expect(broken).toEqual([]);
  });
});
