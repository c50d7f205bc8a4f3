// Sources of ordinary rooms through the tRPC procedures the console calls: admins of the room's app
// (and platform admins) add, edit, remove and probe; other roles are FORBIDDEN, other apps NOT_FOUND;
// URLs are checked (scheme, outbound rules) with a rule the console can say, stored sealed, shown as
// scheme and host, and never written to the audit log; "probe now" reads a real HLS source and
// answers SOURCE_FAILED with the reason for a dead or locked one.
import { eq, like } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/lib/ports";
import { callerOf, makeTenant, uniq, type Tenant } from "../../test/helpers";
import { startHlsSource } from "../../test/sources";
import { getDb } from "../db/client";
import { auditLog, streamSources } from "../db/schema";
import { resetEnvForTests } from "../env";

let A: Tenant;
let B: Tenant;
let hls: Awaited<ReturnType<typeof startHlsSource>>;

beforeAll(async () => {
  process.env.OUTBOUND_ALLOW = "127.0.0.1";
  resetEnvForTests();
  [A, B, hls] = await Promise.all([makeTenant(), makeTenant(), startHlsSource({ seconds: 120 })]);
});
afterAll(async () => {
  await hls?.stop();
  delete process.env.OUTBOUND_ALLOW;
  resetEnvForTests();
});

const newRoom = () => callerOf(A.host).rooms.create({ title: uniq("sourced") });
/** The tRPC error's domain code, its field rules, and its details. */
async function failure(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    const cause = (e as { cause?: { code?: string; details?: Record<string, unknown> } }).cause;
    return {
      code: cause?.code,
      details: cause?.details as { rules?: Record<string, { rule?: string }> } & Record<string, unknown>,
    };
  }
  throw new Error("expected a failure");
}

