// Recordings can never make the server read a file it should not: clients set neither a file nor
// a status, and the VOD route serves only regular files inside the recordings folder.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../db/client";
import { recordings } from "../db/schema";
import { servableRecording } from "../front/media";
import { recordingsDir } from "../media/recorder";
import { callerOf, makeTenant, mediaRoutes, serve, type Tenant } from "../../test/helpers";

let t: Tenant;
let server: Awaited<ReturnType<typeof serve>>;
let base: string;
beforeAll(async () => {
  t = await makeTenant();
  server = await serve(mediaRoutes());
  base = server.base;
});
afterAll(() => server.close());

async function readyRecordingAt(filePath: string) {
  const host = callerOf(t.host);
  const room = await host.rooms.create({ title: "vod" });
  const rec = await host.recordings.create({ room: room.id, name: "r", url: "https://vod.test/r.mp4" });
  await getDb().update(recordings).set({ filePath, url: "" }).where(eq(recordings.id, rec.id));
  const { url } = await host.media.vodUrl({ id: rec.id });
  return new URL(url).pathname + new URL(url).search;
}

describe("recording files", () => {
  it("a client's report sets neither the file nor the status", async () => {
    const host = callerOf(t.host);
    const room = await host.rooms.create({ title: "report" });
    const sneaky = { room: room.id, name: "x", filePath: "/etc/passwd", status: "ready" } as never;
    const rec = await host.recordings.create(sneaky);
    const row = (await getDb().select().from(recordings).where(eq(recordings.id, rec.id)))[0]!;
    expect(row.filePath).toBe("");
    expect(row.status).toBe("processing");
    // An absolute path is not a URL a client may report either.
    await expect(host.recordings.create({ room: room.id, name: "y", url: "/etc/passwd" })).rejects.toThrow();
  });

  it("VOD serves only regular files inside the recordings folder", async () => {
    const dir = join(recordingsDir(), "test");
    mkdirSync(dir, { recursive: true });
    const inside = join(dir, `${Date.now()}.mp4`);
    writeFileSync(inside, "not really an mp4");
    const outside = join(mkdtempSync(join(tmpdir(), "onair-vod-")), "secret.txt");
    writeFileSync(outside, "secret");
    const link = join(dir, `${Date.now()}-link.mp4`);
    symlinkSync(outside, link);

    expect(servableRecording(inside)).toBeTruthy();
    for (const p of ["/etc/passwd", outside, link, dir, `${dir}/../../../secrets.json`, ""])
      expect(servableRecording(p)).toBeUndefined();

    const ok = await fetch(base + (await readyRecordingAt(inside)));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe("not really an mp4");
    for (const p of ["/etc/passwd", outside, link]) {
      const r = await fetch(base + (await readyRecordingAt(p)));
      expect(r.status).toBe(404);
      expect(await r.text()).not.toContain("root:");
    }
  });
});
