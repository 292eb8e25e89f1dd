import { Writable } from "node:stream";
import { formatSeconds, startProgress } from "../../tools/progress";
import { renderProgress, stackDone } from "../../tools/render-progress";

/** A stream that says it is (or is not) a terminal and keeps what is written to it. */
function fakeStream(isTTY: boolean): Writable & { isTTY: boolean; columns: number; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  }) as Writable & {
    isTTY: boolean;
    columns: number;
    text: () => string;
    cursorTo: unknown;
    moveCursor: unknown;
    clearLine: unknown;
    clearScreenDown: unknown;
  };
  stream.isTTY = isTTY;
  stream.columns = 200;
  // What readline calls on a terminal stream (cli-progress moves the cursor through readline).
  stream.cursorTo = (x: number, y?: number, cb?: () => void) => (
    stream.write(`\x1b[${(y ?? 0) + 1};${x + 1}H`),
    cb?.(),
    true
  );
  stream.moveCursor = (dx: number, dy: number, cb?: () => void) => (
    stream.write(`\x1b[${dy}A\x1b[${dx}C`),
    cb?.(),
    true
  );
  stream.clearLine = (_dir: number, cb?: () => void) => (stream.write("\x1b[2K"), cb?.(), true);
  stream.clearScreenDown = (cb?: () => void) => (stream.write("\x1b[0J"), cb?.(), true);
  stream.text = () => chunks.join("");
  return stream;
}

/** The text a terminal would show, escape sequences left out. */
const visible = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, "");

describe("progress on a terminal", () => {
  it("shows steps done of the total, the time elapsed and the slowest step so far, drawn with escape codes", () => {
    const tty = fakeStream(true);
    let t = 0;
    const p = startProgress(3, { stream: tty, label: "render dev", unit: "stacks", now: () => t, fps: 1 });
    expect(p.drawing).toBe(true);
    t = 2_100;
    p.done({ name: "dev.platform" });
    t = 2_600;
    p.done({ name: "dev.payments", ms: 400 });
    const shown = visible(tty.text());
    expect(shown).toContain("render dev [");
    expect(shown).toMatch(/2\/3 stacks \| 2\.6 s \| slowest so far dev\.platform 2\.1 s/);
    expect(tty.text()).toMatch(/\x1b\[/);
    p.stop();
  });

  it("names a slower step when one finishes, and counts failed steps", () => {
    const tty = fakeStream(true);
    let t = 0;
    const p = startProgress(3, { stream: tty, label: "render prod", unit: "stacks", now: () => t, fps: 1 });
    t = 1_000;
    p.done({ name: "prod.platform" });
    t = 5_000;
    p.done({ name: "prod.shop", ms: 4_000, ok: false });
    expect(visible(tty.text())).toMatch(/2\/3 stacks, 1 failed \| 5\.0 s \| slowest so far prod\.shop 4\.0 s/);
    p.stop();
  });

  it("prints log lines above the bar, and clears the bar when it stops", () => {
    const tty = fakeStream(true);
    const p = startProgress(2, { stream: tty, label: "bench", unit: "runs", now: () => 0, fps: 1 });
    p.log("bench: 10 apps: ours, run 1/3");
    p.done({ name: "ours 10 apps", ms: 1 });
    const before = tty.text().length;
    p.stop();
    p.stop();
    expect(visible(tty.text())).toContain("bench: 10 apps: ours, run 1/3\n");
    // Stopping clears the bar's line and shows the cursor again (and does so once).
    expect(tty.text().slice(before)).toMatch(/\x1b\[\?25h/);
    expect(
      tty
        .text()
        .slice(before)
        .match(/\x1b\[\?25h/g),
    ).toHaveLength(1);
    p.log("after");
    expect(tty.text().endsWith("after\n")).toBe(true);
  });
});

describe("progress elsewhere", () => {
  it("draws nothing when the stream is not a terminal, and passes log lines through unchanged", () => {
    const pipe = fakeStream(false);
    const p = startProgress(3, { stream: pipe, label: "render dev", unit: "stacks" });
    expect(p.drawing).toBe(false);
    p.done({ name: "dev.platform" });
    p.log("bench: 10 apps: ours, run 1/3");
    p.stop();
    expect(pipe.text()).toBe("bench: 10 apps: ours, run 1/3\n");
  });

  it("draws nothing with --quiet, even on a terminal", () => {
    const tty = fakeStream(true);
    const p = startProgress(3, { stream: tty, label: "render dev", unit: "stacks", quiet: true });
    p.done({ name: "dev.platform" });
    p.stop();
    expect([p.drawing, tty.text()]).toEqual([false, ""]);
  });

  it("draws nothing when there is nothing to count", () => {
    const tty = fakeStream(true);
    const p = startProgress(0, { stream: tty, label: "render dev", unit: "stacks" });
    p.stop();
    expect([p.drawing, tty.text()]).toEqual([false, ""]);
  });
});

describe("durations on the bar", () => {
  it("reads in seconds under a minute and in minutes above", () => {
    expect([
      formatSeconds(0),
      formatSeconds(2_149),
      formatSeconds(59_940),
      formatSeconds(125_000),
      formatSeconds(-5),
    ]).toEqual(["0.0 s", "2.1 s", "59.9 s", "2 min 05 s", "0.0 s"]);
  });
});

describe("the environment render's progress", () => {
  it("draws on stderr only when stdout and stderr are both terminals and --quiet is not given", () => {
    const cases: [boolean, boolean, boolean, boolean][] = [
      [true, true, false, true],
      [false, true, false, false],
      [true, false, false, false],
      [true, true, true, false],
    ];
    for (const [stdoutTTY, stderrTTY, quiet, drawing] of cases) {
      const stderr = fakeStream(stderrTTY);
      const p = renderProgress("dev", 3, quiet, { stdout: { isTTY: stdoutTTY }, stderr });
      stackDone(p, { stack: "dev.platform", ok: true }, 1_000);
      p.stop();
      expect([stdoutTTY, stderrTTY, quiet, p.drawing, visible(stderr.text()).includes("render dev [")]).toEqual([
        stdoutTTY,
        stderrTTY,
        quiet,
        drawing,
        drawing,
      ]);
    }
  });
});
