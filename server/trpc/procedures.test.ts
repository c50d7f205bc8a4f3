// Every procedure's happy path through createCaller against the real migrated database,
// and every illegal state transition.
import { beforeAll, describe, expect, it } from "vitest";
import {
  callerOf,
  makeTenant,
  ManualClock,
  PASSWORD,
  rejectsWith,
  uniq,
  type Tenant,
  type UserActor,
} from "../../test/helpers";

let t: Tenant;
beforeAll(async () => {
  t = await makeTenant();
});

describe("health and auth", () => {
  it("reports database health", async () => {
    const h = await callerOf({ kind: "anonymous" }).health();
    expect(h.db.ok).toBe(true);
    expect(h.db.version).toMatch(/MariaDB|\d+\.\d+/);
  });

  it("registers, logs in, refreshes (rotating), reads me and logs out", async () => {
    const anon = callerOf({ kind: "anonymous" });
    const username = uniq("reg");
    const u = await anon.auth.register({ appKey: t.accessKey, username, password: PASSWORD, nick: "Reggie" });
    expect(u).toMatchObject({ username, role: "viewer", appId: t.app.id, nick: "Reggie" });
    expect(u).not.toHaveProperty("passwordHash");

    const s = await anon.auth.login({ username, password: PASSWORD, deviceId: "phone-1", deviceType: "android" });
    expect(s.accessToken.split(".")).toHaveLength(3);
    expect(s.refreshToken).toContain(".");
    const { actorFromHeaders } = await import("../http/actor");
    const actor = await actorFromHeaders({ authorization: `Bearer ${s.accessToken}` }, new Date());
    expect(actor).toMatchObject({ kind: "user", userId: u.id, role: "viewer", appId: t.app.id });
    expect((await callerOf(actor).auth.me()).username).toBe(username);

    const clock = new ManualClock(Date.now());
    const timed = callerOf({ kind: "anonymous" }, clock);
    // Two refreshes at once with the same token (two tabs, a retry) both get the same new token.
    const [r, again] = await Promise.all([
      timed.auth.refresh({ refreshToken: s.refreshToken }),
      timed.auth.refresh({ refreshToken: s.refreshToken }),
    ]);
    expect(r.refreshToken).not.toBe(s.refreshToken);
    expect(again.refreshToken).toBe(r.refreshToken);
    // Past the grace, the rotated-away refresh token is refused, and its reuse ends the session.
    clock.advance(11_000);
    await rejectsWith(timed.auth.refresh({ refreshToken: s.refreshToken }), "TOKEN_INVALID");
    await rejectsWith(timed.auth.refresh({ refreshToken: r.refreshToken }), "TOKEN_INVALID");

    const s2 = await anon.auth.login({ username, password: PASSWORD, deviceId: "phone-2" });
    const a2 = await actorFromHeaders({ authorization: `Bearer ${s2.accessToken}` }, new Date());
    await callerOf(a2).auth.logout();
    await rejectsWith(actorFromHeaders({ authorization: `Bearer ${s2.accessToken}` }, new Date()), "TOKEN_INVALID");
    await rejectsWith(anon.auth.refresh({ refreshToken: s2.refreshToken }), "TOKEN_INVALID");
  });

  it("tells bad credentials, duplicates and bad input apart", async () => {
    const anon = callerOf({ kind: "anonymous" });
    await rejectsWith(anon.auth.login({ username: t.viewer.username, password: "wrong-password" }), "BAD_CREDENTIALS");
    await rejectsWith(anon.auth.login({ username: "nobody_here", password: "wrong-password" }), "BAD_CREDENTIALS");
    await rejectsWith(
      anon.auth.register({ appKey: t.accessKey, username: t.viewer.username, password: PASSWORD }),
      "CONFLICT",
    );
    await rejectsWith(anon.auth.register({ appKey: "ak_nope", username: uniq("x"), password: PASSWORD }), "NOT_FOUND");
    const e = (await rejectsWith(
      anon.auth.register({ appKey: t.accessKey, username: "a b", password: "short" }),
      "BAD_REQUEST",
    )) as {
      cause: { details: { fields: Record<string, string> } };
    };
    expect(Object.keys(e.cause.details.fields)).toEqual(expect.arrayContaining(["username", "password"]));
  });

  it("expired access tokens are told apart from invalid ones", async () => {
    const { signAccessToken, verifyAccessToken } = await import("../tokens");
    const then = new Date(Date.now() - 3600_000);
    const { token } = signAccessToken(
      { sub: t.viewer.userId, app: t.app.id, role: "viewer", sid: crypto.randomUUID() },
      then,
      60,
    );
    await rejectsWith(
      Promise.resolve().then(() => verifyAccessToken(token, new Date())),
      "TOKEN_EXPIRED",
    );
    await rejectsWith(
      Promise.resolve().then(() => verifyAccessToken(token.slice(0, -2) + "xx", new Date())),
      "TOKEN_INVALID",
    );
  });
});

