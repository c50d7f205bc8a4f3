// Stray rejections (a promise rejected with nobody to handle it) are logged and the process goes on.
import { describe, expect, it } from "vitest";
import { exited, spawnTs } from "../test/process";

describe("stray rejections", () => {
  it("are logged, and the process keeps running", async () => {
    const p = spawnTs("test/fixtures/stray-rejection.ts", {});
    expect(await exited(p.child)).toBe(0);
    expect(p.output()).toContain("probe: a promise failed with nobody to handle it");
    expect(p.output()).toContain("stray one");
    expect(p.output()).toContain("still running");
  });
});
