// Test fixtures over the real database: apps and users of every role, callers with any actor.
import { randomBytes, randomUUID } from "node:crypto";
import { encode } from "next-auth/jwt";
import { nextAuthSecret } from "../server/crypto/keys";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Actor, Ctx } from "../server/actor";
import { ManualClock, systemClock, type Clock } from "../server/clock";
import { getDb } from "../server/db/client";
import { createApp } from "../server/apps";
import { createUser, ensureFirstAdmin, login, openSession } from "../server/accounts";
import {
  apps,
  auditLog,
  chatMessages,
  micSessions,
  mixTasks,
  recordings,
  revocations,
  roomMembers,
  rooms,
  sessions,
  streamSources,
  users,
  webhookDeliveries,
  webhookEndpoints,
} from "../server/db/schema";
import { and, asc, eq, inArray, isNull, or, sql } from "drizzle-orm";
import { createMediaRoutes } from "../server/front/media";
import { createCallerFactory } from "../server/trpc/init";
import { appRouter } from "../server/trpc/router";

/** Serves `handle` on a free loopback port: the base URL, the port and a stop. */
export async function serve(handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = http.createServer(handle);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return { base: `http://127.0.0.1:${port}`, port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** A handler for a router that answers only its own paths (vendor adapters, media routes): 404 otherwise. */
/**
 * A POST on a connection of its own, kept alive as clients keep theirs, then closed: the front's
 * fast path (server/front/fast.ts) reads a connection until a request comes that it does not
 * answer, and node:http reads the rest of it, so each request here is a connection's first.
 */
export async function postAlone(url: string, body: string, headers: Record<string, string> = {}) {
  const sockets: Socket[] = [];
  const r = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = http.request(url, {
      method: "POST",
      agent: false,
      // node's own default without an agent is "close", which the fast path leaves to node:http.
      // A chunked body ("transfer-encoding" given) is one the fast path leaves to node:http.
      headers: {
        ...(headers["transfer-encoding"] ? {} : { "content-length": String(Buffer.byteLength(body)) }),
        connection: "keep-alive",
        ...headers,
      },
    });
    req.on("socket", (s) => sockets.push(s));
    req.on("response", resolve).on("error", reject).end(body);
  });
  let text = "";
  r.setEncoding("utf8");
  for await (const chunk of r) text += chunk as string;
  for (const s of sockets) s.destroy();
  return { status: r.statusCode ?? 0, text, headers: Object.entries(r.headers).filter(([k]) => k !== "date") };
}

export const orNotFound =
  (...routes: Array<(req: IncomingMessage, res: ServerResponse) => boolean>) =>
  (req: IncomingMessage, res: ServerResponse) => {
    if (!routes.some((route) => route(req, res))) res.writeHead(404).end();
  };

/** The front's media routes (/live, /vod, /hooks) as a handler, as the front mounts them. */
export function mediaRoutes(clock: Clock = systemClock) {
  const route = createMediaRoutes(clock);
  return (req: IncomingMessage, res: ServerResponse) => {
    const [path = "", qs = ""] = (req.url ?? "").split("?");
    if (!route(req, res, path, new URLSearchParams(qs))) res.writeHead(404).end();
  };
}

/**
 * Rate limits count in fixed windows aligned to the clock (server/limits): a test that fills a
 * window must not straddle the boundary, where the count starts again. Waits for the next window
 * when fewer than `needS` seconds of this one are left.
 */
export async function awayFromWindowEdge(windowS: number, needS = 20) {
  const leftMs = windowS * 1000 - (Date.now() % (windowS * 1000));
  if (leftMs < needS * 1000) await new Promise((r) => setTimeout(r, leftMs + 50));
}

export const uniq = (p: string) => `${p}_${randomBytes(5).toString("hex")}`;
export const PASSWORD = "correct-horse-9";

export function ctxOf(actor: Actor, clock: Clock = systemClock): Ctx {
  return { db: getDb(), clock, actor };
}
const factory = createCallerFactory(appRouter);
export const callerOf = (actor: Actor, clock: Clock = systemClock) => factory(ctxOf(actor, clock));

