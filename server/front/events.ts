// One event stream per room, served by the front: WebSocket at /api/rooms/events (Server-Sent
// Events at the same path for players that cannot open sockets), authenticated with the viewer's
// presence token or the console session; guests may read. A socket hears the room's status, figures
// (at most once a second), co-host moves, kicks, chat and notice changes, and sends chat and likes.
// Bounds: frames of at most 4 KiB, text only, a frame rate per socket, a cap on sockets, and a
// socket whose unsent events pile up is dropped with a reconnect hint (it resumes from its last id).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import { and, eq } from "drizzle-orm";
import type { Actor } from "../actor";
import { chatHistory, chatRole, chatSendInput, sendChat, type Chatter } from "../chat";
import type { Clock } from "../clock";
import { getDb, type Db } from "../db/client";
import { MEMBER_ROLE, roomMembers, users } from "../db/schema";
import { env } from "../env";
import { AppError, errorBody, toAppError } from "../errors";
import { EventHub, eventsSince, lastEventOf, type Delivery } from "../events/hub";
import { roomPayload, statusPayload } from "../events/room";
import { reaches, type RoomEvent } from "../events/types";
import { actorFromHeaders } from "../http/actor";
import { readJson, sendError, sendJson } from "../http/io";
import { log } from "../log";
import { roomStats } from "../presence/figures";
import { countsOnline } from "../presence/stats";
import type { PresenceBuffer } from "../presence/buffer";
import type { RoomStats } from "../presence/stats";
import { findPublicRoom, findPublicRoomShared, findRoom, canManageRoom, type RoomRow } from "../rooms";
import { readsAfterAsking } from "../cache";
import { verifyRoomToken, type RoomClaims } from "../tokens";
import { slowGuard } from "./slow";

export const EVENTS_PATH = "/api/rooms/events";
export const CHAT_PATH = "/api/rooms/chat";
const MAX_FRAME = 4096;
const REPLAY_LIMIT = 500;
/**
 * A room's hello reads start at most this often (the first of a quiet room's at once): sockets that
 * open meanwhile share the next. 5,000 viewers arriving in a few seconds cost 40 reads a second,
 * not one each, and none waits more than this for its read to start.
 */
const HELLO_READ_GAP_MS = 25;
const PING_MS = 25_000;
/** Frames a socket may send: a burst, refilled per second. */
const FRAME_BURST = 20;
const FRAMES_PER_S = 5;
const STRIKES_TO_CLOSE = 5;
/** How long a dropped peer that does not read gets to take the close before its connection is cut. */
const CLOSE_GRACE_MS = 2000;
/** Close codes a client acts on (README: "Room events"). */
export const CLOSE = {
  /** A binary frame (only JSON text is spoken). */
  unsupported: 1003,
  /** Frames flooding past the rate, again and again. */
  policy: 1008,
  /** A frame over 4 KiB (ws answers it itself). */
  tooBig: 1009,
  /** The socket did not read its events: reconnect with `since`. */
  slow: 1013,
  /** This member was removed from the room. */
  kicked: 4403,
  /** The room was deleted. */
  gone: 4404,
} as const;

interface Viewer {
  room: RoomRow;
  memberId?: string;
  claims?: RoomClaims;
  actor: Actor;
  manager: boolean;
  guest: boolean;
  nick: string;
  memberRole: number;
  admin: boolean;
}

function roomRefOf(raw: string | null) {
  if (raw && /^\d{1,15}$/.test(raw)) return Number(raw);
  if (raw && /^[0-9a-f-]{36}$/i.test(raw)) return raw.toLowerCase();
  throw new AppError("BAD_REQUEST", "room must be a room id or number", { fields: { room: "invalid" } });
}

/** The member a presence token (or, for players that only hold one, a play token) names. */
function memberClaims(token: string, now: Date): RoomClaims {
  try {
    return verifyRoomToken(token, { scope: "presence" }, now);
  } catch (presenceError) {
    try {
      return verifyRoomToken(token, { scope: "play" }, now);
    } catch {
      throw presenceError;
    }
  }
}

