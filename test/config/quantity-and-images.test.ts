import { formatQuantity, isQuantity, parseQuantity } from "../../lib/quantity";
import { isPinned, parsePinnedImage } from "../../lib/images";

const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;

describe("quantities", () => {
  it.each([
    ["250m", 0.25],
    ["2", 2],
    [1.5, 1.5],
    ["512Mi", 512 * 2 ** 20],
    ["1Gi", 2 ** 30],
    ["2G", 2e9],
    ["1e3", 1000],
    ["100k", 1e5],
  ] as const)("parses %s", (q, expected) => expect(parseQuantity(q)).toBeCloseTo(expected, 9));

  it.each([["1.5 Gi"], ["ten"], ["-1"], ["1Gb"], [""], ["Mi"]])("refuses %s", (q) => expect(isQuantity(q)).toBe(false));

  it("formats cpu as millicores and bytes in the largest exact binary unit", () => {
    expect(formatQuantity(1.8, "cpu")).toBe("1800m");
    expect(formatQuantity(3 * 2 ** 30, "bytes")).toBe("3Gi");
    expect(formatQuantity(1536 * 2 ** 20, "bytes")).toBe("1536Mi");
    expect(formatQuantity(7, "count")).toBe("7");
  });
});

describe("pinned image references", () => {
  it.each([
    [`ghcr.io/acme/web@${DIGEST}`, "ghcr.io/acme/web"],
    [`localhost:5000/web@${DIGEST}`, "localhost:5000/web"],
    [
      `123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web@${DIGEST}`,
      "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web",
    ],
    [`nginx@${DIGEST}`, "nginx"],
  ])("accepts %s", (ref, repo) => {
    const p = parsePinnedImage(ref);
    expect(isPinned(p) && p.repository).toBe(repo);
    expect(isPinned(p) && p.digest).toBe(DIGEST);
  });

  it("refuses a tag, naming the form that is allowed", () => {
    expect(parsePinnedImage("ghcr.io/acme/web:latest")).toEqual({
      error: 'must be pinned by digest (repo@sha256:<64 hex>), not by tag: got "ghcr.io/acme/web:latest"',
    });
  });

  it("refuses a tag even next to a digest", () => {
    expect(isPinned(parsePinnedImage(`ghcr.io/acme/web:1.2@${DIGEST}`))).toBe(false);
  });

  it.each([
    ["ghcr.io/acme/web@sha256:abc"],
    [`ghcr.io/acme/web@sha256:${"A".repeat(64)}`],
    [`ghcr.io/acme/web@md5:${"a".repeat(64)}`],
  ])("refuses the malformed digest %s", (ref) => {
    const p = parsePinnedImage(ref);
    expect(isPinned(p)).toBe(false);
    expect(!isPinned(p) && p.error).toMatch(/malformed digest/);
  });

  it("refuses a bare name", () => {
    expect(!isPinned(parsePinnedImage("web")) && parsePinnedImage("web")).toEqual({
      error: 'must be pinned by digest (repo@sha256:<64 hex>): got "web"',
    });
  });
});
