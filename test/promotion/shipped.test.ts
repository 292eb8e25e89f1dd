import * as fs from "node:fs";
import { readPointer } from "../../promotion/pointer";
import { stageFile, openWorkspace } from "../../promotion/workspace";
import { PROJECT_DIR } from "../helpers/program";

describe("the shipped promotion files", () => {
  const ws = openWorkspace(PROJECT_DIR);

  it("define dev -> staging -> prod, and prod-gke fed from staging through its own registry", () => {
    expect(ws.stages.ordered.map((s) => [s.name, s.from])).toEqual([["dev", []], ["staging", ["dev"]], ["prod", ["staging"]], ["prod-gke", ["staging"]]]);
    expect(ws.stages.get("prod-gke").registry).toMatch(/^[a-z0-9-]+-docker\.pkg\.dev\/[a-z0-9-]+\/[a-z0-9-]+$/);
  });

  it.each(openWorkspace(PROJECT_DIR).stages.ordered.map((s) => s.name))("%s names a release whose file exists and whose images the stack file carries exactly", (name) => {
    const stage = ws.stages.get(name);
    const file = stageFile(ws, stage);
    expect(fs.existsSync(file)).toBe(true);
    const { pointer } = readPointer(file, name);
    expect(pointer).toBeDefined();
    if (pointer?.id === undefined) return;
    expect(pointer.images).toEqual(ws.releases.get(pointer.id).images);
  });

  it("keep a history every record of which is valid, in unbroken chains", () => {
    expect(() => ws.history.list()).not.toThrow();
    expect(ws.history.read().problems).toEqual([]);
  });

  it("start from r-61909ab161ac promoted to dev, and to staging with a recorded override, with no verification and no approval", () => {
    const records = ws.history.list();
    expect(records.map((r) => [r.stage, r.kind, r.release])).toEqual([["dev", "promotion", "r-61909ab161ac"], ["staging", "promotion", "r-61909ab161ac"]]);
    const staging = records[1];
    expect(staging.kind === "promotion" && staging.overridden?.map((o) => o.rule)).toEqual(["verified-upstream"]);
    expect(staging.reason).toMatch(/\S/);
  });
});