/** Who is at the other end: the presence token says which member; the session says whether they manage the room. */
async function viewerOf(
  db: Db,
  headers: IncomingMessage["headers"],
  query: URLSearchParams,
  now: Date,
): Promise<Viewer> {
  const ref = roomRefOf(query.get("room"));
  const token = query.get("token") || undefined;
  if (token && token.length > 4096) throw new AppError("BAD_REQUEST", "token is too long");
  const claims = token ? memberClaims(token, now) : undefined;
  const actor: Actor = await actorFromHeaders(headers, now).catch((): Actor => ({ kind: "anonymous" }));
  // Up to a second old (shared): attach reads the room again, after the room's newest event.
  let room = await findPublicRoomShared(db, ref);
  if (claims && claims.num !== room.num) throw new AppError("TOKEN_INVALID", "Token is for another room");
  let manager = claims?.mr === MEMBER_ROLE.host && claims.sub === room.hostId;
  let admin = false;
  if (actor.kind === "user") {
    // The session counts only within its own app (findRoom filters by tenant in the query).
    const mine = await findRoom(db, actor, room.num).catch(() => undefined);
    if (mine) {
      room = mine;
      if (canManageRoom(actor, mine)) manager = true;
      admin = actor.role === "admin" && actor.userId !== mine.hostId;
    }
  }
  const memberId =
    claims?.sub ?? (actor.kind === "user" && (manager || actor.appId === room.appId) ? actor.userId : undefined);
  let nick = "";
  let memberRole = claims?.mr ?? MEMBER_ROLE.viewer;
  if (memberId) {
    const [m] = await db
      .select({ kickedAt: roomMembers.kickedAt, nick: roomMembers.nick, role: roomMembers.role })
      .from(roomMembers)
      .where(and(eq(roomMembers.roomNum, room.num), eq(roomMembers.memberId, memberId)));
    if (m?.kickedAt) throw new AppError("FORBIDDEN", "You were removed from this room");
    nick = m?.nick ?? "";
    if (m) memberRole = m.role;
    if (!nick && !memberId.startsWith("guest:")) {
      const [u] = await db
        .select({ nick: users.nick, username: users.username })
        .from(users)
        .where(eq(users.id, memberId));
      nick = u?.nick || u?.username || "";
    }
  }
  return {
    room,
    memberId,
    claims,
    actor,
    manager,
    guest: !memberId || memberId.startsWith("guest:"),
    nick,
    memberRole,
    admin,
  };
}

const chatterOf = (v: Viewer): Chatter | undefined =>
  v.memberId
    ? {
        memberId: v.memberId,
        nick: v.nick,
        role: chatRole(v.room, v.memberId, v.memberRole, v.admin),
        manager: v.manager,
        guest: v.guest,
      }
    : undefined;

/** A connected client, over either transport. */
interface Channel {
  send(body: Record<string, unknown>, id?: number): boolean;
  /** A frame already encoded (JSON in UTF-8), shared by every socket it goes to. */
  sendFrame(json: Buffer, id?: number): boolean;
  /**
   * The room's deliveries for this client, written at once. `whole`: the hub's batch itself, so its
   * encoding is made once and the same bytes go to every client of the room.
   */
  sendDeliveries(items: readonly Delivery[], whole: boolean): boolean;
  close(code: number, reason: string): void;
}

