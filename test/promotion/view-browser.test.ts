import * as fs from "node:fs";
import * as path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { renderHtml } from "../../promotion/view/html";
import type { PromotionView } from "../../promotion/view/model";
import { removeTempProjects } from "./fixtures";
import { viewScenario, type Scenario } from "./view-scenario";

/**
 * The HTML promotion view in a real headless Chromium (Debian's `chromium` or
 * `chromium-headless-shell`, which .ci/run installs), driven by playwright-core. Outside CI a machine
 * without Chromium skips these tests and says so; under CI=true a missing Chromium fails them.
 */
const CANDIDATES = process.env.CHROMIUM_PATH
  ? [process.env.CHROMIUM_PATH]
  : [
      "/usr/bin/chromium",
      "/usr/bin/chromium-headless-shell",
      "/usr/lib/chromium/chromium",
      "/usr/lib/chromium/chrome-headless-shell",
    ];
const executable = CANDIDATES.find((p) => fs.existsSync(p));
const inCi = process.env.CI === "true";

/** Where the screenshots go: the test output (test-output/, not committed) and, on request, README's docs/img. */
const OUTPUT = path.resolve(__dirname, "../../test-output/promotion-view");
const README_SHOT = path.resolve(__dirname, "../../docs/img/promotion-view.png");

if (!executable && !inCi) {
  console.warn(
    `view-browser: no Chromium at ${CANDIDATES.join(", ")}; skipped (apt-get install -y chromium, or set CHROMIUM_PATH). Under CI=true this fails.`,
  );
}
const suite = executable || inCi ? describe : describe.skip;

