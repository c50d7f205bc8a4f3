// Recordings can never make the server read a file it should not: clients set neither a file nor
// a status, and the VOD route serves only regular files inside the recordings folder.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { and, eq } from "drizzle-orm";
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

describe("downloads and an ended room's replay", () => {
  /** A room with a ready recording whose file holds `bytes`. */
  async function recorded(name: string, bytes: Buffer) {
    const host = callerOf(t.host);
    const room = await host.rooms.create({ title: "replay" });
    const dir = join(recordingsDir(), "test");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${Date.now()}-${Math.random().toString(16).slice(2)}.mp4`);
    writeFileSync(file, bytes);
    const rec = await host.recordings.create({ room: room.id, name, url: "https://vod.test/r.mp4" });
    await getDb().update(recordings).set({ filePath: file, url: "" }).where(eq(recordings.id, rec.id));
    return { room, rec };
  }
  const path = (url: string) => new URL(url).pathname + new URL(url).search;
  const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));

  it("a manager's download is an attachment named after the recording, with range requests", async () => {
    const { rec } = await recorded('Friday "show" ✨/1', bytes);
    const { url } = await callerOf(t.host).media.downloadUrl({ id: rec.id });
    const full = await fetch(base + path(url));
    expect(full.status).toBe(200);
    expect(full.headers.get("content-disposition")).toBe(
      `attachment; filename="Friday  show  _ 1.mp4"; filename*=UTF-8''Friday%20%20show%20%20%E2%9C%A8%201.mp4`,
    );
    expect(Buffer.from(await full.arrayBuffer()).equals(bytes)).toBe(true);
    const part = await fetch(base + path(url), { headers: { range: "bytes=100-199" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 100-199/1000");
    expect(part.headers.get("content-disposition")).toMatch(/^attachment;/);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(100, 200))).toBe(true);
    expect((await fetch(base + path(url), { headers: { range: "bytes=2000-" } })).status).toBe(416);
    // The admin of the app may too; a play URL plays inline (no attachment).
    expect((await callerOf(t.admin).media.downloadUrl({ id: rec.id })).url).toContain(`/vod/${rec.id}.mp4`);
    const play = await fetch(base + path((await callerOf(t.viewer).media.vodUrl({ id: rec.id })).url));
    expect([play.status, play.headers.get("content-disposition")]).toEqual([200, null]);
  });

  it("other hosts and viewers get no download URL; a token for one recording opens no other", async () => {
    const { rec } = await recorded("mine", bytes);
    const other = await recorded("other", bytes);
    await expect(callerOf(t.host2).media.downloadUrl({ id: rec.id })).rejects.toMatchObject({
      cause: { code: "FORBIDDEN" },
    });
    await expect(callerOf(t.viewer).media.downloadUrl({ id: rec.id })).rejects.toMatchObject({
      cause: { code: "FORBIDDEN" },
    });
    const { url } = await callerOf(t.host).media.downloadUrl({ id: rec.id });
    const token = new URL(url).searchParams.get("token")!;
    expect((await fetch(`${base}/vod/${other.rec.id}.mp4?token=${token}`)).status).toBe(401);
    expect((await fetch(`${base}/vod/${rec.id}.mp4`)).status).toBe(401);
  });

  it("an ended room's watch page gets its ready recordings (visitors included), none before it ends", async () => {
    const { room, rec } = await recorded("the show", bytes);
    const anon = callerOf({ kind: "anonymous" });
    await callerOf(t.host).rooms.start({ room: room.id });
    expect((await anon.media.replay({ room: room.id })).items).toEqual([]);
    await callerOf(t.host).rooms.stop({ room: room.id });
    // One still processing is not offered.
    await callerOf(t.host).recordings.create({ room: room.id, name: "later" });
    const { items, pending } = await anon.media.replay({ room: room.num });
    expect(items.map((i) => [i.id, i.name])).toEqual([[rec.id, "the show"]]);
    // The one still processing is counted (the page looks again while there is one), and the URL's
    // expiry is told (the page renews a URL near it).
    expect(pending).toBe(1);
    expect(items[0]!.expiresAt).toBeGreaterThan(Date.now() + 3_000_000);
    // One processing for over half an hour never finished: not waited for.
    await getDb()
      .update(recordings)
      .set({ createdAt: new Date(Date.now() - 31 * 60_000) })
      .where(and(eq(recordings.roomNum, room.num), eq(recordings.status, "processing")));
    expect((await anon.media.replay({ room: room.num })).pending).toBe(0);
    const res = await fetch(base + path(items[0]!.url));
    expect([res.status, res.headers.get("content-disposition")]).toEqual([200, null]);
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
    await expect(anon.media.replay({ room: 999_999_999 })).rejects.toMatchObject({ cause: { code: "NOT_FOUND" } });
  });
});
