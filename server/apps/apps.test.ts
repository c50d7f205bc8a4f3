// Disabling an app: every token of it stops working (access, refresh, room tokens, Haoshitong
// tokens, console sessions), no verb runs for it, its broadcasts end; only platform admins may
// switch an app off or on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHaoshitongHandler, HST } from "../compat/haoshitong";
import { getDb } from "../db/client";
import { revocationSet } from "../tokens/revocations";
import { verifyAccessToken, verifyRoomToken } from "../tokens";
import { callerOf, makeTenant, orNotFound, PASSWORD, rejectsWith, serve, type Tenant } from "../../test/helpers";

let t: Tenant;
let server: Awaited<ReturnType<typeof serve>>;
let base: string;
beforeAll(async () => {
  t = await makeTenant();
  const h = createHaoshitongHandler();
  server = await serve(orNotFound(h));
  base = server.base;
});
afterAll(() => server.close());

const hstToken = async () => {
  const r = await fetch(`${base}/v1/access_token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ app_id: t.accessKey, app_secret: t.secret }),
  });
  return ((await r.json()) as { result: { access_token: string } }).result.access_token;
};
const hstList = async (token: string) =>
  ((await (await fetch(`${base}/v1/live/list?app_id=${t.accessKey}&access_token=${token}`)).json()) as { code: number })
    .code;

describe("disabling an app", () => {
  it("refuses every token and verb of the app, ends its broadcasts; only platform admins toggle it", async () => {
    const anon = callerOf({ kind: "anonymous" });
    const session = await anon.auth.login({ username: t.host.username, password: PASSWORD, deviceId: "d1" });
    const host = callerOf(t.host);
    const room = await host.rooms.create({ title: "to be switched off" });
    await host.rooms.start({ room: room.id });
    const joined = await callerOf(t.viewer).presence.join({ room: room.id });
    const pull = await anon.media.pullUrls({ room: room.id });
    const hst = await hstToken();
    expect(await hstList(hst)).toBe(0);

    // The app's own admin can neither switch it off nor (below) back on.
    await rejectsWith(callerOf(t.admin).apps.update({ id: t.app.id, enabled: false }), "FORBIDDEN");
    await callerOf(t.root).apps.update({ id: t.app.id, enabled: false });
    try {
      const now = new Date();
      expect(() => verifyAccessToken(session.accessToken, now)).toThrow(/disabled/);
      expect(() => verifyRoomToken(joined.presenceToken, { scope: "presence" }, now)).toThrow(/disabled/);
      expect(() => verifyRoomToken(pull.token, { scope: "play" }, now)).toThrow(/disabled/);
      expect(await hstList(hst)).toBe(HST.AUTH_FAILED);
      await rejectsWith(anon.auth.refresh({ refreshToken: session.refreshToken }), "DISABLED");
      await rejectsWith(anon.auth.login({ username: t.host.username, password: PASSWORD }), "DISABLED");
      await rejectsWith(host.rooms.create({ title: "no" }), "DISABLED");
      await rejectsWith(callerOf(t.admin).apps.update({ id: t.app.id, enabled: true }), "DISABLED");
      await rejectsWith(anon.media.pullUrls({ room: room.id }), "DISABLED");
      expect((await callerOf(t.root).rooms.get({ room: room.id })).status).toBe("ended");

      // Another instance learns it from the shared store within one poll.
      revocationSet.setAppDisabled(t.app.id, false);
      await revocationSet.poll(getDb());
      expect(revocationSet.appDisabled(t.app.id)).toBe(true);
    } finally {
      await callerOf(t.root).apps.update({ id: t.app.id, enabled: true });
    }
    const again = await anon.auth.login({ username: t.host.username, password: PASSWORD, deviceId: "d2" });
    expect(verifyAccessToken(again.accessToken, new Date()).sub).toBe(t.host.userId);
    expect(await hstList(await hstToken())).toBe(0);
  });

  it("rotating the app secret ends the Haoshitong tokens issued under the old one", async () => {
    const before = await hstToken();
    expect(await hstList(before)).toBe(0);
    const { secret } = await callerOf(t.root).apps.rotateSecret({ id: t.app.id });
    t.secret = secret;
    expect(await hstList(before)).toBe(HST.AUTH_FAILED);
    expect(await hstList(await hstToken())).toBe(0);
  });
});