describe("sources of ordinary rooms (tRPC)", () => {
  it("an admin adds a source with credentials: stored sealed, shown as scheme and host, not audited in full", async () => {
    const room = await newRoom();
    const url = `rtsp://admin:s3cret-pw@127.0.0.1:8554/Streaming/Channels/101?auth=tok3n`;
    const view = await callerOf(A.admin).sources.set({ room: room.id, url, mode: "on_demand" });
    expect(view).toMatchObject({ kind: "main", url: "rtsp://127.0.0.1:8554", mode: "on_demand", state: "idle" });
    expect(JSON.stringify(view)).not.toMatch(/s3cret|tok3n|Channels/);
    const [row] = await getDb().select().from(streamSources).where(eq(streamSources.roomNum, room.num));
    expect(row!.urlEnc).not.toMatch(/s3cret|tok3n/);
    const audits = await getDb().select().from(auditLog).where(like(auditLog.action, "source.%"));
    expect(audits.some((a) => a.targetId === String(room.num))).toBe(true);
    expect(JSON.stringify(audits)).not.toMatch(/s3cret|tok3n/);
    // The room's own list, for its admin and a platform admin.
    expect(await callerOf(A.admin).sources.list({ room: room.id })).toEqual([view]);
    expect(await callerOf(A.root).sources.list({ room: room.num })).toEqual([view]);
  });

  it("edits the mode without re-sending the URL, adds a sub source, removes each", async () => {
    const room = await newRoom();
    const admin = callerOf(A.admin);
    await admin.sources.set({ room: room.id, url: hls.url });
    const edited = await admin.sources.set({ room: room.id, mode: "always_on" });
    expect(edited).toMatchObject({ url: `http://127.0.0.1:${hls.port}`, mode: "always_on" });
    const [row] = await getDb().select().from(streamSources).where(eq(streamSources.roomNum, room.num));
    expect(row!.mode).toBe("always_on");
    await admin.sources.set({ room: room.id, kind: "sub", url: hls.url });
    expect((await admin.sources.list({ room: room.id })).map((s) => s.kind)).toEqual(["main", "sub"]);
    await admin.sources.remove({ room: room.id, kind: "sub" });
    await admin.sources.remove({ room: room.id });
    expect(await admin.sources.list({ room: room.id })).toEqual([]);
    expect((await failure(admin.sources.remove({ room: room.id }))).code).toBe("NOT_FOUND");
    // Nothing to edit: a new source needs its URL.
    const noUrl = await failure(admin.sources.set({ room: room.id, mode: "on_demand" }));
    expect(noUrl.code).toBe("BAD_REQUEST");
    expect(noUrl.details.rules?.url).toMatchObject({ code: "too_small" });
  });

  it("refuses bad URLs with a rule the console can say, and changes nothing", async () => {
    const room = await newRoom();
    const admin = callerOf(A.admin);
    for (const url of ["file:///etc/passwd", "concat:a|b", "not a url", "ftp://127.0.0.1/x"]) {
      const f = await failure(admin.sources.set({ room: room.id, url }));
      expect(f.code, url).toBe("BAD_REQUEST");
      expect(f.details.rules?.url?.rule, url).toBe("source_url");
    }
    // An address the outbound rules refuse (a private network not in OUTBOUND_ALLOW).
    const f = await failure(admin.sources.set({ room: room.id, url: "rtsp://192.168.7.20:554/x" }));
    expect(f.code).toBe("BAD_REQUEST");
    expect(f.details.rules?.url?.rule).toBe("source_address");
    expect(await admin.sources.list({ room: room.id })).toEqual([]);
    // An ended room's source does not change.
    await callerOf(A.host).rooms.start({ room: room.id });
    await callerOf(A.host).rooms.stop({ room: room.id });
    expect((await failure(admin.sources.set({ room: room.id, url: hls.url }))).code).toBe("ILLEGAL_TRANSITION");
  });

  it("is the app admins' own: hosts and viewers FORBIDDEN, another app's admin and host do not find it", async () => {
    const room = await newRoom();
    await callerOf(A.admin).sources.set({ room: room.id, url: hls.url });
    const calls = (who: Parameters<typeof callerOf>[0]) => {
      const c = callerOf(who).sources;
      return [
        () => c.list({ room: room.id }),
        () => c.set({ room: room.id, url: `${hls.url}?x=1` }),
        () => c.set({ room: room.id, mode: "always_on" }),
        () => c.remove({ room: room.id }),
        () => c.probe({ room: room.id }),
      ];
    };
    for (const who of [A.host, A.host2, A.viewer, B.host, B.viewer])
      for (const call of calls(who)) expect((await failure(call())).code).toBe("FORBIDDEN");
    for (const call of calls(B.admin)) expect((await failure(call())).code).toBe("NOT_FOUND");
    for (const call of calls({ kind: "anonymous" })) expect((await failure(call())).code).toBe("UNAUTHENTICATED");
    // None of them changed it.
    const [row] = await getDb().select().from(streamSources).where(eq(streamSources.roomNum, room.num));
    expect(row).toMatchObject({ mode: "on_demand", urlShown: `http://127.0.0.1:${hls.port}` });
  });

  it("probes now: codecs, size and frame rate of a real HLS source; SOURCE_FAILED says why, within the timeout", async () => {
    const room = await newRoom();
    const admin = callerOf(A.admin);
    await admin.sources.set({ room: room.id, url: hls.url });
    const probe = await admin.sources.probe({ room: room.id });
    expect(probe).toMatchObject({ video: "h264", audio: "aac", width: 320, height: 240, fps: 25 });
    expect(probe.ms).toBeLessThan(3000);
    // Nothing listens there.
    await admin.sources.set({ room: room.id, url: `rtmp://127.0.0.1:${await freePort()}/live/cam` });
    let started = Date.now();
    const dead = await failure(admin.sources.probe({ room: room.id }));
    expect(Date.now() - started).toBeLessThan(3500);
    expect(dead).toMatchObject({ code: "SOURCE_FAILED", details: { reason: "unreachable" } });
    // The camera refuses the credentials.
    await admin.sources.set({ room: room.id, url: `http://cam:wrong@127.0.0.1:${hls.port}/locked/index.m3u8` });
    started = Date.now();
    const locked = await failure(admin.sources.probe({ room: room.id }));
    expect(Date.now() - started).toBeLessThan(3500);
    expect(locked).toMatchObject({ code: "SOURCE_FAILED", details: { reason: "auth failed" } });
    expect(JSON.stringify(locked)).not.toContain("wrong");
  });
});
