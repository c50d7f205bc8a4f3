// The authorization matrix: every procedure × {anonymous, viewer, host of another room, host,
// admin of another app, admin, platform admin}, each case on fresh state, with the expected
// allow ("ok") or denial code. Other tenants get NOT_FOUND, signed-in users without the role FORBIDDEN.
// A denied call must also change nothing: every row of both tenants is compared before and after it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "../actor";
import {
  callerOf,
  makeTenant,
  PASSWORD,
  removeWebhookEndpoints,
  snapshotChanges,
  tenantSnapshot,
  uniq,
  type Tenant,
} from "../../test/helpers";
import { appRouter } from "./router";
import { sendChat } from "../chat";
import { getDb } from "../db/client";
import { findPublicRoom } from "../rooms";

type Who = "anonymous" | "viewer" | "otherHost" | "host" | "otherAppAdmin" | "admin" | "root";
const WHO: Who[] = ["anonymous", "viewer", "otherHost", "host", "otherAppAdmin", "admin", "root"];
type Expect = "ok" | "UNAUTHENTICATED" | "FORBIDDEN" | "NOT_FOUND" | "MIC_REFUSED" | "SOURCE_FAILED";
type Row = Record<Who, Expect>;

const everyone: Row = {
  anonymous: "ok",
  viewer: "ok",
  otherHost: "ok",
  host: "ok",
  otherAppAdmin: "ok",
  admin: "ok",
  root: "ok",
};
const signedIn: Row = { ...everyone, anonymous: "UNAUTHENTICATED" };
const inTenant: Row = { ...signedIn, otherAppAdmin: "NOT_FOUND" };
const manage: Row = { ...inTenant, viewer: "FORBIDDEN", otherHost: "FORBIDDEN" };
const adminOnly: Row = { ...signedIn, viewer: "FORBIDDEN", otherHost: "FORBIDDEN", host: "FORBIDDEN" };
const adminOfApp: Row = { ...adminOnly, otherAppAdmin: "NOT_FOUND" };
/** Allowed for everybody in the tenant, but only the viewer holds the co-host session acted on. */
const ownMic: Row = {
  ...inTenant,
  otherHost: "MIC_REFUSED",
  host: "MIC_REFUSED",
  admin: "MIC_REFUSED",
  root: "MIC_REFUSED",
};

let A: Tenant;
let B: Tenant;
let actors: Record<Who, Actor>;

// The webhook endpoints made here point at a name that does not resolve: gone afterwards, with
// their deliveries, so no webhook worker of a later test file in this process tries to send them.
afterAll(() => removeWebhookEndpoints(A));
beforeAll(async () => {
  [A, B] = await Promise.all([makeTenant(), makeTenant()]);
  actors = {
    anonymous: { kind: "anonymous" },
    viewer: A.viewer,
    otherHost: A.host2,
    host: A.host,
    otherAppAdmin: B.admin,
    admin: A.admin,
    root: A.root,
  };
});

const asHost = () => callerOf(A.host);
async function room(state: "prepare" | "live" | "paused" = "live") {
  const r = await asHost().rooms.create({ title: uniq("authz"), mode: 1 });
  if (state !== "prepare") await asHost().rooms.start({ room: r.id });
  if (state === "paused") await asHost().rooms.pause({ room: r.id });
  return r;
}
async function ended() {
  const r = await room("live");
  await asHost().rooms.stop({ room: r.id });
  return r;
}
async function viewerMic(state: "pending" | "approved" | "on") {
  const r = await room();
  await callerOf(A.viewer).presence.join({ room: r.id });
  await callerOf(A.viewer).mic.request({ room: r.id });
  if (state !== "pending") await asHost().mic.approve({ room: r.id, userId: A.viewer.userId });
  if (state === "on") await callerOf(A.viewer).mic.report({ room: r.id, status: "on" });
  return r;
}
/** A room with a main source (a public address, so no OUTBOUND_ALLOW is needed; no camera answers there). */
const CAMERA = "rtsp://cam:pa55@8.8.8.8:554/main";
async function sourcedRoom() {
  const r = await room("prepare");
  await callerOf(A.admin).sources.set({ room: r.id, url: CAMERA });
  return r;
}
/**
 * A webhook endpoint of A (wanting room.created, so a new room gives it a delivery): one shared by
 * the cases, or a fresh one (to delete). An app has at most 20.
 */
