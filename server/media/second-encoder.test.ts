// A second encoder on a live room's stream, through a real nginx-rtmp: nginx sends its publish hook
// before it finds the stream busy, then reports the refused connection's end. With its /stat known
// (MEDIA_NGINX_STAT_URL) onair refuses the newcomer as busy and the room stays on the air with the
// first encoder; the first one's end still pauses it.
import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll, expect, it } from "vitest";
import { env, resetEnvForTests } from "../env";
import { callerOf, makeTenant, mediaRoutes, serve } from "../../test/helpers";
import { exited, startNginxRtmp } from "../../test/process";
import { until, wait } from "../../test/sources";
import { liveH264Args, testSourceArgs } from "./ffmpeg";

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
