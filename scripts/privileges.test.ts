// Handing files to the unprivileged account as root: the walk never follows a link and never
// enters a folder that account could change, so it cannot trick root into giving away other files.
import {
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { chownTree, lookupUser, privilegedPorts } from "./lib/privileges";

const asRoot = process.getuid?.() === 0;
const base = mkdtempSync(join(tmpdir(), "onair-chown-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const uid = (p: string) => lstatSync(p).uid;

describe("chownTree", () => {
  it.skipIf(!asRoot)("gives a root-made tree away without following links or entering the account's folders", () => {
    const nobody = lookupUser("nobody")!;
    expect(nobody.uid).toBeGreaterThan(0);
    const victim = join(base, "victim");
    writeFileSync(victim, "root's");
    const tree = join(base, "media");
    mkdirSync(join(tree, "hls", "s1"), { recursive: true });
    writeFileSync(join(tree, "hls", "s1", "seg.ts"), "x");
    symlinkSync(victim, join(tree, "hls", "link"));
    // A folder the account already owns: what lies in it is left alone.
    mkdirSync(join(tree, "theirs"));
    writeFileSync(join(tree, "theirs", "inner"), "x");
    chownSync(join(tree, "theirs"), nobody.uid, nobody.gid);

    chownTree(tree, nobody, true);
    for (const p of ["", "hls", "hls/s1", "hls/s1/seg.ts", "hls/link"]) expect(uid(join(tree, p)), p).toBe(nobody.uid);
    expect(uid(victim)).toBe(0);
    expect(uid(join(tree, "theirs", "inner"))).toBe(0);

    // Below a folder the account could change, only the named folder itself is given away.
    const shared = join(base, "shared");
    mkdirSync(join(shared, "media", "sub"), { recursive: true });
    chownSync(shared, nobody.uid, nobody.gid);
    chownTree(join(shared, "media"), nobody, true);
    expect(uid(join(shared, "media"))).toBe(nobody.uid);
    expect(uid(join(shared, "media", "sub"))).toBe(0);
  });
});

describe("privilegedPorts", () => {
  it("names the ports an unprivileged user may not listen on", () => {
    const file = "/proc/sys/net/ipv4/ip_unprivileged_port_start";
    const first = existsSync(file) ? Number(readFileSync(file, "utf8").trim()) : 1024;
    expect(
      privilegedPorts([
        ["PORT", 80],
        ["WEB_PORT", 3001],
        ["MEDIA_HTTP_PORT", 0],
      ]),
    ).toEqual(first > 80 ? [["PORT", 80]] : []);
  });
});