describe("apps and users (admin)", () => {
  it("creates an app with a secret shown once, updates, rotates", async () => {
    const root = callerOf(t.root);
    const c = await root.apps.create({
      name: uniq("app"),
      callbackUrl: "https://example.test/cb",
      pushDomain: "push.example.test",
      pullDomain: "pull.example.test:8080",
    });
    expect(c.secret).toHaveLength(43);
    expect(c.accessKey).toMatch(/^ak_/);
    expect(c.app).not.toHaveProperty("secretEnc");
    expect(JSON.stringify(await root.apps.list())).not.toContain(c.secret);
    const { appById } = await import("../apps");
    expect((await appById((await import("../db/client")).getDb(), c.app.id))!.secret()).toBe(c.secret);

    const upd = await root.apps.update({ id: c.app.id, enabled: false, signScheme: "tencent" });
    expect(upd).toMatchObject({ enabled: false, signScheme: "tencent" });
    const rot = await root.apps.rotateSecret({ id: c.app.id });
    expect(rot.secret).not.toBe(c.secret);
    expect((await appById((await import("../db/client")).getDb(), c.app.id))!.secret()).toBe(rot.secret);
    expect((await root.apps.get({ id: c.app.id })).name).toBe(c.app.name);
    await rejectsWith(root.apps.create({ name: "bad", callbackUrl: "ftp://x" }), "BAD_REQUEST");
  });

  it("app admin creates, lists, re-roles, disables and resets users of their app", async () => {
    const admin = callerOf(t.admin);
    const u = await admin.users.create({ username: uniq("h"), password: PASSWORD, role: "host" });
    expect(u.appId).toBe(t.app.id);
    const list = await admin.users.list({ role: "host", limit: 100 });
    expect(list.items.map((x) => x.id)).toContain(u.id);
    expect(list.items.every((x) => x.appId === t.app.id)).toBe(true);
    expect((await admin.users.setRole({ id: u.id, role: "viewer" })).role).toBe("viewer");
    expect((await admin.users.setDisabled({ id: u.id, disabled: true })).disabled).toBe(true);
    await rejectsWith(
      callerOf({ kind: "anonymous" }).auth.login({ username: u.username, password: PASSWORD }),
      "DISABLED",
    );
    await admin.users.setDisabled({ id: u.id, disabled: false });
    await admin.users.resetPassword({ id: u.id, password: "another-pass-1" });
    const s = await callerOf({ kind: "anonymous" }).auth.login({ username: u.username, password: "another-pass-1" });
    expect(s.user.id).toBe(u.id);
    await rejectsWith(admin.users.setDisabled({ id: t.admin.userId, disabled: true }), "FORBIDDEN");
  });

  it("disabling a user revokes their access tokens at once", async () => {
    const anon = callerOf({ kind: "anonymous" });
    const admin = callerOf(t.admin);
    const u = await admin.users.create({ username: uniq("v"), password: PASSWORD, role: "viewer" });
    const s = await anon.auth.login({ username: u.username, password: PASSWORD });
    const { actorFromHeaders } = await import("../http/actor");
    await actorFromHeaders({ authorization: `Bearer ${s.accessToken}` }, new Date());
    await admin.users.setDisabled({ id: u.id, disabled: true });
    await rejectsWith(actorFromHeaders({ authorization: `Bearer ${s.accessToken}` }, new Date()), "TOKEN_INVALID");
    await rejectsWith(anon.auth.refresh({ refreshToken: s.refreshToken }), "TOKEN_INVALID");
  });

  it("writes one audit row per change, with its actor, target and time, listed newest first", async () => {
    // Each change a second after the last, so a row's time also tells which change wrote it.
    const clock = new ManualClock(Date.now() + 1000);
    const admin = callerOf(t.admin, clock);
    const host = callerOf(t.host, clock);
    const expected: { action: string; target: string; actor: string; at: number }[] = [];
    const wrote = (actor: UserActor, action: string, target: string) => {
      expected.push({ action, target, actor: actor.username, at: clock.now().getTime() });
      clock.advance(1000);
    };

    const u = await admin.users.create({ username: uniq("aud"), password: PASSWORD, role: "viewer" });
    wrote(t.admin, "user.create", `user:${u.id}`);
    const r = await host.rooms.create({ title: "Audited" });
    wrote(t.host, "room.create", `room:${r.id}`);
    await admin.users.setRole({ id: u.id, role: "host" });
    wrote(t.admin, "user.set_role", `user:${u.id}`);
    await host.rooms.start({ room: r.id });
    wrote(t.host, "room.start", `room:${r.id}`);
    const rec = await host.recordings.create({ room: r.id, name: "audited" });
    wrote(t.host, "recording.create", `recording:${rec.id}`);
    await host.rooms.pause({ room: r.id });
    wrote(t.host, "room.pause", `room:${r.id}`);
    await admin.users.setDisabled({ id: u.id, disabled: true });
    wrote(t.admin, "user.disable", `user:${u.id}`);
    await host.recordings.delete({ id: rec.id });
    wrote(t.host, "recording.delete", `recording:${rec.id}`);
    await admin.rooms.stop({ room: r.id });
    wrote(t.admin, "room.stop", `room:${r.id}`);

    type Item = Awaited<ReturnType<typeof admin.audit.list>>["items"][number];
    const seen = (items: Item[]) =>
      items.map((x) => ({
        action: x.action,
        target: `${x.targetType}:${x.targetId}`,
        actor: x.actorName,
        at: x.createdAt.getTime(),
      }));
    const newestFirst = [...expected].reverse();
    // The app's latest rows are exactly these changes, the last one first, and only of this app.
    const list = await admin.audit.list({ limit: expected.length });
    expect(seen(list.items)).toEqual(newestFirst);
    expect(list.items.every((x) => x.appId === t.app.id)).toBe(true);
    // The cursor pages through the same order, and what follows is older than every change above.
    const paged: Item[] = [];
    let cursor: number | null = null;
    do {
      const page = await admin.audit.list({ limit: 4, cursor: cursor ?? undefined });
      paged.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null && paged.length <= expected.length);
    expect(seen(paged.slice(0, expected.length))).toEqual(newestFirst);
    const next = paged[expected.length]!;
    expect(next.id).toBeLessThan(list.items[expected.length - 1]!.id);
    expect(next.createdAt.getTime()).toBeLessThan(expected[0]!.at);
  });
});