let sharedEndpoint: number | undefined;
const webhookEndpoint = async (fresh = false) => {
  if (sharedEndpoint && !fresh) return sharedEndpoint;
  const { endpoint } = await callerOf(A.admin).webhooks.create({
    appId: A.app.id,
    url: "https://hooks.example.test/in",
    events: ["room.created"],
  });
  if (!fresh) sharedEndpoint = endpoint.id;
  return endpoint.id;
};
/** A delivery to the shared endpoint (a room created: the event it wants). */
const webhookDelivery = async () => {
  const endpointId = await webhookEndpoint();
  await room("prepare");
  return (await callerOf(A.admin).webhooks.deliveries({ endpointId })).items[0]!.id;
};
const freshUser = async () =>
  callerOf(A.admin).users.create({ username: uniq("target"), password: PASSWORD, role: "viewer" });

type Case = { expect: Row; input: () => unknown };
const cases: Record<string, Case> = {
  health: { expect: everyone, input: () => undefined },
  "auth.register": {
    expect: everyone,
    input: () => ({ appKey: A.accessKey, username: uniq("r"), password: PASSWORD }),
  },
  "auth.login": { expect: everyone, input: () => ({ username: A.viewer.username, password: PASSWORD }) },
  "auth.refresh": {
    expect: everyone,
    input: async () => ({
      refreshToken: (
        await callerOf({ kind: "anonymous" }).auth.login({
          username: A.viewer.username,
          password: PASSWORD,
          deviceId: uniq("d"),
        })
      ).refreshToken,
    }),
  },
  "auth.logout": { expect: signedIn, input: () => undefined },
  "auth.me": { expect: signedIn, input: () => undefined },
  "apps.create": {
    expect: { ...adminOnly, otherAppAdmin: "FORBIDDEN", admin: "FORBIDDEN" },
    input: () => ({ name: uniq("app") }),
  },
  "apps.list": { expect: adminOnly, input: () => undefined },
  "apps.get": { expect: adminOfApp, input: () => ({ id: A.app.id }) },
  "apps.update": {
    expect: adminOfApp,
    input: () => ({ id: A.app.id, callbackUrl: "https://cb.example.test/x" }),
  },
  "apps.rotateSecret": { expect: adminOfApp, input: () => ({ id: A.app.id }) },
  "users.create": {
    expect: adminOfApp,
    input: () => ({ appId: A.app.id, username: uniq("u"), password: PASSWORD, role: "viewer" }),
  },
  "users.list": { expect: adminOnly, input: () => ({}) },
  "users.setDisabled": { expect: adminOfApp, input: async () => ({ id: (await freshUser()).id, disabled: true }) },
  "users.setRole": { expect: adminOfApp, input: async () => ({ id: (await freshUser()).id, role: "host" }) },
  "users.resetPassword": {
    expect: adminOfApp,
    input: async () => ({ id: (await freshUser()).id, password: "new-password-1" }),
  },
  "rooms.create": {
    expect: { ...manage, viewer: "FORBIDDEN", otherHost: "FORBIDDEN" },
    input: () => ({ title: uniq("c"), hostId: A.host.userId }),
  },
  "rooms.get": { expect: inTenant, input: async () => ({ room: (await room()).id }) },
  "rooms.list": { expect: signedIn, input: () => ({}) },
  "rooms.update": { expect: manage, input: async () => ({ room: (await room()).id, title: "renamed" }) },
  "rooms.start": { expect: manage, input: async () => ({ room: (await room("prepare")).id }) },
  "rooms.pause": { expect: manage, input: async () => ({ room: (await room("live")).id }) },
  "rooms.resume": { expect: manage, input: async () => ({ room: (await room("paused")).id }) },
  "rooms.stop": { expect: manage, input: async () => ({ room: (await room("live")).id }) },
  "rooms.delete": { expect: manage, input: async () => ({ room: (await room("prepare")).id }) },
  "presence.join": {
    expect: { ...everyone, otherAppAdmin: "NOT_FOUND" },
    input: async () => ({ room: (await room()).id }),
  },
  "rooms.goLiveAgain": { expect: manage, input: async () => ({ room: (await ended()).id }) },
  "rooms.overview": { expect: adminOnly, input: () => undefined },
  "rooms.samples": { expect: inTenant, input: async () => ({ room: (await room()).id }) },
  "presence.heartbeat": {
    expect: everyone,
    input: async () => ({
      token: (await callerOf(A.viewer).presence.join({ room: (await room()).id })).presenceToken,
      likes: 1,
    }),
  },
  "presence.leave": {
    expect: everyone,
    input: async () => ({ token: (await callerOf(A.viewer).presence.join({ room: (await room()).id })).presenceToken }),
  },
  "presence.kick": {
    expect: manage,
    input: async () => {
      const r = await room();
      await callerOf(A.viewer2).presence.join({ room: r.id });
      return { room: r.id, memberId: A.viewer2.userId };
    },
  },
  "presence.members": { expect: inTenant, input: async () => ({ room: (await room()).id }) },
  "chat.history": { expect: inTenant, input: async () => ({ room: (await room()).id }) },
  "chat.delete": {
    expect: manage,
    input: async () => {
      const r = await room();
      const row = await findPublicRoom(getDb(), r.id);
      const who = { memberId: A.viewer2.userId, nick: "v2", role: 0, manager: false, guest: false };
      const m = await sendChat(getDb(), row, who, { text: "hello 你好 🎉" }, new Date());
      return { room: r.id, messageId: m.id };
    },
  },
  "chat.mute": {
    expect: manage,
    input: async () => {
      const r = await room();
      await callerOf(A.viewer2).presence.join({ room: r.id });
      return { room: r.id, memberId: A.viewer2.userId, minutes: 5 };
    },
  },
  "mic.request": { expect: { ...inTenant, host: "MIC_REFUSED" }, input: async () => ({ room: (await room()).id }) },
  "mic.cancel": { expect: ownMic, input: async () => ({ room: (await viewerMic("pending")).id }) },
  "mic.approve": {
    expect: manage,
    input: async () => ({ room: (await viewerMic("pending")).id, userId: A.viewer.userId }),
  },
  "mic.reject": {
    expect: manage,
    input: async () => ({ room: (await viewerMic("pending")).id, userId: A.viewer.userId }),
  },
  "mic.report": { expect: ownMic, input: async () => ({ room: (await viewerMic("approved")).id, status: "on" }) },
  "mic.end": {
    expect: { ...manage, viewer: "ok" },
    input: async () => ({ room: (await viewerMic("on")).id, userId: A.viewer.userId }),
  },
  "mic.requests": { expect: manage, input: async () => ({ room: (await viewerMic("pending")).id }) },
  "mic.meetingInfo": { expect: inTenant, input: async () => ({ room: (await viewerMic("on")).id }) },
  "mic.updateMeetingInfo": {
    expect: manage,
    input: async () => ({ room: (await room()).id, members: [{ user_id: A.viewer.userId }] }),
  },
  "recordings.create": { expect: manage, input: async () => ({ room: (await room()).id, name: "rec" }) },
  "recordings.list": { expect: signedIn, input: () => ({}) },
  "recordings.get": {
    expect: inTenant,
    input: async () => ({
      id: (await asHost().recordings.create({ room: (await room()).id, name: "r", url: "https://vod.test/r.mp4" })).id,
    }),
  },
  "recordings.delete": {
    expect: manage,
    input: async () => ({
      id: (await asHost().recordings.create({ room: (await room()).id, name: "r", url: "https://vod.test/r.mp4" })).id,
    }),
  },
  "tokens.issue": { expect: inTenant, input: async () => ({ room: (await room()).id, scope: "play" }) },
  "tokens.verify": {
    expect: everyone,
    input: async () => ({ token: (await callerOf(A.viewer).tokens.issue({ room: (await room()).id })).token }),
  },
  "audit.list": { expect: adminOnly, input: () => ({}) },
  "sources.list": { expect: adminOfApp, input: async () => ({ room: (await sourcedRoom()).id }) },
  "sources.set": {
    expect: adminOfApp,
    input: async () => ({ room: (await room("prepare")).id, url: CAMERA, mode: "always_on" }),
  },
  "sources.remove": { expect: adminOfApp, input: async () => ({ room: (await sourcedRoom()).id }) },
  // Allowed callers reach the probe, which finds nothing answering there.
  "sources.probe": {
    expect: { ...adminOfApp, admin: "SOURCE_FAILED", root: "SOURCE_FAILED" },
    input: async () => ({ room: (await sourcedRoom()).id }),
  },
  "webhooks.list": { expect: adminOfApp, input: () => ({ appId: A.app.id }) },
  "webhooks.create": {
    expect: adminOfApp,
    input: () => ({ appId: A.app.id, url: "https://hooks.example.test/in", events: ["room.live"] }),
  },
  "webhooks.update": { expect: adminOfApp, input: async () => ({ id: await webhookEndpoint(), enabled: true }) },
  "webhooks.delete": { expect: adminOfApp, input: async () => ({ id: await webhookEndpoint(true) }) },
  "webhooks.rotateSecret": { expect: adminOfApp, input: async () => ({ id: await webhookEndpoint() }) },
  "webhooks.deliveries": { expect: adminOfApp, input: async () => ({ endpointId: await webhookEndpoint() }) },
  "webhooks.redeliver": { expect: adminOfApp, input: async () => ({ id: await webhookDelivery() }) },
  "webhooks.attempts": { expect: adminOfApp, input: async () => ({ delivery: await webhookDelivery() }) },
  "media.pushInfo": { expect: manage, input: async () => ({ room: (await room()).id }) },
  "media.rotateKey": { expect: manage, input: async () => ({ room: (await room()).id }) },
  // Rooms are public to watch: visitors get guest tokens; other tenants' signed-in users do not see the room.
  "media.pullUrls": {
    expect: { ...everyone, otherAppAdmin: "NOT_FOUND" },
    input: async () => ({ room: (await room()).id }),
  },
  "media.downloadUrl": {
    expect: manage,
    input: async () => ({
      id: (await asHost().recordings.create({ room: (await room()).id, name: "d", url: "https://vod.test/d.mp4" })).id,
    }),
  },
  // An ended room's recordings, under the room's play rules (as pullUrls).
  "media.replay": {
    expect: { ...everyone, otherAppAdmin: "NOT_FOUND" },
    input: async () => ({ room: (await ended()).id }),
  },
  // The chat of one of its recordings: the same rules.
  "media.replayChat": {
    expect: { ...everyone, otherAppAdmin: "NOT_FOUND" },
    input: async () => {
      const r = await ended();
      const rec = await asHost().recordings.create({ room: r.id, name: "c", url: "https://vod.test/c.mp4" });
      return { room: r.id, recording: rec.id };
    },
  },
  "media.refusals": { expect: manage, input: async () => ({ room: (await room()).id }) },
  "media.sampleUrls": { expect: adminOfApp, input: () => ({ id: A.app.id }) },
  "media.health": { expect: manage, input: async () => ({ room: (await room()).id }) },
  // Rooms of other apps are left out of the answer (no error): see server/media/health.test.ts.
  "media.pictures": { expect: signedIn, input: async () => ({ rooms: [(await room()).id] }) },
  "media.vodUrl": {
    expect: inTenant,
    input: async () => ({
      id: (await asHost().recordings.create({ room: (await room()).id, name: "v", url: "https://vod.test/v.mp4" })).id,
    }),
  },
};
// Publishing is the host's: checked as its own row.
const publish: Case = { expect: manage, input: async () => ({ room: (await room()).id, scope: "publish" }) };

