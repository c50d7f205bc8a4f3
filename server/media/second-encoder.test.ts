// A second encoder on a live room's stream. Through a real nginx-rtmp: nginx sends its publish hook
// before it finds the stream busy, then reports the refused connection's end. With its /stat known
// (MEDIA_NGINX_STAT_URL) onair refuses the newcomer as busy and the room stays on the air with the
// first encoder; the first one's end still pauses it. Through the embedded server of one instance
// while another instance's node has the room's publisher: refused while that node's lease holds.
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../clock";
import { getDb } from "../db/client";
import { mediaNodes, rooms } from "../db/schema";
import { env, resetEnvForTests } from "../env";
import { callerOf, makeTenant, mediaRoutes, serve } from "../../test/helpers";
import { exited, freePort, startNginxRtmp } from "../../test/process";
import { until, wait } from "../../test/sources";
import { EmbeddedMedia } from "./embedded";
import { liveH264Args, testSourceArgs } from "./ffmpeg";
import { nodeClient, nodePrefix, renewNode } from "./nodes";
import { streamStarted } from "./streams";

const children: ChildProcess[] = [];
let nginx: Awaited<ReturnType<typeof startNginxRtmp>> | undefined;
let hooks: Awaited<ReturnType<typeof serve>>;
const saved = process.env.MEDIA_NGINX_STAT_URL;
beforeAll(async () => {
  hooks = await serve(mediaRoutes());
  nginx = await startNginxRtmp(hooks.base);
  process.env.MEDIA_NGINX_STAT_URL = nginx.statUrl;
  resetEnvForTests();
});
afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  nginx?.stop();
  if (saved === undefined) delete process.env.MEDIA_NGINX_STAT_URL;
  else process.env.MEDIA_NGINX_STAT_URL = saved;
  resetEnvForTests();
  await hooks.close();
});

function push(url: string): ChildProcess {
  const args = [...["-hide_banner", "-loglevel", "error"], ...testSourceArgs("320x240", 25, 60), ...liveH264Args(50)];
  const p = spawn(env().FFMPEG_PATH, [...args, ...["-f", "flv", url]], { stdio: "ignore" });
  children.push(p);
  return p;
}

it("refuses a second encoder while nginx still has the first; the room stays live until the first stops", async () => {
  const t = await makeTenant();
  await callerOf(t.admin).apps.update({ id: t.app.id, pushDomain: `127.0.0.1:${nginx!.rtmpPort}` });
  const room = await callerOf(t.host).rooms.create({ title: "second encoder" });
  const info = await callerOf(t.host).media.pushInfo({ room: room.id });
  const get = () => callerOf(t.host).rooms.get({ room: room.id });
  const first = push(info.rtmp_url);
  const live = await until(get, (r) => r.status === "live" && r.streamOnline, 20_000);
  expect(live).toMatchObject({ status: "live", streamOnline: true });

  const second = push(info.rtmp_url);
  expect(await exited(second)).not.toBe(0);
  await wait(1000); // nginx's report of the refused connection's end, had it sent one
  expect(await get()).toMatchObject({ status: "live", streamOnline: true });
  expect(first.exitCode).toBeNull();
  expect(await (await fetch(nginx!.statUrl)).text()).toContain(room.streamName);
  const refusals = await callerOf(t.host).media.refusals({ room: room.id });
  expect(refusals.map((r) => r.reason)).toEqual(["busy"]);
  expect((await get()).startedAt).toEqual(live.startedAt);

  // The first encoder's own end still pauses the room.
  first.kill("SIGKILL");
  expect(await until(get, (r) => r.status === "paused" && !r.streamOnline, 20_000)).toMatchObject({
    status: "paused",
    streamOnline: false,
  });
}, 60_000);

describe("the embedded server, another instance's node publishing the room", () => {
  const settings = { MEDIA_RTMP_PORT: "", MEDIA_HTTP_PORT: "", MEDIA_DIR: "" };
  let media: EmbeddedMedia | undefined;
  beforeAll(async () => {
    Object.assign(process.env, {
      MEDIA_RTMP_PORT: String(await freePort()),
      MEDIA_HTTP_PORT: String(await freePort()),
      MEDIA_DIR: mkdtempSync(join(tmpdir(), "onair-second-encoder-")),
    });
    resetEnvForTests();
    media = new EmbeddedMedia(getDb());
    await media.start();
  }, 60_000);
  afterAll(async () => {
    await media?.stop();
    if (process.env.MEDIA_DIR) rmSync(process.env.MEDIA_DIR, { recursive: true, force: true });
    for (const k of Object.keys(settings)) delete process.env[k];
    resetEnvForTests();
  });

  it("refuses a second encoder here while the other node's lease holds, and takes over once it has run out", async () => {
    const t = await makeTenant();
    const room = await callerOf(t.host).rooms.create({ title: "two nodes" });
    const get = () => callerOf(t.host).rooms.get({ room: room.id });
    const row = async () => (await getDb().select().from(rooms).where(eq(rooms.num, room.num)))[0]!;
    // The other instance's node publishes the room (as its own hook would have marked it).
    const other = randomUUID();
    const renew = () =>
      renewNode(getDb(), { id: other, flvOrigin: "http://127.0.0.1:9", frontOrigin: "http://127.0.0.1:9" }, new Date());
    await renew();
    const theirs = nodeClient(other, "s1");
    await streamStarted(getDb(), systemClock, room.streamName, theirs, { trusted: true, via: "embedded" });
    const info = await callerOf(t.host).media.pushInfo({ room: room.id });

    const refused = push(info.rtmp_url);
    const refusals = await until(
      () => callerOf(t.host).media.refusals({ room: room.id }),
      (r) => r.length > 0,
      15_000,
    );
    expect(refusals.map((r) => r.reason)).toEqual(["busy"]);
    await exited(refused);
    expect(await row()).toMatchObject({ status: "live", streamOnline: true, streamClient: theirs });

    // That node is gone (its lease ran out): the encoder here takes the room.
    await getDb()
      .update(mediaNodes)
      .set({ seenAt: new Date(Date.now() - 3600_000) })
      .where(eq(mediaNodes.id, other));
    push(info.rtmp_url);
    const taken = await until(
      row,
      (r) => r.streamOnline && r.streamClient.startsWith(nodePrefix(media!.nodeId)),
      20_000,
    );
    expect(taken.streamClient.startsWith(nodePrefix(media!.nodeId))).toBe(true);
    expect((await get()).status).toBe("live");
  }, 60_000);
});
