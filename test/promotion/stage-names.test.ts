import { buildStages } from "../../promotion/stages";

describe("stage names that are also JavaScript object members", () => {
  it("refuses a from link to a stage called constructor that is not defined", () => {
    expect(() => buildStages("stages.yaml", { dev: {}, prod: { from: ["constructor"] } })).toThrow(
      'stages.yaml: stages.prod.from names "constructor", which is not a stage (stages: dev, prod)',
    );
  });

  it("accepts a from link to a defined stage", () => {
    expect(buildStages("stages.yaml", { dev: {}, prod: { from: ["dev"] } }).ordered.map((s) => s.name)).toEqual([
      "dev",
      "prod",
    ]);
  });
});
