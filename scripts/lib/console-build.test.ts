// The console is built again when an input is newer than its build, and only then.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { consoleBuildStale } from "./console-build";

const root = mkdtempSync(join(tmpdir(), "onair-build-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const at = (path: string, s: number) => utimesSync(join(root, path), s, s);
const write = (path: string, s: number) => {
  mkdirSync(join(root, path, ".."), { recursive: true });
  writeFileSync(join(root, path), "x");
  at(path, s);
};

describe("console build", () => {
  it("is built when there is no build, again when an input is newer, not for tests or compiled output", () => {
    write("server/rooms/find.ts", 1000);
    write("app/page.tsx", 1000);
    write("package-lock.json", 1000);
    expect(consoleBuildStale(root)).toBe("no build yet");
    write(".next/BUILD_ID", 2000);
    expect(consoleBuildStale(root)).toBeUndefined();
    write("server/rooms/find.test.ts", 3000);
    write("server/.build/front.mjs", 3000);
    expect(consoleBuildStale(root)).toBeUndefined();
    at("server/rooms/find.ts", 3000);
    expect(consoleBuildStale(root)).toMatch(/server\/rooms\/find\.ts changed/);
    at(".next/BUILD_ID", 4000);
    write("package-lock.json", 5000);
    expect(consoleBuildStale(root)).toMatch(/package-lock\.json/);
  });
});