describe("rooms", () => {
  it("creates, reads, edits, lists and deletes rooms; status codes follow the seeds", async () => {
    const host = callerOf(t.host);
    const r = await host.rooms.create({
      title: "Morning show",
      notice: "hi",
      mode: 1,
      extends: '{"a":1}',
      record: true,
    });
    expect(r).toMatchObject({
      title: "Morning show",
      hostId: t.host.userId,
      status: "prepare",
      statusCode: 0,
      mode: 1,
      extends: '{"a":1}',
      micSeats: 4,
      chatId: String(r.num),
    });
    expect(r.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof r.num).toBe("number");
    const byNum = await callerOf(t.viewer).rooms.get({ room: r.num });
    expect(byNum.id).toBe(r.id);
    expect(byNum.metrics).toEqual({ online: 0, likes: 0, pv: 0, uv: 0 });
    const u = await host.rooms.update({ room: r.id, title: "Evening show", coverUrl: "https://cdn.test/c.png" });
    expect(u).toMatchObject({ title: "Evening show", coverUrl: "https://cdn.test/c.png", notice: "hi" });

    const admin = callerOf(t.admin);
    const forHost = await admin.rooms.create({ title: "By admin", hostId: t.host2.userId });
    expect(forHost.hostId).toBe(t.host2.userId);
    await rejectsWith(admin.rooms.create({ title: "No host" }), "BAD_REQUEST");
    await rejectsWith(admin.rooms.create({ title: "Viewer host", hostId: t.viewer.userId }), "BAD_REQUEST");

    const d = await host.rooms.delete({ room: r.id });
    expect(d.deleted).toBe(true);
    await rejectsWith(host.rooms.get({ room: r.id }), "NOT_FOUND");
  });

  it("walks the lifecycle prepare → live ⇄ paused → ended and refuses every illegal move", async () => {
    const host = callerOf(t.host);
    const r = await host.rooms.create({ title: "Lifecycle" });
    await rejectsWith(host.rooms.pause({ room: r.id }), "ILLEGAL_TRANSITION");
    await rejectsWith(host.rooms.resume({ room: r.id }), "ILLEGAL_TRANSITION");
    const live = await host.rooms.start({ room: r.id });
    expect(live).toMatchObject({ status: "live", statusCode: 1 });
    expect(live.startedAt).toBeTruthy();
    await rejectsWith(host.rooms.start({ room: r.id }), "ILLEGAL_TRANSITION");
    await rejectsWith(host.rooms.resume({ room: r.id }), "ILLEGAL_TRANSITION");
    const paused = await host.rooms.pause({ room: r.id });
    expect(paused).toMatchObject({ status: "paused", statusCode: 0 });
    await rejectsWith(host.rooms.pause({ room: r.id }), "ILLEGAL_TRANSITION");
    expect((await host.rooms.resume({ room: r.id })).status).toBe("live");
    await host.rooms.pause({ room: r.id });
    expect((await host.rooms.start({ room: r.id })).status).toBe("live");
    const ended = await host.rooms.stop({ room: r.id });
    expect(ended).toMatchObject({ status: "ended", statusCode: 2 });
    expect(ended.stoppedAt).toBeTruthy();
    for (const move of ["start", "pause", "resume", "stop"] as const)
      await rejectsWith(host.rooms[move]({ room: r.id }), "ILLEGAL_TRANSITION");
    await rejectsWith(host.rooms.update({ room: r.id, title: "x" }), "ILLEGAL_TRANSITION");
    const p = await host.rooms.create({ title: "Never started" });
    expect((await host.rooms.stop({ room: p.id })).status).toBe("ended");
  });

  it("lists newest first with filters and a keyset cursor that is stable under inserts", async () => {
    const root = callerOf(t.root);
    const host = callerOf(t.host2);
    const tag = uniq("paging");
    const made = [];
    for (let i = 0; i < 7; i++) made.push(await host.rooms.create({ title: `${tag} ${i}` }));
    await host.rooms.start({ room: made[2]!.id });
    const p1 = await root.rooms.list({ appId: t.app.id, q: tag, limit: 3 });
    expect(p1.total).toBe(7);
    expect(p1.items.map((r) => r.title)).toEqual([`${tag} 6`, `${tag} 5`, `${tag} 4`]);
    await host.rooms.create({ title: `${tag} new` }); // an insert between pages
    const p2 = await root.rooms.list({ appId: t.app.id, q: tag, limit: 3, cursor: p1.nextCursor! });
    expect(p2.items.map((r) => r.title)).toEqual([`${tag} 3`, `${tag} 2`, `${tag} 1`]);
    // The total is one count per filter, whatever the page, and counts this process's writes at once.
    expect(p2.total).toBe(8);
    const p3 = await root.rooms.list({ appId: t.app.id, q: tag, limit: 3, cursor: p2.nextCursor! });
    expect(p3.items.map((r) => r.title)).toEqual([`${tag} 0`]);
    expect(p3.nextCursor).toBeNull();
    expect((await callerOf(t.viewer).rooms.list({ q: tag })).total).toBe(8);
    const liveOnly = await callerOf(t.viewer).rooms.list({ q: tag, status: "live" });
    expect(liveOnly.items.map((r) => r.id)).toEqual([made[2]!.id]);
    expect(liveOnly.total).toBe(1);
    const byHost = await callerOf(t.viewer).rooms.list({
      hostId: t.host2.userId,
      q: tag,
      offset: 1,
      limit: 2,
      withMetrics: true,
    });
    expect(byHost.items.map((r) => r.title)).toEqual([`${tag} 6`, `${tag} 5`]);
    expect(byHost.total).toBe(8);
    const byOffset = await root.rooms.list({ appId: t.app.id, q: tag, limit: 3, offset: 3 });
    expect(byOffset.items.map((r) => r.title)).toEqual([`${tag} 4`, `${tag} 3`, `${tag} 2`]);
    expect(byOffset.total).toBe(8);
    expect(byHost.items[0]!.metrics).toBeDefined();
    await rejectsWith(root.rooms.list({ cursor: "garbage" }), "BAD_REQUEST");
  });

  it("rejects oversized input and changes nothing", async () => {
    const host = callerOf(t.host);
    const before = await host.rooms.list({ hostId: t.host.userId });
    await rejectsWith(host.rooms.create({ title: "x".repeat(300) }), "BAD_REQUEST");
    await rejectsWith(host.rooms.create({ title: "ok", extends: "y".repeat(70_000) }), "BAD_REQUEST");
    expect((await host.rooms.list({ hostId: t.host.userId })).total).toBe(before.total);
  });
});