export async function platformAdmin(): Promise<Actor> {
  // Test files run in parallel: a second creator loses the unique-username race, which is fine.
  await ensureFirstAdmin(getDb(), systemClock, "root_admin", PASSWORD).catch(() => undefined);
  const u = (
    await getDb()
      .select()
      .from(users)
      .where(and(eq(users.role, "admin"), isNull(users.appId)))
      .limit(1)
  )[0]!;
  return { kind: "user", userId: u.id, role: "admin", appId: null };
}

export type UserActor = Extract<Actor, { kind: "user" }> & { username: string };

/** An app with an admin, two hosts and two viewers. */
export async function makeTenant(clock: Clock = systemClock) {
  const root = await platformAdmin();
  const created = await createApp(ctxOf(root, clock), {
    name: uniq("app"),
    signScheme: "onair",
    sxbSign: false,
    signupRole: "viewer",
  });
  const appId = created.app.id;
  const mk = async (role: "admin" | "host" | "viewer"): Promise<UserActor> => {
    const username = uniq(role);
    const u = await createUser(ctxOf(root, clock), { appId, username, password: PASSWORD, role });
    return { kind: "user", userId: u.id, role, appId, username };
  };
  const [admin, host, host2, viewer, viewer2] = await Promise.all([
    mk("admin"),
    mk("host"),
    mk("host"),
    mk("viewer"),
    mk("viewer"),
  ]);
  return {
    root,
    app: created.app,
    accessKey: created.accessKey,
    secret: created.secret,
    admin,
    host,
    host2,
    viewer,
    viewer2,
  };
}
export type Tenant = Awaited<ReturnType<typeof makeTenant>>;

/** Deletes a tenant's webhook endpoints with their deliveries (as its admin), so no later worker sends them. */
export async function removeWebhookEndpoints(t: Tenant) {
  const eps = await getDb()
    .select({ id: webhookEndpoints.id })
    .from(webhookEndpoints)
    .where(eq(webhookEndpoints.appId, t.app.id));
  for (const e of eps) await callerOf(t.admin).webhooks.delete({ id: e.id });
}

export { ManualClock };

/** Asserts a promise rejects with a domain/tRPC error of this app code. */
export async function rejectsWith(p: Promise<unknown>, appCode: string) {
  try {
    await p;
  } catch (e) {
    const err = e as { cause?: { code?: string }; code?: string };
    const code = err.cause?.code ?? err.code;
    if (code !== appCode) throw new Error(`expected ${appCode}, got ${code}: ${(e as Error).message}`, { cause: e });
    return e;
  }
  throw new Error(`expected ${appCode}, but it succeeded`);
}

/**
 * Every row the given apps own, table by table, each row as JSON, in primary-key order: the app rows,
 * their users and those users' sessions, rooms with their members, co-host sessions, samples and mixes,
 * recordings, audit rows of the apps or written by their users, and revocations of those users, sessions
 * and room members. Rows of other tenants (other test files run in parallel) are left out, so two
 * snapshots differ only if something changed in these apps.
 */
