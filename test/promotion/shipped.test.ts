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

  it("keep a history every record of which is valid", () => {
    expect(() => ws.history.list()).not.toThrow();
  });
});