export function createRoomEvents(opts: {
  clock: Clock;
  buffer: PresenceBuffer;
  hub?: EventHub;
  maxSockets?: number;
  /** Sockets held elsewhere for this front (its events worker's): they count against maxSockets. */
  elsewhere?: () => number;
  /** Told the number of open sockets and streams whenever it changes (the events worker reports it). */
  onCount?: (open: number) => void;
}) {
  const e = env();
  const maxSockets = opts.maxSockets ?? e.EVENTS_MAX_SOCKETS;
  const full = () => open + (opts.elsewhere?.() ?? 0) >= maxSockets;
  const maxBuffer = e.EVENTS_MAX_BUFFER_BYTES;
  const { clock } = opts;
  const hub =
    opts.hub ??
    new EventHub(getDb(), {
      pollMs: e.eventsPollMs,
      now: () => clock.now(),
      writesPerS: e.EVENTS_WRITES_PER_S,
      batchMaxMs: e.EVENTS_BATCH_MAX_MS,
    });
  // Started with the first socket: a front nobody listens to reads no events.
  let started: Promise<void> | undefined;
  const hubReady = () =>
    (started ??= hub.start().catch((err: unknown) => {
      started = undefined;
      throw err;
    }));
  let open = 0;
  const count = (d: 1 | -1) => {
    open += d;
    opts.onCount?.(open);
  };
  /** Open SSE streams, each with its way to end. */
  const streams = new Set<() => void>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME, perMessageDeflate: false });

  /**
   * What a hello says of a room, read after its newest event id: key `<num>:<m|v>:<h|r>` (a
   * moderator's history holds removed messages; a resuming socket gets a replay, not history).
   * Shared by the sockets that ask before the read starts (readsAfterAsking); never changed.
   */
  const helloReads = readsAfterAsking(async (key: string) => {
    const [numText, who, kind] = key.split(":");
    const num = Number(numText);
    const db = getDb();
    const newest = await lastEventOf(db, num);
    const now = clock.now();
    const [room, figures, history] = await Promise.all([
      findPublicRoom(db, num).catch((e: unknown) => {
        if (e instanceof AppError && e.code === "NOT_FOUND") return undefined;
        throw e;
      }),
      // Every status's figures but the online count, which the room's status decides below.
      roomStats(db, { num, status: "live" }, now),
      kind === "h" ? chatHistory(db, { num }, { moderator: who === "m" }) : undefined,
    ]);
    if (room && !countsOnline(room.status)) figures.online = 0;
    return { newest, now, room, figures, history };
  }, HELLO_READ_GAP_MS);

  /** Sends hello (state, history or replay) and then the room's events, in order and once. */
  async function attach(db: Db, v: Viewer, since: number | undefined, ch: Channel) {
    await hubReady();
    const queued: Delivery[] = [];
    let ready = false;
    // Events up to here were sent with hello (history) or the replay; the hub brings each later one
    // once, late commits of lower ids included.
    let boundary = since ?? 0;
    const mine = (d: Delivery) => (d.ev ? d.ev.id > boundary && reaches(d.ev.audience, v.memberId, v.manager) : true);
    const deliver = (batch: readonly Delivery[], whole: boolean) => {
      const items = batch.filter(mine);
      const all = whole && items.length === batch.length;
      if (!items.length || !ch.sendDeliveries(all ? batch : items, all)) return;
      for (const { ev } of items) {
        if (ev?.type === "kicked" && ev.payload.memberId === v.memberId)
          ch.close(CLOSE.kicked, "removed from the room");
        if (ev?.type === "deleted") ch.close(CLOSE.gone, "the room was deleted");
      }
    };
    const stop = hub.listen(v.room.num, {
      deliver: (batch) => (ready ? deliver(batch, true) : queued.push(...batch.filter((d) => d.ev))),
    });
    try {
      // The newest event first, everything hello says after it: each event up to `newest` is then in
      // what hello says (its state, history, mute), and each later one comes from the hub. Read the
      // other way round (the room as the upgrade found it, up to a second old from a shared read, or
      // older while the hub started), a change committed in between was in neither: a viewer kept
      // "starting soon" after the stream was up until the page's next poll. Sockets of a room that
      // ask at about the same time share one such read (helloReads), started after they asked.
      const { newest, now, room, figures, history } = await helloReads(
        `${v.room.num}:${v.manager ? "m" : "v"}:${since === undefined ? "h" : "r"}`,
      );
      // The replay and the member's own row, read after `newest` too.
      const [replay, member] = await Promise.all([
        since !== undefined ? eventsSince(db, v.room.num, since, REPLAY_LIMIT + 1) : undefined,
        v.memberId
          ? db
              .select({ until: roomMembers.mutedUntil, kickedAt: roomMembers.kickedAt })
              .from(roomMembers)
              .where(and(eq(roomMembers.roomNum, v.room.num), eq(roomMembers.memberId, v.memberId)))
              .then((rows) => rows[0])
          : undefined,
      ]);
      if (!room) {
        // Deleted since the upgrade looked: its deleted event is at or before `newest`.
        ch.close(CLOSE.gone, "the room was deleted");
        return stop;
      }
      v.room = room;
      if (member?.kickedAt) {
        // Kicked since the upgrade looked: its kick event is at or before `newest`.
        ch.close(CLOSE.kicked, "removed from the room");
        return stop;
      }
      const muted = member?.until;
      const chatter = chatterOf(v);
      ch.send({
        type: "hello",
        room: { id: v.room.id, num: v.room.num, hostId: v.room.hostId, ...roomPayload(v.room) },
        me: {
          memberId: v.memberId ?? null,
          manager: v.manager,
          guest: v.guest,
          // An ended room's chat is closed (sendChat refuses it).
          canChat: !!chatter && (!v.guest || v.room.guestChat) && v.room.status !== "ended",
          canLike: !!v.claims,
          mutedUntil: muted && muted > now ? muted.getTime() : null,
        },
        ...statusPayload(v.room),
        figures,
        lastId: newest,
        ...(history ? { history } : {}),
        // Too much was missed to replay: the client reloads its state from hello (history comes next time).
        ...(replay && replay.length > REPLAY_LIMIT ? { reset: true } : {}),
      });
      const replayed = replay?.slice(0, REPLAY_LIMIT) ?? [];
      if (replayed.length)
        deliver(
          replayed.map((ev) => ({ ev })),
          false,
        );
      if (since === undefined || (replay && replay.length > REPLAY_LIMIT)) boundary = Math.max(boundary, newest);
      else boundary = Math.max(boundary, replayed.at(-1)?.id ?? 0);
      ready = true;
      // Brought by the hub while hello was being made: what the replay did not already send.
      const seen = new Set(replayed.map((ev) => ev.id));
      const late = queued.filter((d) => !seen.has(d.ev!.id));
      queued.length = 0;
      if (late.length) deliver(late, false);
    } catch (err) {
      stop();
      throw err;
    }
    return stop;
  }

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, query: URLSearchParams) {
    socket.on("error", () => socket.destroy());
    const refuse = (err: unknown) => {
      const e2 = toAppError(err);
      const body = JSON.stringify(errorBody(e2));
      socket.end(
        `HTTP/1.1 ${e2.httpStatus} ${e2.code}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    };
    if (full()) return refuse(new AppError("UNAVAILABLE", "Too many event sockets; retry in a moment"));
    const db = getDb();
    let since: number | undefined;
    try {
      since = sinceOf(query.get("since"));
    } catch (err) {
      return refuse(err);
    }
    count(1);
    let counted = true;
    const release = () => {
      if (counted) count(-1);
      counted = false;
    };
    socket.once("close", release);
    viewerOf(db, req.headers, query, clock.now())
      .then((v) => {
        if (socket.destroyed) return release();
        wss.handleUpgrade(req, socket, head, (ws) => serveSocket(db, v, since, ws, socket, release));
      })
      .catch((err: unknown) => {
        release();
        refuse(err);
      });
  }

  function serveSocket(db: Db, v: Viewer, since: number | undefined, ws: WebSocket, raw: Duplex, release: () => void) {
    let stop: (() => void) | undefined;
    let closed = false;
    let alive = true;
    let slowTimer: NodeJS.Timeout | undefined;
    // It does not read: drop it rather than buffer without bound; it resumes from its last id.
    const slow = slowGuard(
      () => ws.bufferedAmount,
      maxBuffer,
      () => ch.close(CLOSE.slow, "slow consumer: reconnect with since"),
    );
    const writable = () => !closed && ws.readyState === WebSocket.OPEN && slow.check();
    const ch: Channel = {
      send: (body, id) => ch.sendFrame(encode(id ? { id, ...body } : body)),
      sendFrame(json) {
        if (!writable()) return false;
        ws.send(json, { binary: false });
        slow.wrote();
        return true;
      },
      // Whole frames, already made, straight to the connection: one write for the batch (a server's
      // frames are not masked, so the same bytes serve every socket; ws writes whole frames too).
      sendDeliveries(items, whole) {
        if (!writable()) return false;
        raw.write(whole ? wsBatch(items) : Buffer.concat(items.map(wsFrameOf)));
        slow.wrote();
        return true;
      },
      close(code, reason) {
        if (closed) return;
        closed = true;
        slow.stop();
        ws.close(code, reason);
        // A peer that does not read will not answer the close either.
        slowTimer = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
        slowTimer.unref();
      },
    };
    const ping = setInterval(() => {
      if (!alive) return ws.terminate();
      alive = false;
      ws.ping();
    }, PING_MS);
    ping.unref();
    ws.on("pong", () => (alive = true));
    ws.on("error", () => ws.terminate());
    ws.on("close", () => {
      closed = true;
      clearInterval(ping);
      slow.stop();
      if (slowTimer) clearTimeout(slowTimer);
      stop?.();
      release();
    });
    let tokens = FRAME_BURST;
    let refilled = Date.now();
    let strikes = 0;
    let busy = Promise.resolve();
    ws.on("message", (data: RawData, isBinary: boolean) => {
      if (isBinary) return ch.close(CLOSE.unsupported, "binary frames are not accepted; send JSON text");
      const t = Date.now();
      tokens = Math.min(FRAME_BURST, tokens + ((t - refilled) / 1000) * FRAMES_PER_S);
      refilled = t;
      if (tokens < 1) {
        if (++strikes >= STRIKES_TO_CLOSE) return ch.close(CLOSE.policy, "too many frames");
        ch.send({ type: "error", code: "TOO_MANY_REQUESTS", message: "Too many frames; slow down" });
        return;
      }
      tokens--;
      // One frame at a time per socket: a flood never runs queries in parallel.
      busy = busy.then(() => onFrame(db, v, ch, data)).catch(() => undefined);
    });
    attach(db, v, since, ch)
      .then((s) => {
        stop = s;
        if (closed) s();
      })
      .catch((err: unknown) => {
        ch.send({ type: "error", ...errorBody(toAppError(err)).error });
        ch.close(1011, "could not start");
      });
  }

  async function onFrame(db: Db, v: Viewer, ch: Channel, data: RawData) {
    let frame: { type?: unknown; text?: unknown; nick?: unknown; total?: unknown; ref?: unknown };
    try {
      frame = JSON.parse(rawText(data)) as typeof frame;
      if (!frame || typeof frame !== "object" || Array.isArray(frame)) throw new Error("not an object");
    } catch {
      ch.send({ type: "error", code: "BAD_REQUEST", message: "A frame is a JSON object with a type" });
      return;
    }
    const ref = typeof frame.ref === "string" || typeof frame.ref === "number" ? { ref: frame.ref } : {};
    try {
      if (frame.type === "ping") return void ch.send({ type: "pong", ...ref });
      if (frame.type === "chat") {
        const message = await chatFrom(db, v, frame);
        return void ch.send({ type: "sent", id: message.id, ...ref });
      }
      if (frame.type === "like") {
        if (!v.claims) throw new AppError("UNAUTHENTICATED", "Join the room to like");
        const total = Number(frame.total);
        if (!Number.isInteger(total) || total < 0 || total > 2_000_000_000)
          throw new AppError("BAD_REQUEST", "total is your running like count", { fields: { total: "invalid" } });
        // Coalesced like heartbeats (running totals merged with MAX, bounded per second of presence).
        opts.buffer.record({
          roomNum: v.room.num,
          appId: v.room.appId,
          memberId: v.claims.sub,
          role: v.claims.mr ?? 0,
          seenAt: clock.now().getTime(),
          likes: total,
        });
        return void ch.send({ type: "liked", total, ...ref });
      }
      throw new AppError("BAD_REQUEST", "Unknown frame type (chat, like, ping)", { fields: { type: "unknown" } });
    } catch (err) {
      const e2 = toAppError(err);
      if (e2.code === "INTERNAL") log.warn("room event frame failed", { error: (err as Error).message });
      ch.send({ type: "error", ...errorBody(e2).error, ...ref });
    }
  }

  async function chatFrom(db: Db, v: Viewer, body: { text?: unknown; nick?: unknown }) {
    const chatter = chatterOf(v);
    if (!chatter) throw new AppError("UNAUTHENTICATED", "Join the room or sign in to chat");
    const p = chatSendInput.safeParse({ text: body.text, nick: body.nick });
    if (!p.success) throw new AppError("BAD_REQUEST", "text is the message", { fields: { text: "invalid" } });
    // The room as it is now (slow mode, guests, ended), shared for a second per process.
    const room = await findPublicRoom(db, v.room.num);
    return sendChat(db, room, chatter, p.data, clock.now());
  }

  /** SSE: the same stream for players that cannot open sockets (Last-Event-ID resumes). */
  function sse(req: IncomingMessage, res: ServerResponse, query: URLSearchParams) {
    if (full()) {
      res.setHeader("retry-after", "1");
      return sendError(res, new AppError("UNAVAILABLE", "Too many event streams; retry in a moment"));
    }
    const db = getDb();
    const lastHeader = req.headers["last-event-id"];
    const since = sinceOf(query.get("since") ?? (typeof lastHeader === "string" ? lastHeader : null));
    count(1);
    let stop: (() => void) | undefined;
    let closed = false;
    // Cleared wherever the stream ends (a write after end would be an unhandled error).
    const ping = setInterval(() => res.write(": ping\n\n"), PING_MS);
    ping.unref();
    const end = () => ch.close(1001, "server going away");
    streams.add(end);
    res.on("close", () => {
      closed = true;
      count(-1);
      streams.delete(end);
      clearInterval(ping);
      slow.stop();
      stop?.();
    });
    const slow = slowGuard(
      () => res.writableLength,
      maxBuffer,
      () => ch.close(CLOSE.slow, "slow consumer"),
    );
    const writable = () => !closed && slow.check();
    const ch: Channel = {
      send: (body, id) => ch.sendFrame(encode(id ? { id, ...body } : body), id),
      sendFrame(json, id) {
        if (!writable()) return false;
        res.write(sseFrame(json, id));
        slow.wrote();
        return true;
      },
      sendDeliveries(items, whole) {
        if (!writable()) return false;
        res.write(whole ? sseBatch(items) : Buffer.concat(items.map(sseFrameOf)));
        slow.wrote();
        return true;
      },
      close(code, reason) {
        if (closed) return;
        closed = true;
        slow.stop();
        clearInterval(ping);
        res.write(`event: close\ndata: ${JSON.stringify({ code, reason })}\n\n`);
        res.end();
        // A peer that does not read never takes the end either.
        setTimeout(() => res.writableFinished || res.destroy(), CLOSE_GRACE_MS).unref();
      },
    };
    viewerOf(db, req.headers, query, clock.now())
      .then(async (v) => {
        if (closed) return;
        res.writeHead(200, {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-store",
          "x-accel-buffering": "no",
        });
        res.write("retry: 2000\n\n");
        req.socket.setTimeout(0);
        stop = await attach(db, v, since, ch);
        if (closed) stop();
      })
      .catch((err: unknown) => {
        if (!res.headersSent) sendError(res, err);
        else ch.close(1011, "could not start");
      });
  }

  /** Sends a chat message without a socket (the SSE fallback): the same rules as a socket's frame. */
  async function postChat(req: IncomingMessage, res: ServerResponse) {
    const body = (await readJson(req, 16 * 1024)) as Record<string, unknown>;
    if (!body || typeof body !== "object" || Array.isArray(body))
      throw new AppError("BAD_REQUEST", "Body must be a JSON object");
    const q = new URLSearchParams();
    if (typeof body.room === "string" || typeof body.room === "number") q.set("room", String(body.room));
    if (typeof body.token === "string") q.set("token", body.token);
    const db = getDb();
    const v = await viewerOf(db, req.headers, q, clock.now());
    const message = await chatFrom(db, v, body);
    sendJson(res, 200, { ok: true, id: message.id });
  }

  return {
    upgrade,
    full,
    sse,
    postChat,
    get open() {
      return open;
    },
    hub,
    /** Going away: sockets are closed with 1001 (clients reconnect elsewhere and resume), streams end. */
    close() {
      hub.stop();
      for (const c of wss.clients) c.close(1001, "server going away: reconnect");
      for (const end of streams) end();
      wss.close();
    },
  };
}

const encode = (body: unknown) => Buffer.from(JSON.stringify(body));
// An event goes to every socket of its room in the same words: encoded once, not once per socket
// (5,000 sockets in a room made 5,000 JSON.stringify calls per chat message).
const encodedEvents = new WeakMap<RoomEvent, Buffer>();
function encodedEvent(ev: RoomEvent) {
  let b = encodedEvents.get(ev);
  if (!b) encodedEvents.set(ev, (b = encode({ id: ev.id, type: ev.type, ...ev.payload, at: ev.at })));
  return b;
}
const encodedFiguresOf = new WeakMap<RoomStats, Buffer>();
function encodedFigures(f: RoomStats) {
  let b = encodedFiguresOf.get(f);
  if (!b) encodedFiguresOf.set(f, (b = encode({ type: "figures", ...f })));
  return b;
}
const jsonOf = (d: Delivery) => (d.ev ? encodedEvent(d.ev) : encodedFigures(d.figures));

/** A WebSocket text frame as a server sends it (final, unmasked) around `payload`. */
export function wsTextFrame(payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + n);
  frame[0] = 0x81;
  if (n < 126) frame[1] = n;
  else if (n < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(n), 2);
  }
  payload.copy(frame, head);
  return frame;
}
const sseFrame = (json: Buffer, id?: number) =>
  Buffer.concat([Buffer.from(id ? `id: ${id}\ndata: ` : "data: "), json, Buffer.from("\n\n")]);

/** Per delivery and per batch, each transport's bytes are made once (cached while the objects live). */
function cached<K extends object>(cache: WeakMap<K, Buffer>, key: K, make: () => Buffer) {
  let b = cache.get(key);
  if (!b) cache.set(key, (b = make()));
  return b;
}
const wsFrames = new WeakMap<object, Buffer>();
const sseFrames = new WeakMap<object, Buffer>();
const wsBatches = new WeakMap<readonly Delivery[], Buffer>();
const sseBatches = new WeakMap<readonly Delivery[], Buffer>();
const wsFrameOf = (d: Delivery) => cached(wsFrames, d.ev ?? d.figures, () => wsTextFrame(jsonOf(d)));
const sseFrameOf = (d: Delivery) => cached(sseFrames, d.ev ?? d.figures, () => sseFrame(jsonOf(d), d.ev?.id));
const wsBatch = (items: readonly Delivery[]) =>
  cached(wsBatches, items, () => (items.length === 1 ? wsFrameOf(items[0]!) : Buffer.concat(items.map(wsFrameOf))));
const sseBatch = (items: readonly Delivery[]) =>
  cached(sseBatches, items, () => (items.length === 1 ? sseFrameOf(items[0]!) : Buffer.concat(items.map(sseFrameOf))));

function sinceOf(raw: string | null): number | undefined {
  if (raw === null || raw === "") return undefined;
  if (!/^\d{1,15}$/.test(raw))
    throw new AppError("BAD_REQUEST", "since is an event id", { fields: { since: "invalid" } });
  return Number(raw);
}

/** A text frame's bytes as a string (ws hands a Buffer, or fragments as an array of them). */
function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data as ArrayBuffer).toString("utf8");
}
