import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../../lib/errors";

describe("ConfigError, defined without the Pulumi SDK", () => {
  it("is a RunError to Pulumi, so `pulumi up` prints its message without a stack trace", () => {
    const e = new ConfigError("stacks/Pulumi.dev.shop.yaml", [{ key: "blueprint:apps", message: "must not be empty" }]);
    expect(pulumi.RunError.isInstance(e)).toBe(true);
    expect(e).toBeInstanceOf(Error);
    expect(e.message).toBe(
      "1 configuration problem in stacks/Pulumi.dev.shop.yaml:\nstacks/Pulumi.dev.shop.yaml: blueprint:apps must not be empty",
    );
  });

  it("leaves other errors to Pulumi's stack trace", () => {
    expect(pulumi.RunError.isInstance(new Error("boom"))).toBe(false);
  });
});