function procedureAt(caller: unknown, path: string) {
  return path.split(".").reduce((o, k) => (o as Record<string, unknown>)[k], caller) as (
    i: unknown,
  ) => Promise<unknown>;
}

/** The call's answer, and for a denied call (expected other than "ok") the rows it changed anyway. */
async function outcome(who: Who, path: string, c: Case): Promise<{ got: string; changed?: object }> {
  const input = await c.input();
  const tenants = [A.app.id, B.app.id];
  const before = c.expect[who] === "ok" ? undefined : await tenantSnapshot(tenants);
  let got: string;
  try {
    await procedureAt(callerOf(actors[who]), path)(input);
    got = "ok";
  } catch (e) {
    const err = e as { cause?: { code?: string }; message: string };
    got = err.cause?.code ?? `unexpected: ${err.message}`;
  }
  if (!before) return { got };
  const changed = snapshotChanges(before, await tenantSnapshot(tenants));
  return Object.keys(changed).length > 0 ? { got, changed } : { got };
}

describe("authorization matrix", () => {
  it("covers every procedure of the router", () => {
    const all = Object.keys(appRouter._def.procedures).sort();
    expect(Object.keys(cases).sort()).toEqual(all);
  });

  for (const [path, c] of [...Object.entries(cases), ["tokens.issue (publish)", publish] as const]) {
    it(path, async () => {
      const p = path.replace(" (publish)", "");
      const got: Record<string, string> = {};
      const changedWhenDenied: Record<string, object> = {};
      for (const who of WHO) {
        const o = await outcome(who, p, c);
        got[who] = o.got;
        if (o.changed) changedWhenDenied[who] = o.changed;
      }
      expect(got).toEqual(c.expect);
      expect(changedWhenDenied).toEqual({});
    });
  }
});