describe("presence, tokens, co-hosting, recordings", () => {
  it("joins, heartbeats, lists members, kicks (revoking tokens) and leaves", async () => {
    const host = callerOf(t.host);
    const r = await host.rooms.create({ title: "Presence" });
    await host.rooms.start({ room: r.id });
    const hj = await host.presence.join({ room: r.id });
    expect(hj.role).toBe(1);
    const vj = await callerOf(t.viewer).presence.join({ room: r.num });
    expect(vj).toMatchObject({ role: 0, heartbeatIntervalS: 10, memberId: t.viewer.userId });
    const hb = await callerOf({ kind: "anonymous" }).presence.heartbeat({ token: vj.presenceToken, likes: 5 });
    expect(hb.ok).toBe(true);
    const { presenceBuffer } = await import("../presence/buffer");
    await presenceBuffer.flush((await import("../db/client")).getDb());
    const got = await host.rooms.get({ room: r.id });
    expect(got.metrics).toEqual({ online: 2, likes: 5, pv: 1, uv: 1 });
    const members = await host.presence.members({ room: r.id });
    expect(members.items.map((m) => [m.memberId, m.role])).toEqual([
      [t.host.userId, 1],
      [t.viewer.userId, 0],
    ]);

    const play = await callerOf(t.viewer).tokens.issue({ room: r.id });
    expect((await callerOf({ kind: "anonymous" }).tokens.verify({ token: play.token, room: r.id })).member).toBe(
      t.viewer.userId,
    );
    await host.presence.kick({ room: r.id, memberId: t.viewer.userId });
    await rejectsWith(
      callerOf({ kind: "anonymous" }).tokens.verify({ token: play.token, room: r.id }),
      "TOKEN_INVALID",
    );
    await rejectsWith(callerOf({ kind: "anonymous" }).presence.heartbeat({ token: vj.presenceToken }), "TOKEN_INVALID");
    await rejectsWith(callerOf(t.viewer).presence.join({ room: r.id }), "FORBIDDEN");
    await rejectsWith(callerOf(t.viewer).tokens.issue({ room: r.id }), "FORBIDDEN");
    expect((await host.rooms.get({ room: r.id })).metrics!.online).toBe(1);

    const v2 = await callerOf(t.viewer2).presence.join({ room: r.id });
    expect((await callerOf({ kind: "anonymous" }).presence.leave({ token: v2.presenceToken })).ok).toBe(true);
    expect((await host.rooms.get({ room: r.id })).metrics).toMatchObject({ online: 1, pv: 2, uv: 2 });
  });

  it("issues play and publish tokens bound to room and scope", async () => {
    const host = callerOf(t.host);
    const r = await host.rooms.create({ title: "Tokens" });
    const other = await host.rooms.create({ title: "Other" });
    const pub = await host.tokens.issue({ room: r.id, scope: "publish" });
    const anon = callerOf({ kind: "anonymous" });
    expect((await anon.tokens.verify({ token: pub.token, scope: "publish", room: r.id })).scope).toBe("publish");
    await rejectsWith(anon.tokens.verify({ token: pub.token, scope: "play", room: r.id }), "TOKEN_INVALID");
    await rejectsWith(anon.tokens.verify({ token: pub.token, scope: "publish", room: other.id }), "TOKEN_INVALID");
    await rejectsWith(callerOf(t.viewer).tokens.issue({ room: r.id, scope: "publish" }), "FORBIDDEN");
  });

  it("co-hosting: request → approve → on/off → end; meeting info; illegal moves refused", async () => {
    const host = callerOf(t.host);
    const v = callerOf(t.viewer);
    const r = await host.rooms.create({ title: "Mic", mode: 1, micSeats: 1 });
    await host.rooms.start({ room: r.id });
    await v.presence.join({ room: r.id });
    const req = await v.mic.request({ room: r.id });
    expect(req.state).toBe("pending");
    await rejectsWith(v.mic.request({ room: r.id }), "MIC_REFUSED");
    expect((await host.mic.requests({ room: r.id })).map((x) => x.userId)).toEqual([t.viewer.userId]);
    await rejectsWith(v.mic.report({ room: r.id, status: "on" }), "ILLEGAL_TRANSITION");
    expect((await host.mic.approve({ room: r.id, userId: t.viewer.userId })).state).toBe("approved");
    await rejectsWith(host.mic.approve({ room: r.id, userId: t.viewer.userId }), "ILLEGAL_TRANSITION");
    expect((await v.mic.report({ room: r.id, status: "on", cameraOpened: false })).state).toBe("on");
    const mi = await v.mic.meetingInfo({ room: r.id });
    expect(mi.members).toEqual([
      expect.objectContaining({ user_id: t.viewer.userId, camera_opened: false, mic_opened: true }),
    ]);
    expect((await host.presence.members({ room: r.id })).items.find((m) => m.memberId === t.viewer.userId)?.role).toBe(
      2,
    );

    // One seat: a second request can be made but not approved.
    const v2 = callerOf(t.viewer2);
    await v2.mic.request({ room: r.id });
    await rejectsWith(host.mic.approve({ room: r.id, userId: t.viewer2.userId }), "MIC_REFUSED");
    expect((await host.mic.reject({ room: r.id, userId: t.viewer2.userId })).state).toBe("rejected");

    expect((await v.mic.report({ room: r.id, status: "off" })).state).toBe("off");
    expect((await host.mic.end({ room: r.id, userId: t.viewer.userId })).state).toBe("ended");
    await rejectsWith(host.mic.end({ room: r.id, userId: t.viewer.userId }), "MIC_REFUSED");
    await v.mic.request({ room: r.id });
    expect((await v.mic.cancel({ room: r.id })).state).toBe("cancelled");

    // updateMeetingInfo replaces the list whole.
    const full = await host.mic.updateMeetingInfo({
      room: r.id,
      members: [
        { user_id: t.host.userId, user_nick: "host", camera_opened: true, mic_opened: true },
        {
          user_id: t.viewer2.userId,
          user_nick: "v2",
          camera_opened: true,
          mic_opened: false,
          rtc_pull_url: "artc://x",
        },
      ],
    });
    expect(full.members.map((m) => m.user_id)).toEqual([t.host.userId, t.viewer2.userId]);
    const replaced = await host.mic.updateMeetingInfo({ room: r.id, members: [{ user_id: t.viewer.userId }] });
    expect(replaced.members.map((m) => m.user_id)).toEqual([t.viewer.userId]);
    await rejectsWith(
      host.mic.updateMeetingInfo({
        room: r.id,
        members: [{ user_id: t.viewer.userId }, { user_id: t.viewer2.userId }],
      }),
      "MIC_REFUSED",
    );

    // Ended rooms refuse every mic move.
    await v2.mic.request({ room: r.id });
    await host.rooms.stop({ room: r.id });
    await rejectsWith(host.mic.approve({ room: r.id, userId: t.viewer2.userId }), "ILLEGAL_TRANSITION");
    await rejectsWith(v2.mic.request({ room: r.id }), "ILLEGAL_TRANSITION");
    expect((await v.mic.meetingInfo({ room: r.id })).members).toEqual([]);
  });

  it("pending co-host requests expire", async () => {
    const { ManualClock } = await import("../clock");
    const clock = new ManualClock(Date.now());
    const host = callerOf(t.host, clock);
    const r = await host.rooms.create({ title: "Expiry" });
    await callerOf(t.viewer, clock).mic.request({ room: r.id });
    clock.advance(61_000);
    expect(await host.mic.requests({ room: r.id })).toEqual([]);
    await rejectsWith(host.mic.approve({ room: r.id, userId: t.viewer.userId }), "MIC_REFUSED");
    expect((await callerOf(t.viewer, clock).mic.request({ room: r.id })).state).toBe("pending");
  });

  it("recordings: report, list with filters, get, delete", async () => {
    const host = callerOf(t.host);
    const r = await host.rooms.create({ title: "Rec" });
    const rec = await host.recordings.create({
      room: r.num,
      name: "my recording",
      type: 1,
      url: "https://vod.test/a.mp4",
      durationMs: 61_000,
      sizeBytes: 1234,
      coverUrl: "https://vod.test/a.png",
    });
    expect(rec).toMatchObject({
      name: "my recording",
      type: 1,
      status: "ready",
      roomNum: r.num,
      hostId: t.host.userId,
    });
    const pending = await host.recordings.create({ room: r.id, name: "processing" });
    const v = callerOf(t.viewer);
    expect((await v.recordings.list({ room: r.id })).items.map((x) => x.id)).toEqual([rec.id]);
    expect((await host.recordings.list({ room: r.id })).total).toBe(2);
    expect((await host.recordings.list({ type: 1, hostId: t.host.userId })).items.map((x) => x.id)).toContain(rec.id);
    expect((await v.recordings.get({ id: rec.id })).url).toBe("https://vod.test/a.mp4");
    await rejectsWith(v.recordings.get({ id: pending.id }), "NOT_FOUND");
    await rejectsWith(v.recordings.delete({ id: rec.id }), "FORBIDDEN");
    expect((await host.recordings.delete({ id: rec.id })).deleted).toBe(true);
    await rejectsWith(host.recordings.get({ id: rec.id }), "NOT_FOUND");
  });
});
