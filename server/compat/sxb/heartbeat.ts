// 随心播 `heartbeat` {token, roomnum, role, thumbup}, every 10 s from every member: a hot path,
// answered by the front process. The token is checked in memory; the room through a one-second
// cache of the shared store; the beat goes to the presence buffer.
import type { IncomingMessage, ServerResponse } from "node:http";
import { eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { systemClock, type Clock } from "../../clock";
import { open } from "../../crypto/secretbox";
import { getDb } from "../../db/client";
import { apps, MEMBER_ROLE, rooms } from "../../db/schema";
import { userActorOf } from "../../http/actor";
import type { PresenceBuffer } from "../../presence/buffer";
import { memberSubject } from "../../tokens";
import { revocationSet } from "../../tokens/revocations";
import { readFields, sendAnswer } from "../kit";
import { jsonObject, type FastRoute } from "../../front/fast";
import { codeOf, envelope, num, parse, SXB, SXB_PATHS, sxbError, tokenOnly } from "./common";
import { assertSigned } from "./sign";

const beatBody = tokenOnly.extend({
  roomnum: num,
  role: z.coerce.number().int().min(0).max(2).default(0),
  thumbup: z.coerce.number().int().min(0).max(2_000_000_000).default(0),
});

const BODY = { limit: 16 * 1024, notJson: () => sxbError(SXB.BAD_JSON, "请求json错误") };

export function createSxbHeartbeat(buffer: PresenceBuffer, clock: Clock = systemClock) {
  type RoomOfBeat = { at: number; appId: number; ok: boolean; hostId: string; secret?: string };
  type Entry = { value?: RoomOfBeat; loading?: Promise<RoomOfBeat> };
  const cache = new Map<number, Entry>();
  /**
   * Rooms to read, gathered over one turn of the event loop and read in one query: with beats
   * spread over many rooms, one statement a tick instead of one per room and second.
   */
  type Wanted = Map<number, { now: number; done: (v: RoomOfBeat) => void; fail: (e: unknown) => void }>;
  let batch: Wanted | undefined;
  const MAX_BATCH = 500;
  async function readBatch(wanted: Wanted) {
    try {
      const rows = await getDb()
        .select({
          num: rooms.num,
          appId: rooms.appId,
          status: rooms.status,
          hostId: rooms.hostId,
          sxbSign: apps.sxbSign,
          secretEnc: apps.secretEnc,
        })
        .from(rooms)
        .innerJoin(apps, eq(apps.id, rooms.appId))
        .where(inArray(rooms.num, [...wanted.keys()]));
      const byNum = new Map(rows.map((r) => [r.num, r]));
      for (const [num, w] of wanted) {
        const row = byNum.get(num);
        w.done({
          at: w.now,
          appId: row?.appId ?? 0,
          ok: !!row && row.status !== "ended",
          hostId: row?.hostId ?? "",
          secret: row?.sxbSign ? open(row.secretEnc) : undefined,
        });
      }
    } catch (e) {
      for (const w of wanted.values()) w.fail(e);
    }
  }
  const load = (roomNum: number, entry: Entry, now: number) =>
    (entry.loading ??= new Promise<RoomOfBeat>((done, fail) => {
      if (!batch) {
        const mine: Wanted = new Map();
        batch = mine;
        setImmediate(() => {
          // A batch that filled up was read already.
          if (batch !== mine) return;
          batch = undefined;
          void readBatch(mine);
        });
      }
      batch.set(roomNum, { now, done, fail });
      if (batch.size >= MAX_BATCH) {
        const full = batch;
        batch = undefined;
        void readBatch(full);
      }
    })
      .then((value) => (entry.value = value))
      .finally(() => (entry.loading = undefined)));
  /**
   * The room of a beat if it was read less than a second ago (undefined: roomOf reads it). One
   * still beaten in the second half of its second is read again meanwhile (as server/cache.ts
   * renews its answers), so a busy room's beats never wait for its read.
   */
  function settledRoom(roomNum: number, now: number) {
    const entry = cache.get(roomNum);
    const value = entry?.value;
    if (!value || now - value.at > 1000 || now < value.at) return undefined;
    if (now - value.at >= 500 && !entry.loading) load(roomNum, entry, now).catch(() => undefined);
    return value;
  }
  /**
   * The room of a beat from the shared store, each room read at most once a second per process,
   * and concurrent beats of a room whose value is older share one read (no stampede on a miss).
   */
  async function roomOf(roomNum: number, now: number): Promise<RoomOfBeat> {
    const value = settledRoom(roomNum, now);
    if (value) return value;
    let entry = cache.get(roomNum);
    if (!entry) {
      if (cache.size >= 100_000) cache.clear();
      entry = {};
      cache.set(roomNum, entry);
    }
    return load(roomNum, entry, now);
  }
  /** A beat's fields checked and its holder known (throws the error to answer). */
  function begin(body: Record<string, unknown>) {
    const b = parse(beatBody, body);
    const now = clock.now();
    return { b, now, me: userActorOf(b.token, now) };
  }
  /** A beat whose room is known: checked and recorded (throws the error to answer). */
  function beat(
    { b, now, me }: ReturnType<typeof begin>,
    r: RoomOfBeat,
    signed: { url: string; query: URLSearchParams; body: Record<string, unknown> },
  ) {
    if (!r.ok || (me.appId !== null && r.appId !== me.appId)) throw sxbError(SXB.NO_ROOM, "直播房间不存在");
    // The same anti-tamper rule as every other command of the app, here on the front.
    if (r.secret !== undefined) assertSigned(r.secret, { ...signed, svc: "live", cmd: "heartbeat" }, now);
    // A member removed from the room stays out (the kick revoked them in memory on every instance).
    if (revocationSet.revokedBefore("member", memberSubject(b.roomnum, me.userId)) > 0)
      throw sxbError(SXB.BAD_REQUEST, "您已被移出该房间");
    buffer.record({
      roomNum: b.roomnum,
      appId: r.appId,
      memberId: me.userId,
      // The role is the server's: the host of record, everybody else joins as audience.
      role: me.userId === r.hostId ? MEMBER_ROLE.host : MEMBER_ROLE.viewer,
      seenAt: now.getTime(),
      likes: b.thumbup,
    });
    return envelope(SXB.OK, "");
  }
  const isBeat = (query: URLSearchParams) => query.get("svc") === "live" && query.get("cmd") === "heartbeat";
  const failed = (e: unknown) => {
    const c = codeOf(e);
    return envelope(c.code, c.info);
  };

  async function heartbeat(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<boolean> {
    if (!isBeat(query)) return false;
    try {
      const body = await readFields(req, BODY);
      const started = begin(body);
      const r = await roomOf(started.b.roomnum, started.now.getTime());
      sendAnswer(res, { status: 200, body: beat(started, r, { url: req.url ?? "", query, body }) });
    } catch (e) {
      sendAnswer(res, { status: 200, body: failed(e) });
    }
    return true;
  }
  /**
   * The same beat answered from the connection's bytes (server/front/fast.ts), its error answers
   * too: at once when its room was read less than a second ago, else once it is read. Undefined
   * (nothing done) for the route to answer another command or a body that is not a JSON object.
   */
  const fast =
    (path: string): FastRoute =>
    (text, queryText) => {
      const query = new URLSearchParams(queryText);
      if (!isBeat(query)) return undefined;
      const fields = jsonObject(text);
      if (!fields) return undefined;
      const signed = { url: `${path}?${queryText}`, query, body: fields };
      const answer = (envelope: unknown) => ({ status: 200, json: JSON.stringify(envelope) });
      try {
        const started = begin(fields);
        const r = settledRoom(started.b.roomnum, started.now.getTime());
        if (r) return answer(beat(started, r, signed));
        // Its room is read first (as the route reads it), then the beat answered.
        return roomOf(started.b.roomnum, started.now.getTime())
          .then((room) => beat(started, room, signed))
          .then(answer, (e: unknown) => answer(failed(e)));
      } catch (e) {
        return answer(failed(e));
      }
    };
  return Object.assign(heartbeat, {
    /** The fast path's routes: a beat on each of the paths 随心播 clients call. */
    fast: Object.fromEntries([...SXB_PATHS].map((p) => [`POST ${p}`, fast(p)])),
  });
}
