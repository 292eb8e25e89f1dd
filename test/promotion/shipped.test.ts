import * as fs from "node:fs";
import * as path from "node:path";
import { readPointer } from "../../promotion/pointer";
import { openProject, stageFile } from "../../promotion/workspace";
import { PROJECT_DIR } from "../helpers/program";
import { INITIAL } from "./fixtures";

describe("the shipped promotion files", () => {
  const project = openProject(PROJECT_DIR);
  const lanes = project.lanes.flatMap((lane) => project.lane(lane).stages.ordered.map((s) => [lane, s.name] as const));

  it("define dev -> staging -> prod, and prod-gke fed from staging through its own registry", () => {
    expect(project.stages.ordered.map((s) => [s.name, s.from])).toEqual([
      ["dev", []],
      ["staging", ["dev"]],
      ["prod", ["staging"]],
      ["prod-gke", ["staging"]],
    ]);
    expect(project.stages.get("prod-gke").registry).toMatch(/^[a-z0-9-]+-docker\.pkg\.dev\/[a-z0-9-]+\/[a-z0-9-]+$/);
  });

  it("have two lanes, shop and payments, and payments' prod stages need two approvals", () => {
    expect(project.lanes).toEqual(["payments", "shop"]);
    expect(project.lane("payments").stages.ordered.map((s) => [s.name, s.approvals])).toEqual([
      ["dev", 0],
      ["staging", 0],
      ["prod", 2],
      ["prod-gke", 2],
    ]);
    expect(project.lane("shop").stages.ordered.map((s) => [s.name, s.approvals])).toEqual([
      ["dev", 0],
      ["staging", 0],
      ["prod", 1],
      ["prod-gke", 1],
    ]);
  });

  it.each(lanes)(
    "lane %s, stage %s: a team stack file whose pointer names the release its history last promoted there, with its images exactly (the initial images where none was)",
    (lane, name) => {
      const ws = project.lane(lane);
      const stage = ws.stages.get(name);
      const file = stageFile(ws, stage);
      expect(path.basename(file)).toBe(`Pulumi.${stage.environment}.${lane}.yaml`);
      const { pointer } = readPointer(file, name, lane);
      // The release the lane's history last promoted to the stage, if any; without one, the stage
      // runs the images the stack file pinned before promotion existed.
      const promoted = ws.history
        .list()
        .filter((r) => r.kind === "promotion" && r.stage === name)
        .at(-1)?.release;
      expect(pointer?.id).toBe(promoted);
      expect(pointer?.images).toEqual(promoted === undefined ? { podinfo: INITIAL } : ws.releases.get(promoted).images);
    },
  );

  it.each(project.lanes)("lane %s keeps a history every record of which is valid, in unbroken chains", (lane) => {
    const ws = project.lane(lane);
    expect(() => ws.history.list()).not.toThrow();
    expect(ws.history.read().problems).toEqual([]);
  });

  it("start lane shop from r-61909ab161ac promoted to dev, and to staging with a recorded override, with no verification and no approval", () => {
    const records = project.lane("shop").history.list();
    expect(records.map((r) => [r.lane, r.stage, r.kind, r.release])).toEqual([
      ["shop", "dev", "promotion", "r-61909ab161ac"],
      ["shop", "staging", "promotion", "r-61909ab161ac"],
    ]);
    const staging = records[1];
    expect(staging.kind === "promotion" && staging.overridden?.map((o) => o.rule)).toEqual(["verified-upstream"]);
    expect(staging.reason).toMatch(/\S/);
    const shop = project.lane("shop");
    expect(shop.stages.ordered.map((s) => readPointer(stageFile(shop, s), s.name, "shop").pointer?.id)).toEqual([
      "r-61909ab161ac",
      "r-61909ab161ac",
      undefined,
      undefined,
    ]);
  });

  it("start lane payments with no release, no record and no release id in any of its stack files", () => {
    const payments = project.lane("payments");
    expect(payments.releases.list()).toEqual([]);
    expect(payments.history.list()).toEqual([]);
    expect(
      payments.stages.ordered.map((s) => readPointer(stageFile(payments, s), s.name, "payments").pointer?.id),
    ).toEqual([undefined, undefined, undefined, undefined]);
  });

  it("keep releases and history only in lanes' folders", () => {
    for (const kind of ["releases", "history"]) {
      const dir = path.join(project.stacksDir, kind);
      expect(fs.readdirSync(dir).filter((f) => !f.startsWith(".") && !project.lanes.includes(f))).toEqual([]);
    }
  });
});