export async function tenantSnapshot(appIds: number[]): Promise<Record<string, string[]>> {
  const db = getDb();
  const userIds = db.select({ id: users.id }).from(users).where(inArray(users.appId, appIds));
  const sessionIds = db.select({ id: sessions.id }).from(sessions).where(inArray(sessions.userId, userIds));
  const roomNums = db.select({ num: rooms.num }).from(rooms).where(inArray(rooms.appId, appIds));
  const tables = {
    apps: db.select().from(apps).where(inArray(apps.id, appIds)).orderBy(asc(apps.id)),
    users: db.select().from(users).where(inArray(users.appId, appIds)).orderBy(asc(users.id)),
    sessions: db.select().from(sessions).where(inArray(sessions.userId, userIds)).orderBy(asc(sessions.id)),
    rooms: db.select().from(rooms).where(inArray(rooms.appId, appIds)).orderBy(asc(rooms.num)),
    roomMembers: db
      .select()
      .from(roomMembers)
      .where(or(inArray(roomMembers.appId, appIds), inArray(roomMembers.roomNum, roomNums)))
      .orderBy(asc(roomMembers.roomNum), asc(roomMembers.memberId)),
    micSessions: db
      .select()
      .from(micSessions)
      .where(or(inArray(micSessions.appId, appIds), inArray(micSessions.roomNum, roomNums)))
      .orderBy(asc(micSessions.id)),
    // room_samples are left out: the audience sampler of any server other test files run on this
    // database (the two-instance test's) writes them for every live room every 10 s, and no call
    // writes them itself.
    mixTasks: db
      .select()
      .from(mixTasks)
      .where(or(inArray(mixTasks.appId, appIds), inArray(mixTasks.roomNum, roomNums)))
      .orderBy(asc(mixTasks.id)),
    chatMessages: db
      .select()
      .from(chatMessages)
      .where(or(inArray(chatMessages.appId, appIds), inArray(chatMessages.roomNum, roomNums)))
      .orderBy(asc(chatMessages.id)),
    recordings: db
      .select()
      .from(recordings)
      .where(or(inArray(recordings.appId, appIds), inArray(recordings.roomNum, roomNums)))
      .orderBy(asc(recordings.id)),
    streamSources: db
      .select()
      .from(streamSources)
      .where(or(inArray(streamSources.appId, appIds), inArray(streamSources.roomNum, roomNums)))
      .orderBy(asc(streamSources.id)),
    webhookEndpoints: db
      .select()
      .from(webhookEndpoints)
      .where(inArray(webhookEndpoints.appId, appIds))
      .orderBy(asc(webhookEndpoints.id)),
    webhookDeliveries: db
      .select()
      .from(webhookDeliveries)
      .where(inArray(webhookDeliveries.appId, appIds))
      .orderBy(asc(webhookDeliveries.id)),
    auditLog: db
      .select()
      .from(auditLog)
      .where(or(inArray(auditLog.appId, appIds), inArray(auditLog.actorId, userIds)))
      .orderBy(asc(auditLog.id)),
    revocations: db
      .select()
      .from(revocations)
      .where(
        or(
          and(eq(revocations.kind, "user"), inArray(revocations.subject, userIds)),
          and(eq(revocations.kind, "session"), inArray(revocations.subject, sessionIds)),
          and(eq(revocations.kind, "member"), inArray(sql`substring_index(${revocations.subject}, ':', 1)`, roomNums)),
        ),
      )
      .orderBy(asc(revocations.id)),
  };
  const rows = await Promise.all(Object.values(tables));
  return Object.fromEntries(
    Object.keys(tables).map((name, i) => [name, (rows[i] as object[]).map((r) => JSON.stringify(r))]),
  );
}

/** The rows one snapshot has and the other lacks, by table: `-` before only, `+` after only. */
export function snapshotChanges(before: Record<string, string[]>, after: Record<string, string[]>) {
  const changes: Record<string, string[]> = {};
  for (const table of Object.keys(before)) {
    const was = new Set(before[table]);
    const is = new Set(after[table]);
    const diff = [
      ...before[table]!.filter((r) => !is.has(r)).map((r) => `- ${r}`),
      ...after[table]!.filter((r) => !was.has(r)).map((r) => `+ ${r}`),
    ];
    if (diff.length > 0) changes[table] = diff;
    else if (before[table]!.join("\n") !== after[table]!.join("\n")) changes[table] = ["rows reordered"];
  }
  return changes;
}

/** An `Authorization` header's value for `username` signed in (PASSWORD) on a device of its own. */
export async function signedInBearer(username: string, deviceId: string) {
  const s = await login(getDb(), systemClock, { username, password: PASSWORD, deviceId, deviceType: "other" });
  return `Bearer ${s.accessToken}`;
}

/**
 * A console session cookie's value for a user, as next-auth sets it at sign-in (a session opened
 * for it, as the console's sign-in opens one): `sid` is that session's id.
 */
export async function consoleSessionToken(u: UserActor, maxAgeS = 3600) {
  const db = getDb();
  const [row] = await db.select().from(users).where(eq(users.id, u.userId));
  const sid = (await openSession(db, systemClock, row!, `console-${randomUUID()}`, "web")).refreshToken.split(".")[0]!;
  const token = await encode({
    token: { uid: u.userId, role: u.role, appId: u.appId, sid, ims: Date.now() },
    secret: nextAuthSecret(),
    maxAge: maxAgeS,
  });
  return { token, sid };
}