suite("the promotion view in headless Chromium", () => {
  let browser: Browser;
  let s: Scenario;
  let view: PromotionView;
  let file: string;

  beforeAll(async () => {
    if (!executable)
      throw new Error(
        `CI=true and no Chromium executable at ${CANDIDATES.join(", ")}: .ci/run installs Debian's chromium (apt-get install -y chromium)`,
      );
    s = await viewScenario();
    view = await s.view();
    file = path.join(s.h.dir, "status.html");
    expect(await s.h.cliRaw("status", "--html", file)).toBe(0);
    browser = await chromium.launch({ executablePath: executable, args: ["--no-sandbox"] });
    fs.mkdirSync(OUTPUT, { recursive: true });
    fs.copyFileSync(file, path.join(OUTPUT, "status.html"));
  });
  afterAll(async () => {
    await browser?.close();
    removeTempProjects();
  });

  /** Opens the page with every request routed (and refused): returns what was asked and what the console said. */
  async function open(viewport: {
    width: number;
    height: number;
  }): Promise<{ page: Page; requests: string[]; console: string[] }> {
    const page = await browser.newPage({ viewport });
    const requests: string[] = [];
    const messages: string[] = [];
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (url === `file://${file}`) return route.continue();
      requests.push(url);
      return route.abort();
    });
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") messages.push(`${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => messages.push(`pageerror: ${e.message}`));
    page.on("requestfailed", (r) => {
      if (r.url() !== `file://${file}`) requests.push(r.url());
    });
    await page.goto(`file://${file}`, { waitUntil: "load" });
    return { page, requests, console: messages };
  }

  it("shows every lane and every stage, the blockers in words, and the failing gate, with no console error and no request", async () => {
    const { page, requests, console: messages } = await open({ width: 1280, height: 900 });
    const lanes = await page.$$eval("table.matrix tbody tr", (rows) => rows.map((r) => r.getAttribute("data-lane")));
    expect(lanes).toEqual(["payments", "shop"]);
    const heads = await page.$$eval("table.matrix thead th", (th) =>
      th.map((t) => t.childNodes[0]?.textContent?.trim()),
    );
    expect(heads).toEqual(["lane", "dev", "staging", "prod", "prod-gke"]);
    for (const lane of ["payments", "shop"]) {
      const cells = await page.$$eval(`tr[data-lane="${lane}"] td.cell`, (tds) =>
        tds.map((t) => t.getAttribute("data-stage")),
      );
      expect(cells).toEqual(["dev", "staging", "prod", "prod-gke"]);
    }
    const prod = page.locator('tr[data-lane="shop"] td[data-stage="prod"]');
    await expect(prod.innerText()).resolves.toMatch(/verified[\s\S]*⚠ running, now fails the gate/);
    const blockers = await page.$$eval('tr[data-lane="shop"] td[data-stage="prod-gke"] .blockers li', (lis) =>
      lis.map((l) => [l.getAttribute("data-rule"), l.textContent ?? ""]),
    );
    expect(blockers.map(([rule]) => rule)).toEqual(["approval", "vulnerabilities", "registry"]);
    expect(blockers[0][1]).toContain("needs 1 approval(s) for prod-gke, has 0");
    await expect(page.locator('tr[data-lane="payments"] td[data-stage="dev"]').innerText()).resolves.toContain(
      "✗ verification failed",
    );
    await expect(page.locator("#now-fails").innerText()).resolves.toContain("running, now fails the gate");
    await expect(page.locator("#chain").innerText()).resolves.toContain("History chains intact");
    const timeline = await page.locator('section.lane-timeline[data-lane="shop"]').innerText();
    expect(timeline).toMatch(/prod\s+approval\s+r-[0-9a-f]{8}\s+Alice\s+reason: change ticket CHG-1042/);
    expect(messages).toEqual([]);
    expect(requests).toEqual([]);
    await page.screenshot({ path: path.join(OUTPUT, "desktop.png"), fullPage: true });
    // README's picture: written on request only, so a test run leaves the working tree as it was.
    const top = { fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 1800 } };
    await page.screenshot({ path: path.join(OUTPUT, "readme.png"), ...top });
    if (process.env.BLUEPRINT_UPDATE_SCREENSHOTS === "1") await page.screenshot({ path: README_SHOT, ...top });
    await page.close();
  });

  it("has README's screenshot committed (BLUEPRINT_UPDATE_SCREENSHOTS=1 rewrites it)", () => {
    const png = fs.readFileSync(README_SHOT);
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1280, 1800]);
  });

  it("gives every state a word and a symbol, not only a colour", async () => {
    const { page } = await open({ width: 1280, height: 900 });
    const states = await page.$$eval("td.cell .state", (els) =>
      els.map((e) => ({ sym: e.querySelector(".sym")?.textContent ?? "", text: (e.textContent ?? "").trim() })),
    );
    expect(states.length).toBeGreaterThan(8);
    for (const st of states) {
      expect(st.sym.trim()).not.toBe("");
      expect(st.text.replace(st.sym, "").trim()).toMatch(/^[a-z]/);
    }
    await page.close();
  });

  it("reads on a phone without sideways scrolling", async () => {
    const { page } = await open({ width: 390, height: 844 });
    const { scroll, width } = (await page.evaluate(
      "({ scroll: document.documentElement.scrollWidth, width: window.innerWidth })",
    )) as { scroll: number; width: number };
    expect(scroll).toBeLessThanOrEqual(width);
    await expect(page.locator('tr[data-lane="shop"] td[data-stage="prod"]').innerText()).resolves.toMatch(/^prod\n/);
    await page.screenshot({ path: path.join(OUTPUT, "phone.png"), fullPage: true });
    await page.close();
  });

  it("prints on A4 within the page width", async () => {
    const { page } = await open({ width: 1280, height: 900 });
    await page.emulateMedia({ media: "print" });
    // A4 is 210 mm wide; less 2 x 12 mm margins, 186 mm = 703 CSS px at 96 px per inch.
    await page.setViewportSize({ width: 703, height: 1000 });
    const scroll = (await page.evaluate("document.documentElement.scrollWidth")) as number;
    expect(scroll).toBeLessThanOrEqual(703);
    const pdf = await page.pdf({ format: "A4", preferCSSPageSize: true });
    expect(pdf.subarray(0, 5).toString()).toBe("%PDF-");
    await page.close();
  });

  it("shows a broken chain with the file, on a page built from a view whose chain is broken", async () => {
    const broken: PromotionView = {
      ...view,
      chain: {
        intact: false,
        problems: ["lane shop: stacks/history/shop/prod/000001-approval-x.json: edited after it was written"],
      },
    };
    fs.writeFileSync(file, renderHtml(broken));
    const { page, requests, console: messages } = await open({ width: 1280, height: 900 });
    await expect(page.locator("#chain").getAttribute("data-intact")).resolves.toBe("false");
    await expect(page.locator("#chain").innerText()).resolves.toMatch(
      /✗\s+History chains BROKEN[\s\S]*000001-approval-x\.json: edited/,
    );
    expect([messages, requests]).toEqual([[], []]);
    await page.close();
  });
});
